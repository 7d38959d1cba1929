//! The standard non-local block, the CRNN_NL ablation of Kuo et al. (2021), AAAI, Table 2
//! ("w/o the cues across channels and layers").
//!
//! Wang, Girshick, Gupta & He (2018), "Non-local Neural Networks", CVPR, Eqs. (1), (2) and (6),
//! Sec. 3.2 "Dot product"; the FGNL paper's Eqs. (1)-(6). θ, φ, g are 1x1 convolutions C -> C/m
//! (m = 32, as in the FGNL module), `f = θ φᵀ`, and the dot-product version normalises by the
//! number of positions N: `y = (1/N) f g`. `Z = W_z y + X` with W_z a plain 1x1 convolution C/m ->
//! C (no batch-norm, like the authors' FGNL W_z). The embedded-Gaussian version (softmax over
//! keys) is [`Pairwise::EmbeddedGaussian`].

use burn::config::Config;
use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::blocks::keras_init;

/// The pairwise function f and its normalisation C(x) (Wang et al., Sec. 3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pairwise {
    /// `f = θᵀφ`, `C(x) = N`.
    DotProduct,
    /// `f = exp(θᵀφ)`, `C(x) = Σ_j f`: a softmax over keys.
    EmbeddedGaussian,
}

/// [`NonLocalBlock`] configuration. The channel count C comes from the backbone at init.
#[derive(Config, Debug, PartialEq)]
pub struct NonLocalConfig {
    /// Reduction ratio m (θ, φ, g have C/m channels).
    #[config(default = 32)]
    pub reduction: usize,
    /// Pairwise function.
    #[config(default = "Pairwise::DotProduct")]
    pub pairwise: Pairwise,
}

/// Non-local block; see the module docs.
#[derive(Module, Debug)]
pub struct NonLocalBlock {
    /// θ: 1x1 C -> C/m.
    pub theta: Conv2d,
    /// φ: 1x1 C -> C/m.
    pub phi: Conv2d,
    /// g: 1x1 C -> C/m.
    pub g: Conv2d,
    /// W_z: 1x1 C/m -> C.
    pub w_z: Conv2d,
    /// Pairwise function.
    #[module(skip)]
    pub pairwise: Pairwise,
}

impl NonLocalConfig {
    /// Builds the block for `channels` input channels.
    ///
    /// # Panics
    /// If `channels` is not a positive multiple of the reduction ratio.
    pub fn init(&self, channels: usize, device: &Device) -> NonLocalBlock {
        assert!(
            self.reduction > 0
                && channels >= self.reduction
                && channels.is_multiple_of(self.reduction),
            "non-local needs channels ({channels}) to be a positive multiple of the reduction ({})",
            self.reduction
        );
        let reduced = channels / self.reduction;
        let conv =
            |from, to| keras_init::conv2d([from, to], [1, 1], PaddingConfig2d::Valid, device);
        NonLocalBlock {
            theta: conv(channels, reduced),
            phi: conv(channels, reduced),
            g: conv(channels, reduced),
            w_z: conv(reduced, channels),
            pairwise: self.pairwise,
        }
    }
}

impl NonLocalBlock {
    /// # Shapes
    /// - `x`: `[batch, C, height, width]`
    /// - output: `[batch, C, height, width]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [batch, channels, height, width] = x.dims();
        let [reduced, c_in, _, _] = self.theta.weight.dims();
        assert!(
            channels == c_in,
            "non-local expects {c_in} channels, got {:?}",
            x.dims()
        );
        let positions = height * width;
        let theta = self.theta.forward(x.clone()).flatten::<3>(2, 3); // [batch, Cr, N]
        let phi = self.phi.forward(x.clone()).flatten::<3>(2, 3); // [batch, Cr, N]
        let g = self.g.forward(x.clone()).flatten::<3>(2, 3); // [batch, Cr, N]
        // Eq. (5): f[n, m] = θ[n]·φ[m], stored transposed as [m, n].
        let scores = phi.swap_dims(1, 2).matmul(theta); // [batch, N keys, N queries]
        let attention = match self.pairwise {
            Pairwise::DotProduct => scores.div_scalar(positions as f64),
            Pairwise::EmbeddedGaussian => softmax(scores, 1),
        };
        // Eq. (1): y[n, c] = Σ_m f[n, m] g[m, c].
        let y = g.matmul(attention).reshape([batch, reduced, height, width]); // [batch, Cr, H, W]
        x + self.w_z.forward(y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;

    #[test]
    fn shape_and_params() {
        let device = Device::default();
        let block = NonLocalConfig::new().init(128, &device);
        assert_eq!(block.num_params(), 3 * (128 * 4 + 4) + 4 * 128 + 128);
        let z = block.forward(Tensor::ones([2, 128, 16, 5], &device));
        assert_eq!(z.dims(), [2, 128, 16, 5]);
    }

    /// With W_z = 0 and zero bias the block is the identity (the residual form of Eq. 9).
    #[test]
    fn zero_w_z_is_identity() {
        let device = Device::default();
        let mut block = NonLocalConfig::new().init(64, &device);
        block.w_z.weight = Param::from_tensor(Tensor::zeros([64, 2, 1, 1], &device));
        let x = Tensor::<4>::random([1, 64, 3, 4], burn::tensor::Distribution::Default, &device);
        let z = block.forward(x.clone());
        z.into_data()
            .assert_approx_eq::<f32>(&x.into_data(), burn::tensor::Tolerance::absolute(1e-7));
    }

    #[test]
    #[should_panic(expected = "non-local expects 128 channels")]
    fn wrong_channels_panic() {
        let device = Device::default();
        let block = NonLocalConfig::new().init(128, &device);
        let _ = block.forward(Tensor::ones([2, 64, 16, 5], &device));
    }
}
