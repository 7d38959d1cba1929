//! The convolution of every ICLR-2018 layer and block: `Conv2D 'same' -> ReLU -> BatchNorm`.
//!
//! Anonymous (2018), "Learning audio features for singer identification and embedding", ICLR
//! 2018 submission, Sec. 2.1 ("Batch normalizations are applied after each non-linearity
//! activation throughout the convolutional layer/blocks") and Sec. 3.3 (ReLU in every
//! convolution layer). Padding is TensorFlow's 'same' (the paper's parameter totals need the
//! mel axis to halve exactly at each pool): for an even kernel the extra zero goes after.
//! Grouped convolutions (the ResNeXt bottleneck, Xie et al. 2017) use burn's `groups`.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::blocks::keras_init::{GLOROT_UNIFORM, zero_bias};
use crate::blocks::{KERAS_BN_EPSILON, KERAS_BN_MOMENTUM_BURN};
use crate::kernels;

/// `Conv2D (k x k, 'same', stride 1, groups) -> ReLU -> BatchNorm(channels)`.
#[derive(Module, Debug)]
pub struct ConvUnit {
    /// The convolution, weight `[out, in / groups, k, k]`, zero bias.
    pub conv: Conv2d,
    /// Batch-norm over channels, after the ReLU.
    pub norm: BatchNorm,
}

impl ConvUnit {
    /// A Keras-initialised unit (glorot-uniform kernel, zero bias, Keras batch-norm epsilon and
    /// momentum).
    ///
    /// # Panics
    /// If `groups` does not divide both channel counts (burn's check).
    pub fn init(channels: [usize; 2], kernel_size: usize, groups: usize, device: &Device) -> Self {
        let mut conv = Conv2dConfig::new(channels, [kernel_size; 2])
            .with_padding(same_padding(kernel_size))
            .with_groups(groups)
            .with_bias(false)
            .with_initializer(GLOROT_UNIFORM)
            .init(device);
        conv.bias = Some(zero_bias(channels[1], device));
        ConvUnit {
            conv,
            norm: BatchNormConfig::new(channels[1])
                .with_epsilon(KERAS_BN_EPSILON)
                .with_momentum(KERAS_BN_MOMENTUM_BURN)
                .init(device),
        }
    }

    /// # Shapes
    /// - `x`: `[batch, channels_in, mels, frames]`
    /// - output: `[batch, channels_out, mels, frames]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        // im2col + gemm on burn-flex for odd kernels without groups, burn's conv otherwise.
        let x = kernels::conv::conv2d(&self.conv, x); // [batch, out, mels, frames]
        self.norm.forward(relu(x))
    }
}

/// TensorFlow 'same' padding for stride 1: `k - 1` zeros, the odd one after (top, left,
/// bottom, right); a 1 x 1 kernel needs none.
fn same_padding(kernel_size: usize) -> PaddingConfig2d {
    let before = (kernel_size - 1) / 2;
    let after = kernel_size - 1 - before;
    if kernel_size == 1 {
        PaddingConfig2d::Valid
    } else {
        PaddingConfig2d::Explicit(before, before, after, after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::tensor::{TensorData, Tolerance};

    #[test]
    fn even_and_odd_kernels_keep_the_size() {
        let device = Device::default();
        for (k, groups) in [(10, 1), (5, 1), (5, 4), (1, 1)] {
            let unit = ConvUnit::init([4, 8], k, groups, &device);
            let y = unit.forward(Tensor::zeros([2, 4, 12, 9], &device));
            assert_eq!(y.dims(), [2, 8, 12, 9], "kernel {k}, groups {groups}");
            assert_eq!(
                unit.num_params(),
                k * k * 4 / groups * 8 + 8 + 4 * 8,
                "weights, bias, and 4 batch-norm values per channel"
            );
        }
    }

    /// A 2 x 2 all-ones kernel on a 2 x 2 input [[1, 2], [3, 4]] with TF 'same' padding (one
    /// zero row and column after): outputs [[1+2+3+4, 2+4], [3+4, 4]] = [[10, 6], [7, 4]]; with
    /// bias -6.5 the ReLU keeps [[3.5, 0], [0.5, 0]]; the fresh batch-norm (mean 0, var 1,
    /// eps 1e-3) divides by sqrt(1.001).
    #[test]
    fn conv_relu_then_batch_norm_by_hand() {
        let device = Device::default();
        let mut unit = ConvUnit::init([1, 1], 2, 1, &device);
        unit.conv.weight = Param::from_tensor(Tensor::ones([1, 1, 2, 2], &device));
        unit.conv.bias = Some(Param::from_tensor(Tensor::from_floats([-6.5], &device)));
        let x = Tensor::from_data(
            TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [1, 1, 2, 2]),
            &device,
        );
        let s = 1.0 / 1.001f32.sqrt();
        unit.forward(x).into_data().assert_approx_eq::<f32>(
            &TensorData::from([[[[3.5 * s, 0.0], [0.5 * s, 0.0]]]]),
            Tolerance::absolute(1e-5),
        );
    }
}
