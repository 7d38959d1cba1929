//! The fixed Gaussian smoothing filter `G(·)` of the FGNL module: a depthwise 5x5 convolution,
//! 'same' zero padding, no bias, not trained.
//!
//! Kuo et al. (2021), "Positions, Channels, and Layers: Fully Generalized Non-Local Network for
//! Singer Identification", AAAI, Eq. (7) and the paragraph after it. The authors' code builds the
//! kernel with OpenCV `getGaussianKernel(5, 0.707)` (normalised 1-D taps, outer product) rather
//! than the paper's `1 / (2πσ²)` formula; the two differ only by normalisation, and the
//! normalised one is what the weights hold. Like Keras, the kernel counts as a (non-trainable)
//! parameter, so it is kept in a [`RunningState`], which no optimiser updates.

use burn::config::Config;
use burn::module::{Module, RunningState};
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};

/// [`GaussianSmoothing`] configuration.
#[derive(Config, Debug)]
pub struct GaussianSmoothingConfig {
    /// Channels (each gets the same kernel).
    pub channels: usize,
    /// Kernel size (odd).
    #[config(default = 5)]
    pub size: usize,
    /// Standard deviation in cells.
    #[config(default = 0.707)]
    pub sigma: f64,
}

/// Depthwise Gaussian filter; see the module docs.
#[derive(Module, Debug)]
pub struct GaussianSmoothing {
    /// Depthwise kernel `[channels, 1, size, size]` (Keras: `(size, size, channels, 1)`).
    pub kernel: RunningState<Tensor<4>>,
}

/// OpenCV's `getGaussianKernel(size, sigma)` taps in f64: `exp(-(i - c)² / 2σ²)`, normalised to
/// sum 1.
pub fn gaussian_taps(size: usize, sigma: f64) -> Vec<f64> {
    let centre = (size as f64 - 1.0) / 2.0;
    let raw: Vec<f64> = (0..size)
        .map(|i| (-(i as f64 - centre).powi(2) / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = raw.iter().sum();
    raw.into_iter().map(|v| v / total).collect()
}

impl GaussianSmoothingConfig {
    /// Builds the filter with the fixed kernel `Gk[i, j] = g_i g_j` (f64, stored as f32).
    pub fn init(&self, device: &Device) -> GaussianSmoothing {
        assert!(
            self.size % 2 == 1,
            "Gaussian kernel size must be odd, got {}",
            self.size
        );
        let taps = gaussian_taps(self.size, self.sigma);
        let plane: Vec<f32> = taps
            .iter()
            .flat_map(|gi| taps.iter().map(move |gj| (gi * gj) as f32))
            .collect();
        let values: Vec<f32> = (0..self.channels)
            .flat_map(|_| plane.iter().copied())
            .collect();
        let kernel = Tensor::from_data(
            TensorData::new(values, [self.channels, 1, self.size, self.size]),
            device,
        );
        GaussianSmoothing {
            kernel: RunningState::new(kernel),
        }
    }
}

impl GaussianSmoothing {
    /// # Shapes
    /// - `x`: `[batch, channels, height, width]`
    /// - output: same
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let kernel = self.kernel.value();
        let [channels, _, size, _] = kernel.dims();
        let pad = size / 2;
        conv2d(
            x,
            kernel,
            None,
            ConvOptions::new([1, 1], [pad, pad], [1, 1], channels),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README of the Keras fixtures lists OpenCV's taps and some float32 kernel entries.
    #[test]
    fn taps_match_opencv() {
        let taps = gaussian_taps(5, 0.707);
        let expected = [0.01032294, 0.20752972, 0.5642947, 0.20752972, 0.01032294];
        for (t, e) in taps.iter().zip(expected) {
            assert!((t - e).abs() < 1e-8, "{taps:?}");
        }
        let device = Device::default();
        let g = GaussianSmoothingConfig::new(2).init(&device);
        let k = g
            .kernel
            .value()
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32 kernel");
        assert_eq!(k.len(), 50);
        assert!((k[12] - 0.318_428_52).abs() < 1e-7); // Gk[2,2]
        assert!((k[7] - 0.117_107_92).abs() < 1e-7); // Gk[1,2]
        assert!((k[0] - 1.065_630_2e-4).abs() < 1e-10); // Gk[0,0]
        assert_eq!(k[..25], k[25..]);
    }

    /// A unit impulse in the middle of a 5x5 plane reproduces the kernel; an all-ones plane sums
    /// to 1 in the centre (the kernel is normalised) and less at the zero-padded corner.
    #[test]
    fn impulse_and_constant_response() {
        let device = Device::default();
        let g = GaussianSmoothingConfig::new(1).init(&device);
        let mut impulse = vec![0.0f32; 25];
        impulse[12] = 1.0;
        let y = g.forward(Tensor::from_data(
            TensorData::new(impulse, [1, 1, 5, 5]),
            &device,
        ));
        y.into_data().assert_approx_eq::<f32>(
            &g.kernel.value().into_data(),
            burn::tensor::Tolerance::absolute(1e-7),
        );
        let y = g.forward(Tensor::ones([1, 1, 5, 5], &device));
        let v = y.into_data().try_to_vec::<f32>().expect("f32");
        assert!((v[12] - 1.0).abs() < 1e-6);
        // Corner: only taps 2..5 of each axis land inside, (0.5643 + 0.2075 + 0.0103)^2.
        assert!((v[0] - 0.611_754).abs() < 1e-5, "{}", v[0]);
    }
}
