//! CREPE's inference pass on the CPU as six strided matrix products, frames spread over the
//! cores: the same function as [`Crepe::forward`] in eval mode, without burn's tensor ops.
//!
//! Why: on burn-flex the conv layers ran at 25-30 GFLOP/s and CREPE at 0.73x torchcrepe
//! (`bench/RESULTS.md`, "CREPE speed"); a `unfold` + matmul rewrite on burn tensors was no
//! faster because the unfolded matrix copies the input once per tap.
//!
//! How: activations are kept **time-major** (`[time, channels]` per frame), each layer's input
//! with its 'same' zero padding written in. Then the im2col row of output position `t` (the
//! `kernel x channels` window it reads) is the contiguous run of `kernel · channels` floats
//! starting at `t · stride · channels`, so the convolution is one product
//! `[positions, kernel · channels] x [kernel · channels, filters]` whose left operand is a view
//! with overlapping rows ([`crate::kernels::gemm::matmul`]) and no copy at all. The weights are
//! reordered once to `[(tap, channel), filter]`. Bias, ReLU, the batch norm (folded into one
//! scale and shift per channel) and the max-pool are one pass that writes straight into the
//! next layer's padded input. The last layer's pooled map is already the time-major flattening
//! the classifier expects (Keras' `Permute` + `Flatten`).
//!
//! Each frame is independent, so frames are dealt to threads (as many as burn-flex's pool)
//! and every product is single-threaded: no synchronisation inside a frame.

use burn::tensor::Tensor;

use super::crepe::{Crepe, PITCH_BINS, POOL_WIDTH, WINDOW_SIZE};
use crate::kernels::batch_norm::eval_affine;
use crate::kernels::gemm::{View, matmul};
use crate::kernels::parallel::{blocks, run_groups};

/// One conv block, prepared: weights reordered, batch norm folded.
#[derive(Debug, Clone)]
struct Layer {
    channels_in: usize,
    filters: usize,
    kernel: usize,
    stride: usize,
    /// Zero rows before the input in its padded buffer.
    pad_left: usize,
    /// Rows of the padded input buffer (`(positions - 1) · stride + kernel`).
    padded_rows: usize,
    /// Conv output positions (`ceil(length / stride)`), halved by the pool.
    positions: usize,
    /// `[kernel · channels_in, filters]`: row `tap · channels_in + c` holds `weight[:, c, tap]`.
    weights: Vec<f32>,
    bias: Vec<f32>,
    /// Batch norm in eval mode: `gamma / sqrt(var + eps)`.
    scale: Vec<f32>,
    /// `beta - mean · scale`.
    shift: Vec<f32>,
}

/// A [`Crepe`] prepared for CPU inference; see the module docs. Build it once per model with
/// [`CrepeCpu::new`] and call [`CrepeCpu::forward`] on as many frames as wanted.
#[derive(Debug, Clone)]
pub struct CrepeCpu {
    layers: Vec<Layer>,
    /// `[classifier inputs, 360]`, burn's `Linear` layout.
    classifier: Vec<f32>,
    classifier_bias: Vec<f32>,
}

/// One thread's buffers: each layer's padded input (padding rows stay zero) and the conv
/// output of the largest layer.
struct Scratch {
    inputs: Vec<Vec<f32>>,
    conv: Vec<f32>,
    features: Vec<f32>,
}

fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32 values after convert")
}

impl CrepeCpu {
    /// Reads `model`'s weights (on any device) into the CPU layout.
    pub fn new(model: &Crepe) -> Self {
        let mut length = WINDOW_SIZE;
        let layers = model
            .layers
            .iter()
            .map(|layer| {
                let [filters, channels_in, kernel] = layer.conv.weight.dims();
                let stride = layer.conv.stride;
                let positions = length.div_ceil(stride);
                let padded_rows = (positions - 1) * stride + kernel;
                let pad_left = padded_rows.saturating_sub(length) / 2;
                let raw = values(layer.conv.weight.val()); // [filters, channels_in, kernel]
                let mut weights = vec![0.0f32; kernel * channels_in * filters];
                for f in 0..filters {
                    for c in 0..channels_in {
                        for tap in 0..kernel {
                            weights[(tap * channels_in + c) * filters + f] =
                                raw[(f * channels_in + c) * kernel + tap];
                        }
                    }
                }
                let bias = layer
                    .conv
                    .bias
                    .as_ref()
                    .map_or_else(|| vec![0.0; filters], |b| values(b.val()));
                let (scale, shift) = eval_affine(&layer.bn);
                let scale = scale.into_iter().map(|s| s as f32).collect();
                let shift = shift.into_iter().map(|s| s as f32).collect();
                length = positions / POOL_WIDTH;
                Layer {
                    channels_in,
                    filters,
                    kernel,
                    stride,
                    pad_left,
                    padded_rows,
                    positions,
                    weights,
                    bias,
                    scale,
                    shift,
                }
            })
            .collect();
        let classifier_bias = model
            .classifier
            .bias
            .as_ref()
            .map_or_else(|| vec![0.0; PITCH_BINS], |b| values(b.val()));
        Self {
            layers,
            classifier: values(model.classifier.weight.val()),
            classifier_bias,
        }
    }

    /// Width of the classifier's input.
    fn features(&self) -> usize {
        self.classifier.len() / PITCH_BINS
    }

    fn scratch(&self) -> Scratch {
        Scratch {
            inputs: self
                .layers
                .iter()
                .map(|l| vec![0.0f32; l.padded_rows * l.channels_in])
                .collect(),
            conv: vec![
                0.0f32;
                self.layers
                    .iter()
                    .map(|l| l.positions * l.filters)
                    .max()
                    .unwrap_or(0)
            ],
            features: vec![0.0f32; self.features()],
        }
    }

    /// Pitch saliences of normalised frames, as [`Crepe::forward`] in eval mode.
    ///
    /// # Shapes
    /// - `frames`: `count · 1024` floats, frame after frame
    /// - output: `count · 360` sigmoid activations
    ///
    /// # Panics
    /// If `frames` is not a whole number of 1024-sample frames.
    pub fn forward(&self, frames: &[f32]) -> Vec<f32> {
        assert!(
            frames.len().is_multiple_of(WINDOW_SIZE),
            "CREPE expects whole {WINDOW_SIZE}-sample frames, got {} samples",
            frames.len()
        );
        let mut out = vec![0.0f32; frames.len() / WINDOW_SIZE * PITCH_BINS];
        run_groups(blocks(&mut out, PITCH_BINS), |group| {
            let mut scratch = self.scratch();
            for (i, y) in group {
                self.frame(
                    &frames[i * WINDOW_SIZE..(i + 1) * WINDOW_SIZE],
                    &mut scratch,
                    y,
                );
            }
        });
        out
    }

    /// One frame through the six blocks and the classifier into `y` (360 floats).
    fn frame(&self, frame: &[f32], scratch: &mut Scratch, y: &mut [f32]) {
        let first = &self.layers[0];
        scratch.inputs[0][first.pad_left..first.pad_left + WINDOW_SIZE].copy_from_slice(frame);
        for (k, layer) in self.layers.iter().enumerate() {
            let (ci, co) = (layer.channels_in, layer.filters);
            let conv = &mut scratch.conv[..layer.positions * co];
            matmul(
                [layer.positions, layer.kernel * ci, co],
                View {
                    data: &scratch.inputs[k],
                    row_stride: layer.stride * ci,
                },
                View {
                    data: &layer.weights,
                    row_stride: co,
                },
                conv,
                co,
                false,
            );
            // Bias, ReLU, batch norm, max-pool; into the next layer's padded input (or the
            // classifier's features after the last layer).
            let (next, offset) = match self.layers.get(k + 1) {
                Some(next_layer) => (&mut scratch.inputs[k + 1], next_layer.pad_left * co),
                None => (&mut scratch.features, 0),
            };
            let pooled = layer.positions / POOL_WIDTH;
            let dst = &mut next[offset..offset + pooled * co];
            for (t, row) in dst.chunks_exact_mut(co).enumerate() {
                let window = &conv[t * POOL_WIDTH * co..(t + 1) * POOL_WIDTH * co];
                for (c, out) in row.iter_mut().enumerate() {
                    let (b, s, h) = (layer.bias[c], layer.scale[c], layer.shift[c]);
                    *out = window
                        .iter()
                        .skip(c)
                        .step_by(co)
                        .map(|&x| (x + b).max(0.0) * s + h)
                        .fold(f32::NEG_INFINITY, f32::max);
                }
            }
        }
        let features = self.features();
        matmul(
            [1, features, PITCH_BINS],
            View {
                data: &scratch.features,
                row_stride: features,
            },
            View {
                data: &self.classifier,
                row_stride: PITCH_BINS,
            },
            y,
            PITCH_BINS,
            false,
        );
        for (v, b) in y.iter_mut().zip(&self.classifier_bias) {
            *v = 1.0 / (1.0 + (-(*v + b)).exp());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pitch::CrepeConfig;
    use burn::tensor::{Device, Distribution, TensorData, Tolerance};

    /// The CPU pass equals burn's layer-by-layer forward on random weights, random batch-norm
    /// statistics and a batch of frames (multiplier 2: every layer, every padding).
    #[test]
    fn equals_the_tensor_forward() {
        let device = Device::default();
        let mut model = CrepeConfig::new().with_capacity_multiplier(2).init(&device);
        for layer in &mut model.layers {
            let c = layer.bn.gamma.dims()[0];
            let rand =
                |lo: f64, hi: f64| Tensor::<1>::random([c], Distribution::Uniform(lo, hi), &device);
            layer.bn.gamma = burn::module::Param::from_tensor(rand(-1.5, 1.5));
            layer.bn.beta = burn::module::Param::from_tensor(rand(-0.5, 0.5));
            layer.bn.running_mean = burn::module::RunningState::new(rand(-0.2, 0.2));
            layer.bn.running_var = burn::module::RunningState::new(rand(0.5, 2.0));
        }
        let frames = Tensor::<2>::random([5, WINDOW_SIZE], Distribution::Normal(0.0, 1.0), &device);
        let expected = model.forward_ops(frames.clone());
        let cpu = CrepeCpu::new(&model).forward(&values(frames));
        TensorData::new(cpu, [5, PITCH_BINS])
            .assert_approx_eq::<f32>(&expected.into_data(), Tolerance::absolute(1e-5));
    }

    #[test]
    #[should_panic(expected = "whole 1024-sample frames")]
    fn a_partial_frame_panics() {
        let model = CrepeConfig::new()
            .with_capacity_multiplier(1)
            .init(&Device::default());
        CrepeCpu::new(&model).forward(&[0.0; 1000]);
    }
}
