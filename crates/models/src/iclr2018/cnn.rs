//! The vanilla convolutional block of the ICLR-2018 CNNs and the two CNN presets.
//!
//! Anonymous (2018), "Learning audio features for singer identification and embedding", ICLR
//! 2018 submission, Sec. 2.1 and Fig. 2(a): the vanilla block is `y = g(f(x))`, two 5 x 5
//! convolutions (Sec. 3.3), each `Conv -> ReLU -> BN` ([`ConvUnit`]). Table 1 rows "CNN":
//! filters `64, 128` (3 convolution layers: one layer and one block) and
//! `16, 32, 32, 32, 64, 64, 64` (13 layers: one layer and six blocks).

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::conv_unit::ConvUnit;
use super::network::{Block, Iclr2018Config, Iclr2018Kind, Stage};
use crate::aggregation::Aggregation;

/// Fig. 2(a): two convolutions, `y = g(f(x))`.
#[derive(Module, Debug)]
pub struct VanillaBlock {
    /// `f`: `channels_in -> channels_out`.
    pub f: ConvUnit,
    /// `g`: `channels_out -> channels_out`.
    pub g: ConvUnit,
}

impl VanillaBlock {
    /// Builds the block with `kernel_size` x `kernel_size` convolutions.
    pub fn init(channels: [usize; 2], kernel_size: usize, device: &Device) -> Self {
        VanillaBlock {
            f: ConvUnit::init(channels, kernel_size, 1, device),
            g: ConvUnit::init([channels[1]; 2], kernel_size, 1, device),
        }
    }

    /// # Shapes
    /// - `x`: `[batch, channels_in, mels, frames]`
    /// - output: `[batch, channels_out, mels, frames]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.g.forward(self.f.forward(x))
    }
}

impl Iclr2018Config {
    /// Table 1's shallow CNN (`64, 128`): a 64-filter 10 x 10 layer and one 128-filter block;
    /// feed-forward attention, its best test accuracy in Table 1 (0.748).
    pub fn cnn(n_classes: usize) -> Self {
        Self::new(
            Iclr2018Kind::Cnn,
            n_classes,
            64,
            vec![Stage::new(128, 1)],
            Block::Vanilla,
            Aggregation::Attention,
        )
    }

    /// Table 1's deep CNN (`16, 32, 32, 32, 64, 64, 64`): a 16-filter layer and two stages of
    /// three blocks; average aggregation, its best test accuracy in Table 1 (0.708).
    pub fn cnn_deep(n_classes: usize) -> Self {
        Self::new(
            Iclr2018Kind::CnnDeep,
            n_classes,
            16,
            vec![Stage::new(32, 3), Stage::new(64, 3)],
            Block::Vanilla,
            Aggregation::Average,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_keeps_the_size_and_changes_channels() {
        let device = Device::default();
        let block = VanillaBlock::init([3, 8], 5, &device);
        let y = block.forward(Tensor::zeros([2, 3, 12, 10], &device));
        assert_eq!(y.dims(), [2, 8, 12, 10]);
        // (25·3·8 + 8) + (25·8·8 + 8) weights and biases, 4 batch-norm values per channel.
        assert_eq!(block.num_params(), 608 + 1608 + 2 * 4 * 8);
    }
}
