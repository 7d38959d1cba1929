//! Attention modules inserted after the last conv block: the FGNL module (Kuo et al., AAAI 2021)
//! with its Gaussian filter, MoSE and SE heads, and the standard non-local block (Wang et al.,
//! CVPR 2018).

pub mod fgnl;
pub mod gaussian;
pub mod mose;
pub mod nonlocal;
pub mod se;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

pub use fgnl::{
    Excitation, FgnlBlock, FgnlConfig, FgnlTrace, KeySources, Reweighting, Smoothing, SoftmaxOver,
};
pub use gaussian::{GaussianSmoothing, GaussianSmoothingConfig};
pub use mose::{MoseConfig, MoseHead};
pub use nonlocal::{NonLocalBlock, NonLocalConfig, Pairwise};
pub use se::{SeConfig, SeHead};

/// Which attention module follows the last conv block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Attention {
    /// None (CRNN, CRNNM, and the FGNL backbone control).
    Off,
    /// Wang et al.'s non-local block on the last block (CRNN_NL).
    NonLocal(NonLocalConfig),
    /// The FGNL module on the last block, keys and values from the last one or two blocks.
    Fgnl(FgnlConfig),
}

impl Attention {
    /// Builds the module for `channels` channels (`None` for [`Attention::Off`]).
    pub fn init(&self, channels: usize, device: &Device) -> Option<AttentionBlock> {
        match self {
            Attention::Off => None,
            Attention::NonLocal(config) => {
                Some(AttentionBlock::NonLocal(config.init(channels, device)))
            }
            Attention::Fgnl(config) => Some(AttentionBlock::Fgnl(config.init(channels, device))),
        }
    }

    /// Whether the module reads the block before the last one (X3).
    pub fn needs_previous_block(&self) -> bool {
        matches!(self, Attention::Fgnl(c) if c.key_sources == KeySources::CurrentAndPrevious)
    }
}

/// The attention module of a model.
// One instance per model, so the size difference between variants costs nothing; burn's
// `Module` derive does not look through a `Box`.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum AttentionBlock {
    /// Non-local block.
    NonLocal(NonLocalBlock),
    /// FGNL module.
    Fgnl(FgnlBlock),
}

impl AttentionBlock {
    /// Applies the module to the last block output X4 (and X3 for the full FGNL).
    ///
    /// # Shapes
    /// - `current`: `[batch, C, h4, w4]`; `previous`: `[batch, C, h3, w3]`
    /// - output: `[batch, C, h4, w4]`
    pub fn forward_traced(
        &self,
        current: Tensor<4>,
        previous: Option<Tensor<4>>,
        trace: Option<&mut FgnlTrace>,
    ) -> Tensor<4> {
        match self {
            AttentionBlock::NonLocal(block) => block.forward(current),
            AttentionBlock::Fgnl(block) => block.forward_traced(current, previous, trace),
        }
    }
}
