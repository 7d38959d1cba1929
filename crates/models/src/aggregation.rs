//! Global aggregation over time: the layer between the convolutional part and the dense layers
//! of the ICLR-2018 singer models, reducing a `[batch, frames, features]` sequence to one vector
//! per clip (none = flatten, max, average, or feed-forward attention).
//!
//! Anonymous (2018), "Learning audio features for singer identification and embedding", ICLR
//! 2018 submission, Sec. 2.2 and Fig. 1: the feature maps `(channels, frames, mels)` are reshaped
//! to `X ∈ R^{N×D}` (N frames, D = channels × mels) and aggregated over the N frames.
//! The feed-forward attention is Raffel & Ellis (2015), "Feed-forward networks with attention
//! can solve some long-term memory problems", arXiv:1512.08756, as the ICLR paper writes it:
//! Eq. (1) `σ = softmax(f(X w + b))` with `f = tanh`, `w ∈ R^D`, `b ∈ R`; Eq. (2) the softmax
//! over the N frames; Eq. (3) `x̄ = Σ_n σ_n X_n`.
//! Initialisation (not given in the paper): `w` Keras `glorot_uniform` as for a `[D, 1]`
//! kernel, `b = 0`.

use burn::module::{Module, Param};
use burn::tensor::activation::{softmax, tanh};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::blocks::keras_init::{GLOROT_UNIFORM, zero_bias};

/// How the frames are reduced (the paper's "global aggregation" column of Tables 1 and 2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// No aggregation: the `N × D` matrix is flattened, so the dense layers see every frame
    /// (and the clip length is fixed by the first dense layer).
    None,
    /// Maximum over the frames, per feature.
    Max,
    /// Mean over the frames, per feature.
    Average,
    /// Feed-forward attention, Eqs. (1)-(3), with learnable `w ∈ R^D` and `b ∈ R`.
    #[default]
    Attention,
}

impl Aggregation {
    /// Every choice, in the paper's table order.
    pub const ALL: [Aggregation; 4] = [
        Aggregation::None,
        Aggregation::Max,
        Aggregation::Average,
        Aggregation::Attention,
    ];

    /// The name as in configs (`none`, `max`, `average`, `attention`).
    pub fn name(self) -> &'static str {
        match self {
            Aggregation::None => "none",
            Aggregation::Max => "max",
            Aggregation::Average => "average",
            Aggregation::Attention => "attention",
        }
    }

    /// Length of the aggregated vector for `frames` frames of `features` features.
    pub fn output_features(self, frames: usize, features: usize) -> usize {
        match self {
            Aggregation::None => frames * features,
            _ => features,
        }
    }

    /// Builds the layer for `features`-dimensional frames (D).
    pub fn init(self, features: usize, device: &Device) -> GlobalAggregation {
        GlobalAggregation {
            attention: (self == Aggregation::Attention)
                .then(|| FeedForwardAttention::init(features, device)),
            kind: self,
        }
    }
}

impl std::fmt::Display for Aggregation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Raffel & Ellis' feed-forward attention over frames; see the module docs.
#[derive(Module, Debug)]
pub struct FeedForwardAttention {
    /// `w ∈ R^D`: one score weight per feature (a "frequency template" per channel, Sec. 4).
    pub w: Param<Tensor<1>>,
    /// `b ∈ R`, stored as `[1]`.
    pub b: Param<Tensor<1>>,
}

impl FeedForwardAttention {
    /// `w` glorot-uniform as a `[D, 1]` kernel, `b = 0`.
    pub fn init(features: usize, device: &Device) -> Self {
        Self {
            w: GLOROT_UNIFORM.init_with([features], Some(features), Some(1), device),
            b: zero_bias(1, device),
        }
    }

    /// The attention weights σ over the frames, Eqs. (1)-(2); each row sums to 1.
    ///
    /// # Shapes
    /// - `x`: `[batch, frames, features]`
    /// - output: `[batch, frames]`
    ///
    /// # Panics
    /// If `features` differs from `w`'s length.
    pub fn weights(&self, x: Tensor<3>) -> Tensor<2> {
        let [batch, frames, features] = x.dims();
        let [d] = self.w.dims();
        assert!(
            features == d,
            "attention expects [batch, frames, {d}], got {:?}",
            x.dims()
        );
        let w = self.w.val().reshape([features, 1]);
        let scores = x.reshape([batch * frames, features]).matmul(w); // [batch·frames, 1]
        let scores = scores.reshape([batch, frames]) + self.b.val().unsqueeze::<2>(); // X w + b
        softmax(tanh(scores), 1) // Eq. (1), softmax of Eq. (2) over the frames
    }

    /// The attention-weighted mean of the frames, Eq. (3).
    ///
    /// # Shapes
    /// - `x`: `[batch, frames, features]`
    /// - output: `[batch, features]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let [batch, _, features] = x.dims();
        let sigma = self.weights(x.clone()).unsqueeze_dim::<3>(2); // [batch, frames, 1]
        // Eq. (3): x̄ = Σ_n σ_n X_n
        (x * sigma).sum_dim(1).reshape([batch, features])
    }
}

/// The global aggregation layer: an [`Aggregation`] and, for attention, its parameters.
#[derive(Module, Debug)]
pub struct GlobalAggregation {
    /// The attention parameters (only for [`Aggregation::Attention`]).
    pub attention: Option<FeedForwardAttention>,
    /// Which aggregation.
    #[module(skip)]
    pub kind: Aggregation,
}

impl GlobalAggregation {
    /// Aggregates the frames.
    ///
    /// # Shapes
    /// - `x`: `[batch, frames, features]`
    /// - output: `[batch, features]`, or `[batch, frames · features]` for
    ///   [`Aggregation::None`] (frame-major: index `n · D + d`)
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let [batch, frames, features] = x.dims();
        match (&self.attention, self.kind) {
            (Some(attention), _) => attention.forward(x),
            (None, Aggregation::None) => x.reshape([batch, frames * features]),
            (None, Aggregation::Max) => x.max_dim(1).reshape([batch, features]),
            (None, Aggregation::Average) => x.mean_dim(1).reshape([batch, features]),
            (None, Aggregation::Attention) => {
                unreachable!("Aggregation::init gives attention its parameters")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, TensorData, Tolerance};

    /// One clip, N = 3 frames of D = 2 features: X = [[1, 2], [3, 0], [-1, 5]].
    fn x(device: &Device) -> Tensor<3> {
        Tensor::from_data(
            TensorData::new(vec![1.0f32, 2.0, 3.0, 0.0, -1.0, 5.0], [1, 3, 2]),
            device,
        )
    }

    fn set_attention(layer: &mut GlobalAggregation, w: [f32; 2], b: f32, device: &Device) {
        let attention = layer.attention.as_mut().expect("attention parameters");
        attention.w = Param::from_tensor(Tensor::from_floats(w, device));
        attention.b = Param::from_tensor(Tensor::from_floats([b], device));
    }

    fn values<const D: usize>(t: Tensor<D>) -> TensorData {
        t.into_data()
    }

    /// Max per feature: [max(1, 3, -1), max(2, 0, 5)] = [3, 5]; average: [3/3, 7/3];
    /// none: the frames one after the other.
    #[test]
    fn max_average_and_flatten_by_hand() {
        let device = Device::default();
        let tol = Tolerance::absolute(1e-6);
        let max = Aggregation::Max.init(2, &device).forward(x(&device));
        values(max).assert_approx_eq::<f32>(&TensorData::from([[3.0f32, 5.0]]), tol);
        let avg = Aggregation::Average.init(2, &device).forward(x(&device));
        values(avg).assert_approx_eq::<f32>(&TensorData::from([[1.0f32, 7.0 / 3.0]]), tol);
        let flat = Aggregation::None.init(2, &device).forward(x(&device));
        values(flat)
            .assert_approx_eq::<f32>(&TensorData::from([[1.0f32, 2.0, 3.0, 0.0, -1.0, 5.0]]), tol);
    }

    /// w = [1, 0], b = 0: X w = [1, 3, -1]; tanh -> [0.761594, 0.995055, -0.761594];
    /// exp -> [2.141688, 2.704872, 0.466921], sum 5.313482, so
    /// σ = [0.403067, 0.509058, 0.087875] (Eqs. 1-2) and, Eq. (3),
    /// x̄ = [0.403067 + 3 · 0.509058 - 0.087875, 2 · 0.403067 + 5 · 0.087875]
    ///   = [1.842367, 1.245508].
    /// w = [0.5, -0.25], b = 0.1: X w + b = [0.1, 1.6, -1.65]; tanh -> [0.099668, 0.921669,
    /// -0.928858]; σ = [0.275286, 0.626289, 0.098424]; x̄ = [2.055730, 1.042694].
    #[test]
    fn attention_by_hand() {
        let device = Device::default();
        let tol = Tolerance::absolute(1e-5);
        let mut layer = Aggregation::Attention.init(2, &device);
        for (w, b, sigma, out) in [
            (
                [1.0, 0.0],
                0.0,
                [0.403_067, 0.509_058, 0.087_875],
                [1.842_367, 1.245_508],
            ),
            (
                [0.5, -0.25],
                0.1,
                [0.275_286, 0.626_289, 0.098_424],
                [2.055_730, 1.042_694],
            ),
        ] {
            set_attention(&mut layer, w, b, &device);
            let attention = layer.attention.as_ref().expect("attention");
            values(attention.weights(x(&device)))
                .assert_approx_eq::<f32>(&TensorData::from([sigma]), tol);
            values(layer.forward(x(&device)))
                .assert_approx_eq::<f32>(&TensorData::from([out]), tol);
        }
    }

    /// w = 0, b = 0: every score is tanh(0) = 0, so σ = 1/N and attention is the average.
    #[test]
    fn zero_attention_is_the_average() {
        let device = Device::default();
        let mut layer = Aggregation::Attention.init(2, &device);
        set_attention(&mut layer, [0.0, 0.0], 0.0, &device);
        values(layer.forward(x(&device))).assert_approx_eq::<f32>(
            &TensorData::from([[1.0f32, 7.0 / 3.0]]),
            Tolerance::absolute(1e-6),
        );
    }

    /// Random weights and inputs: every row of σ is positive and sums to 1.
    #[test]
    fn attention_weights_sum_to_one() {
        let device = Device::default();
        let layer = Aggregation::Attention.init(24, &device);
        let x = Tensor::random([5, 17, 24], Distribution::Normal(0.0, 3.0), &device);
        let sigma = layer.attention.as_ref().expect("attention").weights(x);
        assert_eq!(sigma.dims(), [5, 17]);
        let positive: f32 = sigma.clone().min().into_scalar();
        assert!(positive > 0.0);
        values(sigma.sum_dim(1))
            .assert_approx_eq::<f32>(&TensorData::from([[1.0f32]; 5]), Tolerance::absolute(1e-5));
    }

    #[test]
    fn output_shapes_and_parameters() {
        let device = Device::default();
        for kind in Aggregation::ALL {
            let layer = kind.init(6, &device);
            let y = layer.forward(Tensor::zeros([3, 4, 6], &device));
            assert_eq!(y.dims(), [3, kind.output_features(4, 6)], "{kind}");
            let params = if kind == Aggregation::Attention { 7 } else { 0 };
            assert_eq!(layer.num_params(), params, "{kind}: D + 1 for attention");
        }
    }

    #[test]
    #[should_panic(expected = "attention expects")]
    fn wrong_feature_count_panics() {
        let device = Device::default();
        let _ = Aggregation::Attention
            .init(6, &device)
            .forward(Tensor::zeros([1, 4, 5], &device));
    }

    #[test]
    fn gradients_reach_w_and_b() {
        let device = Device::default().autodiff();
        let layer = Aggregation::Attention.init(4, &device);
        let x = Tensor::random([2, 5, 4], Distribution::Normal(0.0, 1.0), &device);
        let grads = layer.forward(x).powi_scalar(2).sum().backward();
        let attention = layer.attention.as_ref().expect("attention");
        assert!(attention.w.val().grad(&grads).is_some());
        assert!(attention.b.val().grad(&grads).is_some());
    }

    #[test]
    fn names_round_trip_through_serde() {
        for kind in Aggregation::ALL {
            let json = serde_json::to_string(&kind).expect("json");
            assert_eq!(json, format!("\"{}\"", kind.name()));
            assert_eq!(serde_json::from_str::<Aggregation>(&json).ok(), Some(kind));
        }
        assert!(serde_json::from_str::<Aggregation>("\"mean\"").is_err());
    }
}
