//! Keras-exact building blocks shared by every model: the input batch-norm over the mel axis,
//! the convolutional block, the Keras GRU and the Keras default initialisers.

pub mod conv_block;
pub mod gru;
pub mod input_norm;
pub mod keras_init;

pub use conv_block::{ConvBlock, ConvBlockConfig};
pub use gru::{KerasGru, KerasGruConfig};
pub use input_norm::{InputNorm, InputNormConfig};

/// Keras' BatchNormalization epsilon (`1e-3`; burn's default is `1e-5`).
pub const KERAS_BN_EPSILON: f64 = 1e-3;

/// burn's momentum for Keras' BatchNormalization momentum of 0.99.
///
/// Keras updates `moving = 0.99 * moving + 0.01 * batch`; burn updates
/// `running = (1 - m) * running + m * batch`, so `m = 1 - 0.99`.
pub const KERAS_BN_MOMENTUM_BURN: f64 = 0.01;
