//! The convolutional block of both backbones:
//! `Conv2D 3x3 'same' -> ELU -> BatchNorm(channels) -> [MaxPool] -> Dropout`.
//!
//! Nasrullah & Zhao (2019), "Music Artist Classification with Convolutional Recurrent Neural
//! Networks", IJCNN, Sec. III (`CRNN2D`, ZainNasrullah/music-artist-classification-crnn@7e17d20);
//! Kuo et al. (2021), AAAI, Fig. 3 (ian-k-1217/Fully-Generalized-Non-Local-Network@939ca11).
//! Keras order: the ELU comes *before* the batch-norm. Max-pooling is 'valid' with stride = pool
//! size, so trailing frames that do not fill a window are dropped (157 -> 78), as Keras does.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use super::keras_init;
use crate::kernels;

/// [`ConvBlock`] configuration.
#[derive(Config, Debug)]
pub struct ConvBlockConfig {
    /// Input channels.
    pub channels_in: usize,
    /// Output channels (Keras `filters`).
    pub channels_out: usize,
    /// Max-pool size = stride `[mels, frames]`; `None` (the default): no pooling (FGNL block 1).
    pub pool: Option<[usize; 2]>,
    /// Square kernel size, 'same' padding.
    #[config(default = 3)]
    pub kernel_size: usize,
    /// Dropout rate after the block.
    #[config(default = 0.1)]
    pub dropout: f64,
    /// Batch-norm epsilon (Keras: 1e-3).
    #[config(default = 1e-3)]
    pub bn_epsilon: f64,
    /// burn batch-norm momentum (`1 - keras_momentum` = 0.01).
    #[config(default = 0.01)]
    pub bn_momentum: f64,
}

/// One backbone block; see the module docs.
#[derive(Module, Debug)]
pub struct ConvBlock {
    /// 3x3 'same' convolution with bias.
    pub conv: Conv2d,
    /// Batch-norm over channels (after the ELU).
    pub norm: BatchNorm,
    /// Max-pooling, absent in FGNL block 1.
    pub pool: Option<MaxPool2d>,
    /// Dropout (identity at inference).
    pub dropout: Dropout,
}

impl ConvBlockConfig {
    /// Builds the block with Keras initialisation.
    pub fn init(&self, device: &Device) -> ConvBlock {
        assert!(
            self.kernel_size % 2 == 1,
            "ConvBlock needs an odd kernel for symmetric 'same' padding, got {}",
            self.kernel_size
        );
        let pad = self.kernel_size / 2;
        ConvBlock {
            conv: keras_init::conv2d(
                [self.channels_in, self.channels_out],
                [self.kernel_size, self.kernel_size],
                // TF 'same' with stride 1 and an odd kernel: k/2 zeros on each side.
                PaddingConfig2d::Explicit(pad, pad, pad, pad),
                device,
            ),
            norm: BatchNormConfig::new(self.channels_out)
                .with_epsilon(self.bn_epsilon)
                .with_momentum(self.bn_momentum)
                .init(device),
            pool: self.pool.map(|pool| MaxPool2dConfig::new(pool).init()),
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

impl ConvBlock {
    /// # Shapes
    /// - `x`: `[batch, channels_in, mels, frames]`
    /// - output: `[batch, channels_out, mels / pool[0], frames / pool[1]]` (floor)
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        // im2col + gemm on burn-flex, forward and backward (`crate::kernels::conv`).
        let x = kernels::conv::conv2d(&self.conv, x); // [batch, channels_out, mels, frames]
        // ELU, batch-norm and max-pool as one op on burn-flex (`crate::kernels`).
        let x = match &self.pool {
            // [batch, channels_out, mels / p0, frames / p1]
            Some(pool) if is_plain_pool(pool) => {
                kernels::elu_batch_norm_pool(x, &self.norm, Some(pool.kernel_size))
            }
            Some(pool) => pool.forward(kernels::elu_batch_norm(x, &self.norm)),
            None => kernels::elu_batch_norm(x, &self.norm),
        };
        self.dropout.forward(x)
    }
}

/// Whether `pool` is the backbone's kind (stride = kernel, no padding, no dilation, floor), which
/// [`kernels::max_pool`] computes.
fn is_plain_pool(pool: &MaxPool2d) -> bool {
    pool.stride == pool.kernel_size
        && pool.dilation == [1, 1]
        && !pool.ceil_mode
        && matches!(pool.padding, PaddingConfig2d::Valid)
}

/// ELU with alpha = 1, written as `relu(x) + exp(min(x, 0)) - 1`.
///
/// burn's `elu` evaluates `exp(x)` on the positive side too and masks it away; for large
/// activations that is `inf` in the forward pass and `0 * inf = NaN` in the backward pass. This
/// form never exponentiates a positive number and gives exactly `x` for `x > 0`.
pub fn elu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let negative = x.clone().clamp_max(0.0).exp().sub_scalar(1.0);
    relu(x) + negative
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::tensor::{TensorData, Tolerance};

    #[test]
    fn output_shape_floors_odd_frames() {
        let device = Device::default();
        let block = ConvBlockConfig::new(1, 4)
            .with_pool(Some([2, 2]))
            .init(&device);
        let y = block.forward(Tensor::zeros([2, 1, 8, 157], &device));
        assert_eq!(y.dims(), [2, 4, 4, 78]);
        let block = ConvBlockConfig::new(1, 4).init(&device);
        let y = block.forward(Tensor::zeros([2, 1, 8, 157], &device));
        assert_eq!(y.dims(), [2, 4, 8, 157]);
    }

    #[test]
    fn elu_matches_definition() {
        let device = Device::default();
        let x = Tensor::<1>::from_floats([-2.0, -0.5, 0.0, 0.5, 100.0], &device);
        let y = elu(x).into_data();
        let e = |v: f64| (v.exp() - 1.0) as f32;
        y.assert_approx_eq::<f32>(
            &TensorData::from([e(-2.0), e(-0.5), 0.0, 0.5, 100.0]),
            Tolerance::absolute(1e-6),
        );
    }

    /// A 3x3 all-ones kernel, bias 0, on a 3x3 all-ones input with 'same' zero padding counts
    /// the in-bounds neighbours: corners 4, edges 6, centre 9. ELU keeps them; the default BN
    /// (mean 0, var 1, eps 1e-3) divides by sqrt(1.001); the 2x2 pool keeps the max of the
    /// top-left window {4, 6, 6, 9}, 9 / sqrt(1.001), and drops the odd last row and column.
    #[test]
    fn hand_computed_block() {
        let device = Device::default();
        let mut block = ConvBlockConfig::new(1, 1)
            .with_pool(Some([2, 2]))
            .init(&device);
        block.conv.weight = Param::from_tensor(Tensor::ones([1, 1, 3, 3], &device));
        let y = block
            .forward(Tensor::ones([1, 1, 3, 3], &device))
            .into_data();
        let v = (9.0 / 1.001f64.sqrt()) as f32;
        y.assert_approx_eq::<f32>(&TensorData::from([[[[v]]]]), Tolerance::absolute(1e-5));
    }

    #[test]
    #[should_panic]
    fn wrong_channel_count_panics() {
        let device = Device::default();
        let block = ConvBlockConfig::new(2, 4).init(&device);
        let _ = block.forward(Tensor::zeros([1, 3, 4, 4], &device));
    }
}
