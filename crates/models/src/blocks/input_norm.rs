//! The input batch-norm of every branch: Keras `BatchNormalization(axis=1)` on a
//! `(batch, mels, frames, 1)` input, i.e. one set of statistics per mel bin, shared over time.
//!
//! Nasrullah & Zhao (2019), `CRNN2D` first layer; the FGNL authors keep it (Kuo et al., AAAI 2021,
//! Fig. 3).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{BatchNorm, BatchNormConfig};
use burn::tensor::{Device, Tensor};

use super::{KERAS_BN_EPSILON, KERAS_BN_MOMENTUM_BURN};

/// [`InputNorm`] configuration.
#[derive(Config, Debug)]
pub struct InputNormConfig {
    /// Number of mel bins (the normalised axis).
    pub mels: usize,
    /// Batch-norm epsilon (Keras: 1e-3).
    #[config(default = 1e-3)]
    pub epsilon: f64,
    /// burn momentum (`1 - keras_momentum`; Keras 0.99 gives 0.01).
    #[config(default = 0.01)]
    pub momentum: f64,
}

/// Batch-norm over the mel axis of a `[batch, 1, mels, frames]` input.
#[derive(Module, Debug)]
pub struct InputNorm {
    /// Per-mel-bin statistics and affine parameters (`[mels]` each).
    pub norm: BatchNorm,
}

impl InputNormConfig {
    /// Paper defaults: Keras epsilon and momentum.
    pub fn keras(mels: usize) -> Self {
        Self::new(mels)
            .with_epsilon(KERAS_BN_EPSILON)
            .with_momentum(KERAS_BN_MOMENTUM_BURN)
    }

    /// Builds the module.
    pub fn init(&self, device: &Device) -> InputNorm {
        InputNorm {
            norm: BatchNormConfig::new(self.mels)
                .with_epsilon(self.epsilon)
                .with_momentum(self.momentum)
                .init(device),
        }
    }
}

impl InputNorm {
    /// # Shapes
    /// - `x`: `[batch, 1, mels, frames]`
    /// - output: `[batch, 1, mels, frames]`
    ///
    /// # Panics
    /// If the input does not have one channel and the configured number of mel bins.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [batch, channels, mels, frames] = x.dims();
        let [expected_mels] = self.norm.gamma.dims();
        assert!(
            channels == 1 && mels == expected_mels,
            "InputNorm expects [batch, 1, {expected_mels}, frames], got {:?}",
            x.dims()
        );
        // With one channel, [batch, 1, mels, frames] and [batch, mels, frames] share a memory
        // layout: the mel axis becomes burn's channel axis without a copy.
        let x = x.reshape([batch, mels, frames]);
        let x = self.norm.forward(x); // [batch, mels, frames]
        x.reshape([batch, 1, mels, frames])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn output_shape_is_input_shape() {
        let device = Device::default();
        let norm = InputNormConfig::keras(8).init(&device);
        let y = norm.forward(Tensor::zeros([2, 1, 8, 5], &device));
        assert_eq!(y.dims(), [2, 1, 8, 5]);
    }

    /// Mel bin 0 has moving mean 1 and variance 3 (+ eps 1e-3 -> 3.001), gamma 2, beta 0.5:
    /// x = 4 gives 2 * (4 - 1) / sqrt(3.001) + 0.5 = 3.963_990_...; bin 1 keeps the defaults
    /// (mean 0, var 1, gamma 1, beta 0): x = 4 gives 4 / sqrt(1.001) = 3.998_001_....
    #[test]
    fn statistics_are_per_mel_bin() {
        let device = Device::default();
        let mut norm = InputNormConfig::keras(2).init(&device);
        norm.norm.gamma =
            burn::module::Param::from_tensor(Tensor::from_floats([2.0, 1.0], &device));
        norm.norm.beta = burn::module::Param::from_tensor(Tensor::from_floats([0.5, 0.0], &device));
        norm.norm.running_mean =
            burn::module::RunningState::new(Tensor::from_floats([1.0, 0.0], &device));
        norm.norm.running_var =
            burn::module::RunningState::new(Tensor::from_floats([3.0, 1.0], &device));
        let x = Tensor::<4>::full([1, 1, 2, 3], 4.0, &device);
        let y = norm.forward(x).into_data();
        let a = (2.0 * 3.0 / 3.001f64.sqrt() + 0.5) as f32;
        let b = (4.0 / 1.001f64.sqrt()) as f32;
        y.assert_approx_eq::<f32>(
            &TensorData::from([[[[a, a, a], [b, b, b]]]]),
            burn::tensor::Tolerance::absolute(1e-6),
        );
    }

    #[test]
    #[should_panic(expected = "InputNorm expects")]
    fn wrong_mel_count_panics() {
        let device = Device::default();
        let norm = InputNormConfig::keras(8).init(&device);
        let _ = norm.forward(Tensor::zeros([2, 1, 7, 5], &device));
    }
}
