//! The fully generalized non-local (FGNL) module.
//!
//! Kuo, Wei & Lin (2021), "Positions, Channels, and Layers: Fully Generalized Non-Local Network
//! for Singer Identification", AAAI, Eqs. (7)-(9) and Fig. 2; reference code
//! ian-k-1217/Fully-Generalized-Non-Local-Network@939ca11, `FullyGeneralizedNonLocalLayer`.
//!
//! With X4 the block-4 map (queries and residual) and X3 the block-3 map:
//! `θ = G(θ(X4))`, `φ = [G(φ₄(X4)), G(φ₃(X3))]`, `g = [G(g₄(X4)), G(g₃(X3))]` (Eq. 7);
//! for each shift k < K = C/m, `S_k = θ r_k(φ)ᵀ` with `r_k` the roll by +k along channels,
//! `Y_k = softmax(S_k) g`; MoSE re-weights the stacked responses (Eq. 8); the result is reshaped
//! channel-major, shift-minor (`c·K + k`) to C/m·K channels and `Z = W_z(R̃) + X4` (Eq. 9).
//!
//! singerid follows the authors' code where it differs from the paper text:
//! - the softmax normalises over the *query* axis ([`SoftmaxOver::Queries`], the default), which
//!   makes every MoSE weight exactly 1/K; the paper's row softmax is [`SoftmaxOver::Keys`];
//! - W_z is a plain 1x1 convolution with bias, not zero-initialised and without batch-norm.
//!
//! Implementation note: the K rolled score maps are one matmul. Rolling φ by +k is the same as
//! rolling θ by -k (`Σ_c θ[n,c] φ[m,c-k] = Σ_c θ[n,c+k] φ[m,c]`), so the K rolled copies of θ are
//! concatenated along positions and multiplied by φ once. Keeping channels first (`[batch, Cr,
//! positions]`) makes the final channel-major reshape free.

use burn::config::Config;
use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::gaussian::{GaussianSmoothing, GaussianSmoothingConfig};
use super::mose::{MoseConfig, MoseHead};
use super::se::{SeConfig, SeHead};
use crate::blocks::keras_init;

/// The axis the FGNL softmax normalises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SoftmaxOver {
    /// Over the query positions n for each key m (Keras `Softmax(axis=1)`): what the authors ran.
    /// The MoSE weights are then exactly 1/K.
    Queries,
    /// Over the key positions m for each query n (rows, as the paper's Fig. 2 caption says).
    Keys,
}

/// How the K responses are re-weighted before W_z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reweighting {
    /// The authors' MoSE, Eq. (8).
    Mose,
    /// Hu et al.'s squeeze-and-excitation (Table 3 ablation).
    Se,
    /// No re-weighting (Table 3 "without MoSE").
    Off,
}

/// Whether θ, φ and g pass through the Gaussian filter G.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Smoothing {
    /// Fixed 5x5 Gaussian, σ = 0.707 (the authors').
    Gaussian,
    /// No smoothing (Table 3 "without Gaussian smoothing").
    Off,
}

/// Which layers provide the keys and values (φ and g).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySources {
    /// The query layer X4 and the previous block X3 (the full FGNL).
    CurrentAndPrevious,
    /// The query layer only (CRNN_FGNL_LIGHT, "w/o the cues across layers", Table 2).
    Current,
}

/// [`FgnlBlock`] configuration. The channel count C comes from the backbone at init.
#[derive(Config, Debug, PartialEq)]
pub struct FgnlConfig {
    /// Reduction ratio m: θ, φ, g have C/m channels and there are K = C/m shifts.
    #[config(default = 32)]
    pub reduction: usize,
    /// Softmax axis; default: the authors' (queries).
    #[config(default = "SoftmaxOver::Queries")]
    pub softmax_over: SoftmaxOver,
    /// Response re-weighting; default MoSE.
    #[config(default = "Reweighting::Mose")]
    pub reweighting: Reweighting,
    /// Gaussian smoothing of θ, φ and g; default on.
    #[config(default = "Smoothing::Gaussian")]
    pub smoothing: Smoothing,
    /// Key/value sources; default X4 and X3.
    #[config(default = "KeySources::CurrentAndPrevious")]
    pub key_sources: KeySources,
    /// Hidden width of MoSE (16) or SE.
    #[config(default = 16)]
    pub excitation_hidden: usize,
}

/// A 1x1 projection (θ, φ or g) followed by the optional Gaussian filter.
#[derive(Module, Debug)]
pub struct Projection {
    /// 1x1 convolution C -> C/m with bias.
    pub conv: Conv2d,
    /// The fixed Gaussian filter G.
    pub smoothing: Option<GaussianSmoothing>,
}

impl Projection {
    fn new(channels: usize, reduced: usize, smoothing: Smoothing, device: &Device) -> Self {
        Self {
            conv: keras_init::conv2d([channels, reduced], [1, 1], PaddingConfig2d::Valid, device),
            smoothing: match smoothing {
                Smoothing::Gaussian => Some(GaussianSmoothingConfig::new(reduced).init(device)),
                Smoothing::Off => None,
            },
        }
    }

    /// `[batch, C, h, w]` to the flattened `[batch, C/m, h * w]` (position `n = row * w + col`).
    fn forward(&self, x: Tensor<4>) -> Tensor<3> {
        let x = self.conv.forward(x); // [batch, reduced, h, w]
        let x = match &self.smoothing {
            Some(g) => g.forward(x),
            None => x,
        };
        x.flatten(2, 3) // [batch, reduced, h * w]
    }
}

/// The response re-weighting head.
#[derive(Module, Debug)]
pub enum Excitation {
    /// MoSE, softmax over shifts.
    Mose(MoseHead),
    /// SE, sigmoid gates.
    Se(SeHead),
}

/// FGNL; see the module docs.
#[derive(Module, Debug)]
pub struct FgnlBlock {
    /// θ on X4.
    pub theta: Projection,
    /// φ on X4.
    pub phi_current: Projection,
    /// φ on X3 (absent in the light variant).
    pub phi_previous: Option<Projection>,
    /// g on X4.
    pub g_current: Projection,
    /// g on X3 (absent in the light variant).
    pub g_previous: Option<Projection>,
    /// MoSE or SE; absent when re-weighting is off.
    pub excitation: Option<Excitation>,
    /// W_z: 1x1 convolution (C/m)·K -> C with bias.
    pub w_z: Conv2d,
    /// Softmax axis.
    #[module(skip)]
    pub softmax_over: SoftmaxOver,
}

/// Intermediate tensors of one FGNL pass, in singerid's channels-first layouts.
#[derive(Debug, Default, Clone)]
pub struct FgnlTrace {
    /// θ: `[batch, Cr, N]`.
    pub theta: Option<Tensor<3>>,
    /// φ (X4 positions first): `[batch, Cr, M]`.
    pub phi: Option<Tensor<3>>,
    /// g: `[batch, Cr, M]`.
    pub g: Option<Tensor<3>>,
    /// Attention maps: `[batch, M, K * N]`, entry `[m, k * N + n]` = `A_k[n, m]`.
    pub attention: Option<Tensor<3>>,
    /// Stacked responses R: `[batch, Cr, K, N]`, entry `[c, k, n]` = `R[n, c, k]`.
    pub responses: Option<Tensor<4>>,
    /// Re-weighting weights `[batch, K]` (absent when re-weighting is off).
    pub weights: Option<Tensor<2>>,
    /// Re-weighted responses reshaped for W_z: `[batch, Cr * K, H4, W4]`.
    pub reweighted: Option<Tensor<4>>,
    /// Output Z: `[batch, C, H4, W4]`.
    pub output: Option<Tensor<4>>,
}

impl FgnlConfig {
    /// Builds the module for `channels` input channels.
    ///
    /// # Panics
    /// If `channels` is not a positive multiple of the reduction ratio.
    pub fn init(&self, channels: usize, device: &Device) -> FgnlBlock {
        assert!(
            self.reduction > 0
                && channels >= self.reduction
                && channels.is_multiple_of(self.reduction),
            "FGNL needs channels ({channels}) to be a positive multiple of the reduction ({})",
            self.reduction
        );
        let reduced = channels / self.reduction;
        let shifts = reduced;
        let projection = || Projection::new(channels, reduced, self.smoothing, device);
        let previous = || match self.key_sources {
            KeySources::CurrentAndPrevious => Some(projection()),
            KeySources::Current => None,
        };
        FgnlBlock {
            theta: projection(),
            phi_current: projection(),
            phi_previous: previous(),
            g_current: projection(),
            g_previous: previous(),
            excitation: match self.reweighting {
                Reweighting::Mose => Some(Excitation::Mose(
                    MoseConfig::new()
                        .with_hidden(self.excitation_hidden)
                        .init(device),
                )),
                Reweighting::Se => Some(Excitation::Se(
                    SeConfig::new()
                        .with_hidden(self.excitation_hidden)
                        .init(shifts, device),
                )),
                Reweighting::Off => None,
            },
            w_z: keras_init::conv2d(
                [reduced * shifts, channels],
                [1, 1],
                PaddingConfig2d::Valid,
                device,
            ),
            softmax_over: self.softmax_over,
        }
    }
}

impl FgnlBlock {
    /// Whether φ and g also read the previous block.
    pub fn uses_previous(&self) -> bool {
        self.phi_previous.is_some()
    }

    /// Z = FGNL(X4, [X4, X3]).
    ///
    /// # Shapes
    /// - `current` (X4): `[batch, C, H4, W4]`
    /// - `previous` (X3): `[batch, C, H3, W3]`, required iff the module uses it
    /// - output: `[batch, C, H4, W4]`
    pub fn forward(&self, current: Tensor<4>, previous: Option<Tensor<4>>) -> Tensor<4> {
        self.forward_traced(current, previous, None)
    }

    /// [`forward`](Self::forward), recording the intermediates into `trace` when given.
    pub fn forward_traced(
        &self,
        current: Tensor<4>,
        previous: Option<Tensor<4>>,
        trace: Option<&mut FgnlTrace>,
    ) -> Tensor<4> {
        let [batch, channels, height, width] = current.dims();
        let [reduced, c_in, _, _] = self.theta.conv.weight.dims();
        assert!(
            channels == c_in,
            "FGNL expects {c_in} channels, got {:?}",
            current.dims()
        );
        let positions = height * width;
        let shifts = reduced;

        // Eq. (7): θ, and φ, g over the concatenated positions (X4 first, then X3).
        let theta = self.theta.forward(current.clone()); // [batch, Cr, N]
        let (phi, g) = match (&self.phi_previous, &self.g_previous, previous) {
            (Some(phi_previous), Some(g_previous), Some(previous)) => {
                let [b3, c3, _, _] = previous.dims();
                assert!(
                    b3 == batch && c3 == channels,
                    "FGNL expects X3 as [{batch}, {channels}, h, w], got {:?}",
                    previous.dims()
                );
                let phi = Tensor::cat(
                    vec![
                        self.phi_current.forward(current.clone()),
                        phi_previous.forward(previous.clone()),
                    ],
                    2,
                );
                let g = Tensor::cat(
                    vec![
                        self.g_current.forward(current.clone()),
                        g_previous.forward(previous),
                    ],
                    2,
                );
                (phi, g) // [batch, Cr, M]
            }
            (None, None, None) => (
                self.phi_current.forward(current.clone()),
                self.g_current.forward(current.clone()),
            ),
            (Some(_), _, None) => panic!("this FGNL module reads the previous block: pass X3"),
            _ => panic!("this FGNL module reads X4 only: do not pass X3"),
        };
        let keys = phi.dims()[2];

        // Roll r_k: φ_k[m, c] = φ[m, (c - k) mod Cr], i.e. θ rolled by -k (see module docs).
        let theta_rolled = Tensor::cat(
            (0..shifts)
                .map(|k| theta.clone().roll_dim(-(k as i64), 1))
                .collect(),
            2,
        ); // [batch, Cr, K * N]
        // Scores S_k[n, m] = Σ_c θ[n, c] φ_k[m, c], no scaling, stored transposed.
        let scores = phi.clone().swap_dims(1, 2).matmul(theta_rolled); // [batch, M, K * N]
        let attention = match self.softmax_over {
            SoftmaxOver::Queries => softmax(scores.reshape([batch, keys, shifts, positions]), 3)
                .reshape([batch, keys, shifts * positions]),
            SoftmaxOver::Keys => softmax(scores, 1),
        }; // [batch, M, K * N]
        // Y_k[n, c] = Σ_m A_k[n, m] g[m, c], stacked as R[n, c, k].
        let responses = g
            .clone()
            .matmul(attention.clone())
            .reshape([batch, reduced, shifts, positions]); // [batch, Cr, K, N]

        // Eq. (8): squeeze over (n, c), excite, re-weight.
        let weights = self.excitation.as_ref().map(|head| {
            let squeezed = responses
                .clone()
                .mean_dims(&[1, 3])
                .reshape([batch, shifts]);
            match head {
                Excitation::Mose(mose) => mose.forward(squeezed),
                Excitation::Se(se) => se.forward(squeezed),
            } // [batch, K]
        });
        let reweighted = match &weights {
            Some(w) => responses.clone() * w.clone().reshape([batch, 1, shifts, 1]),
            None => responses.clone(),
        };
        // Row-major reshape (N, Cr, K) -> (H4, W4, Cr·K): channel c·K + k, free in this layout.
        let reweighted = reweighted.reshape([batch, reduced * shifts, height, width]);

        // Eq. (9): Z = R̃ W_z + X4.
        let output = current + self.w_z.forward(reweighted.clone()); // [batch, C, H4, W4]

        if let Some(trace) = trace {
            trace.theta = Some(theta);
            trace.phi = Some(phi);
            trace.g = Some(g);
            trace.attention = Some(attention);
            trace.responses = Some(responses);
            trace.weights = weights;
            trace.reweighted = Some(reweighted);
            trace.output = Some(output.clone());
        }
        output
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    fn random(shape: [usize; 4], device: &Device) -> Tensor<4> {
        Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
    }

    #[test]
    fn output_shape_and_param_counts() {
        let device = Device::default();
        for (channels, params) in [(128, 5_305), (256, 27_969)] {
            let block = FgnlConfig::new().init(channels, &device);
            assert_eq!(block.num_params(), params);
            let z = block.forward(
                random([2, channels, 16, 5], &device),
                Some(random([2, channels, 32, 11], &device)),
            );
            assert_eq!(z.dims(), [2, channels, 16, 5]);
        }
        let light = FgnlConfig::new()
            .with_key_sources(KeySources::Current)
            .init(128, &device);
        assert_eq!(light.num_params(), 5_305 - (2 * (128 * 4 + 4) + 2 * 100));
        let z = light.forward(random([2, 128, 16, 5], &device), None);
        assert_eq!(z.dims(), [2, 128, 16, 5]);
    }

    /// With the query-axis softmax every key's attention column sums to 1, so each squeezed
    /// response equals mean(g) whatever the shift, and MoSE's weights are exactly 1/K.
    #[test]
    fn query_softmax_makes_mose_uniform() {
        let device = Device::default();
        let block = FgnlConfig::new().init(128, &device);
        let mut trace = FgnlTrace::default();
        let _ = block.forward_traced(
            random([2, 128, 4, 3], &device),
            Some(random([2, 128, 8, 6], &device)),
            Some(&mut trace),
        );
        let w = trace.weights.expect("MoSE weights");
        let w = w.into_data().try_to_vec::<f32>().expect("f32");
        assert!(w.iter().all(|v| (v - 0.25).abs() < 1e-5), "{w:?}");

        let keys = FgnlConfig::new()
            .with_softmax_over(SoftmaxOver::Keys)
            .init(128, &device);
        let mut trace = FgnlTrace::default();
        let _ = keys.forward_traced(
            random([2, 128, 4, 3], &device),
            Some(random([2, 128, 8, 6], &device)),
            Some(&mut trace),
        );
        // Rows sum to 1 under the key softmax.
        let a = trace.attention.expect("attention").sum_dim(1);
        let a = a.into_data().try_to_vec::<f32>().expect("f32");
        assert!(a.iter().all(|v| (v - 1.0).abs() < 1e-4));
    }

    #[test]
    #[should_panic(expected = "pass X3")]
    fn missing_previous_block_panics() {
        let device = Device::default();
        let block = FgnlConfig::new().init(128, &device);
        let _ = block.forward(random([1, 128, 4, 3], &device), None);
    }

    #[test]
    #[should_panic(expected = "FGNL expects 128 channels")]
    fn wrong_channels_panic() {
        let device = Device::default();
        let block = FgnlConfig::new().init(128, &device);
        let _ = block.forward(random([1, 64, 4, 3], &device), None);
    }

    #[test]
    fn roll_moves_channel_c_to_c_plus_k() {
        // tf.roll(x, shift=1) on [a, b, c, d] gives [d, a, b, c]; burn's roll_dim must agree.
        let device = Device::default();
        let x = Tensor::<1>::from_floats([1.0, 2.0, 3.0, 4.0], &device);
        let y = x
            .roll_dim(1, 0)
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32");
        assert_eq!(y, vec![4.0, 1.0, 2.0, 3.0]);
    }
}
