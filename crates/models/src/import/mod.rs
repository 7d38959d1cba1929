//! Weight import from other frameworks.

pub mod keras;
