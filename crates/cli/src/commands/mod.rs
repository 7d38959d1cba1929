//! One module per subcommand; each has an `Args` struct and a `run` function returning whether
//! everything succeeded.

pub mod features;
pub mod presets;
