//! One module per subcommand; each has an `Args` struct and a `run` function returning whether
//! everything succeeded.

pub mod demo;
pub mod eval;
pub mod features;
pub mod identify;
pub mod presets;
pub mod reproduce;
pub mod train;
