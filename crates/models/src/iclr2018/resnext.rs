//! The ResNeXt bottleneck block of the ICLR-2018 models and the two ResNeXt presets.
//!
//! Anonymous (2018), "Learning audio features for singer identification and embedding", ICLR
//! 2018 submission, Sec. 2.1 and Fig. 2(b, c): `y = x + Γ(x)`, Γ a bottleneck of three
//! convolutions `1 x 1 -> 5 x 5 grouped -> 1 x 1` (Xie et al. 2017, "Aggregated residual
//! transformations for deep neural networks", CVPR, Fig. 3(c): the grouped form of the
//! aggregated transformation); cardinality 4 (Sec. 3.5); each convolution `Conv -> ReLU -> BN`.
//!
//! Not in the paper's text, chosen because they reproduce its Table 1 and 2 parameter counts
//! (54k, 172k, 56k; see the tests in `network.rs`): the bottleneck width is half the block's
//! output channels (ResNeXt's 2x expansion), and where the channels change the shortcut is a
//! 1 x 1 convolution with bias (He et al. 2016's projection, option B), without ReLU or BN. No
//! activation follows the sum (the paper's `y = x + Γ(x)`).

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::{Device, Tensor};

use super::conv_unit::ConvUnit;
use super::network::{Block, Iclr2018Config, Iclr2018Kind, Stage};
use crate::aggregation::Aggregation;
use crate::blocks::keras_init;
use crate::kernels;

/// Fig. 2(c): a residual bottleneck with a grouped middle convolution.
#[derive(Module, Debug)]
pub struct ResNeXtBlock {
    /// `h`: 1 x 1, `channels_in -> width`.
    pub reduce: ConvUnit,
    /// `g`: k x k grouped (`cardinality` groups), `width -> width`.
    pub grouped: ConvUnit,
    /// `f`: 1 x 1, `width -> channels_out`.
    pub expand: ConvUnit,
    /// 1 x 1 projection of `x` when `channels_in != channels_out`; identity otherwise.
    pub shortcut: Option<Conv2d>,
}

impl ResNeXtBlock {
    /// Builds the block; `width` is the bottleneck width (all groups together).
    ///
    /// # Panics
    /// If `cardinality` does not divide `width`.
    pub fn init(
        channels: [usize; 2],
        width: usize,
        cardinality: usize,
        kernel_size: usize,
        device: &Device,
    ) -> Self {
        let [channels_in, channels_out] = channels;
        ResNeXtBlock {
            reduce: ConvUnit::init([channels_in, width], 1, 1, device),
            grouped: ConvUnit::init([width, width], kernel_size, cardinality, device),
            expand: ConvUnit::init([width, channels_out], 1, 1, device),
            shortcut: (channels_in != channels_out)
                .then(|| keras_init::conv2d(channels, [1, 1], PaddingConfig2d::Valid, device)),
        }
    }

    /// # Shapes
    /// - `x`: `[batch, channels_in, mels, frames]`
    /// - output: `[batch, channels_out, mels, frames]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let residual = self.reduce.forward(x.clone()); // [batch, width, mels, frames]
        let residual = self.grouped.forward(residual); // [batch, width, mels, frames]
        let residual = self.expand.forward(residual); // [batch, channels_out, mels, frames]
        let shortcut = match &self.shortcut {
            Some(projection) => kernels::conv::conv2d(projection, x), // [batch, channels_out, ..]
            None => x,
        };
        shortcut + residual // y = x + Γ(x)
    }
}

impl Iclr2018Config {
    /// Table 1's shallow ResNeXt (`64, 128`, 4 convolution layers): a 64-filter layer and one
    /// 128-channel bottleneck block, cardinality 4; feed-forward attention, its best test
    /// accuracy in Table 1 (0.741).
    pub fn resnext(n_classes: usize) -> Self {
        Self::new(
            Iclr2018Kind::Resnext,
            n_classes,
            64,
            vec![Stage::new(128, 1)],
            Block::resnext(),
            Aggregation::Attention,
        )
    }

    /// Table 1's deep ResNeXt (`32, 64, 64, 64, 128, 128, 128`, 19 convolution layers): a
    /// 32-filter layer and two stages of three bottleneck blocks; average aggregation, its best
    /// test accuracy in Table 1 (0.731).
    pub fn resnext_deep(n_classes: usize) -> Self {
        Self::new(
            Iclr2018Kind::ResnextDeep,
            n_classes,
            32,
            vec![Stage::new(64, 3), Stage::new(128, 3)],
            Block::resnext(),
            Aggregation::Average,
        )
    }

    /// Table 2's shallow ResNeXt embedding network, the twin of the ICLR-2018 siamese network
    /// (Sec. 3.5): a 128-filter layer and one 128-channel bottleneck block, cardinality 4
    /// (56k CNN parameters), feed-forward attention (the aggregation of Figs. 4, 5 and 7's
    /// embedding maps) and a 16-d linear embedding output ("chosen to be 16 by SPEARMINT"),
    /// trained with the contrastive loss at margin 1 (`singerid train --objective contrastive`).
    /// `n_classes` sizes the unused class output beside the embedding (see
    /// [`Iclr2018Config::embedding_dim`]).
    pub fn resnext_siamese(n_classes: usize) -> Self {
        let mut config = Self::new(
            Iclr2018Kind::ResnextSiamese,
            n_classes,
            128,
            vec![Stage::new(128, 1)],
            Block::resnext(),
            Aggregation::Attention,
        );
        config.embedding_dim = Some(SIAMESE_EMBEDDING_DIM);
        config
    }
}

/// The embedding size of the ICLR-2018 siamese network (Sec. 3.5: 16, chosen by Spearmint).
pub const SIAMESE_EMBEDDING_DIM: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::tensor::{Distribution, Tolerance};

    /// 64 -> 128 with width 64 and cardinality 4: 1 x 1 (64·64 + 64), 5 x 5 grouped
    /// (25·16·64 + 64), 1 x 1 (64·128 + 128), projection (64·128 + 128), and 4 batch-norm values
    /// for each of 64 + 64 + 128 channels: 4160 + 25664 + 8320 + 8320 + 1024 = 47488.
    #[test]
    fn grouped_bottleneck_parameters_and_shape() {
        let device = Device::default();
        let block = ResNeXtBlock::init([64, 128], 64, 4, 5, &device);
        assert_eq!(block.grouped.conv.weight.dims(), [64, 16, 5, 5]);
        assert_eq!(block.num_params(), 47_488);
        let y = block.forward(Tensor::zeros([1, 64, 6, 7], &device));
        assert_eq!(y.dims(), [1, 128, 6, 7]);
    }

    /// The siamese twin: Table 2's `128, 128` ResNeXt (56,704 CNN parameters: see
    /// `table_2_parameter_counts` in `network.rs`), attention over D = 128·24 = 3072 features
    /// (3073 parameters), three dense layers (3072·1024 + 1024 + 2 (1024² + 1024) = 5,246,976),
    /// the 16-d embedding (16,400) and the class output (1024·n + n): 5,322,129 + 1025 n. The
    /// embedding is 16-d for any clip length.
    #[test]
    fn siamese_preset_counts_and_embedding() {
        let device = Device::default();
        let model = Iclr2018Config::resnext_siamese(5).init(&device);
        assert_eq!(model.conv_params(), 56_704);
        assert_eq!(Module::num_params(&model), 5_322_129 + 1025 * 5);
        let mel = Tensor::random([2, 1, 96, 40], Distribution::Uniform(0.0, 60.0), &device);
        let out = crate::Classifier::forward(&model, mel, None);
        assert_eq!(out.embedding.dims(), [2, SIAMESE_EMBEDDING_DIM]);
        assert_eq!(out.logits.dims(), [2, 5]);
    }

    /// With the residual branch's last batch-norm scaled to 0 (γ = β = 0), Γ(x) = 0 and the
    /// block is the identity (equal channels) or the projection alone.
    #[test]
    fn zero_residual_leaves_the_shortcut() {
        let device = Device::default();
        let x = Tensor::random([2, 8, 5, 6], Distribution::Normal(0.0, 1.0), &device);
        for channels_out in [8, 12] {
            let mut block = ResNeXtBlock::init([8, channels_out], 4, 4, 5, &device);
            block.expand.norm.gamma = Param::from_tensor(Tensor::zeros([channels_out], &device));
            block.expand.norm.beta = Param::from_tensor(Tensor::zeros([channels_out], &device));
            let expected = match &block.shortcut {
                Some(projection) => projection.forward(x.clone()),
                None => x.clone(),
            };
            block
                .forward(x.clone())
                .into_data()
                .assert_approx_eq::<f32>(&expected.into_data(), Tolerance::absolute(1e-5));
        }
    }
}
