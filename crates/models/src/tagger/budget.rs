//! The parameter budgets at which Choi et al. compare their taggers, and the one convolution
//! layer the three share.
//!
//! Choi, Fazekas, Sandler & Cho (2017), "Convolutional recurrent neural networks for music
//! classification", ICASSP, arXiv:1609.04243: Sec. 2 (the structures, "an identical setting of
//! dropout, batch normalization, activation function (ELU)") and the memory-controlled
//! comparison at 0.1M, 0.25M, 0.5M, 1M and 3M parameters, reached by keeping the depth and the
//! output fixed and scaling the width of every other layer by one factor (the authors' blog
//! post, "Scaling networks"). Counts are for the paper's 50 outputs (MSD top-50 tags) and 96
//! mel bins, with Keras' counting (4 batch-norm values per channel); another class count moves
//! them by `width · Δclasses`.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::blocks::conv_block::elu;
use crate::blocks::{KERAS_BN_EPSILON, KERAS_BN_MOMENTUM_BURN, keras_init};
use crate::error::ModelError;
use crate::kernels;

/// Mel bins of the paper's input.
pub const CHOI_MELS: usize = 96;
/// Outputs of the paper's tagger (MSD top-50 tags), at which the budgets are met.
pub const CHOI_TAGS: usize = 50;

/// A parameter budget of the paper's comparison.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Budget {
    /// 0.1M parameters.
    #[serde(rename = "100k")]
    K100,
    /// 0.25M.
    #[serde(rename = "250k")]
    K250,
    /// 0.5M.
    #[serde(rename = "500k")]
    K500,
    /// 1M, the budget of the paper's per-tag comparison (its Fig. 3).
    #[default]
    #[serde(rename = "1m")]
    M1,
    /// 3M.
    #[serde(rename = "3m")]
    M3,
}

impl Budget {
    /// Every budget, smallest first.
    pub const ALL: [Budget; 5] = [
        Budget::K100,
        Budget::K250,
        Budget::K500,
        Budget::M1,
        Budget::M3,
    ];

    /// The nominal parameter count.
    pub fn params(self) -> usize {
        match self {
            Budget::K100 => 100_000,
            Budget::K250 => 250_000,
            Budget::K500 => 500_000,
            Budget::M1 => 1_000_000,
            Budget::M3 => 3_000_000,
        }
    }

    /// Index into a per-budget width table.
    pub(crate) fn index(self) -> usize {
        Budget::ALL
            .iter()
            .position(|b| *b == self)
            .expect("ALL lists every budget")
    }
}

/// `Conv2D 'same' -> BatchNorm(channels) -> ELU`, the convolution of all three taggers (the
/// authors' Keras code puts the batch-norm before the ELU; pooling and dropout follow in the
/// model).
#[derive(Module, Debug)]
pub struct ConvLayer {
    /// The convolution, Keras-initialised.
    pub conv: Conv2d,
    /// Batch-norm over channels.
    pub norm: BatchNorm,
}

impl ConvLayer {
    /// A `kernel` = `[mels, frames]` convolution with TensorFlow 'same' padding (the odd zero
    /// of an even kernel after).
    pub fn init(channels: [usize; 2], kernel: [usize; 2], device: &Device) -> Self {
        let before = kernel.map(|k| (k - 1) / 2);
        let after = [kernel[0] - 1 - before[0], kernel[1] - 1 - before[1]];
        let padding = PaddingConfig2d::Explicit(before[0], before[1], after[0], after[1]);
        ConvLayer {
            conv: keras_init::conv2d(channels, kernel, padding, device),
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
        let x = kernels::conv::conv2d(&self.conv, x); // [batch, out, mels, frames]
        elu(self.norm.forward(x))
    }
}

/// The checks the taggers' configs share: pools that are positive and leave at least one mel
/// bin of `mels`, and dropout rates in [0, 1) (named for the message).
///
/// # Errors
/// [`ModelError::InvalidConfig`] naming the offending field.
pub(crate) fn check_pools_and_dropouts<const N: usize>(
    mels: usize,
    pools: &[[usize; 2]; N],
    dropouts: [(&str, f64); 2],
) -> Result<(), ModelError> {
    let mels_out = pools.iter().fold(mels, |m, p| m / p[0].max(1));
    if pools.iter().flatten().any(|p| *p == 0) || mels_out == 0 {
        return Err(ModelError::InvalidConfig(format!(
            "pools {pools:?} must be positive and leave a mel bin of {mels}"
        )));
    }
    for (name, p) in dropouts {
        if !(0.0..1.0).contains(&p) {
            return Err(ModelError::InvalidConfig(format!(
                "{name} must be in [0, 1), got {p}"
            )));
        }
    }
    Ok(())
}

/// The last max-pool of k1c2 and k2c2: `pool[0]` mel bins, and every remaining frame.
///
/// At the paper's 29.1 s input (1366 frames) their last pool spans exactly the frames left
/// (1366 -> 341 -> 68 -> 8 -> 1 and 1366 -> 341 -> 85 -> 21 -> 4 -> 1), so this is the same
/// layer there; taking the maximum over whatever remains lets the taggers read clips of other
/// lengths (singer clips are shorter).
///
/// # Shapes
/// - `x`: `[batch, channels, mels, frames]`
/// - output: `[batch, channels, mels / pool[0], 1]`
pub(crate) fn pool_mels_and_all_frames(x: Tensor<4>, mels_pool: usize) -> Tensor<4> {
    let x = kernels::max_pool(x, [mels_pool, 1]); // [batch, channels, mels / p, frames]
    x.max_dim(3)
}

/// Checks the three taggers' tests share: parameter counts per budget and output shapes.
#[cfg(test)]
pub(crate) mod checks {
    use burn::tensor::{Device, Distribution, Tensor};

    use super::{Budget, CHOI_TAGS};
    use crate::classifier::SingerModel;

    /// The model built for each budget (with [`CHOI_TAGS`] outputs) has exactly `counts[i]`
    /// parameters, within 3 % of the budget (the paper's matching).
    pub(crate) fn budgets_land_within_three_percent(
        counts: [usize; 5],
        build: impl Fn(usize, Budget, &Device) -> Box<dyn SingerModel>,
    ) {
        let device = Device::default();
        for (budget, count) in Budget::ALL.into_iter().zip(counts) {
            let params = build(CHOI_TAGS, budget, &device).num_params();
            assert_eq!(params, count, "{budget:?}");
            let off = params as f64 / budget.params() as f64 - 1.0;
            assert!(
                off.abs() < 0.03,
                "{budget:?}: {params} is {:+.1} %",
                off * 100.0
            );
        }
    }

    /// For random 96-mel clips of each `(budget, batch, frames)`, the logits are
    /// `[batch, 7]` and the embedding `[batch, embedding_dim(budget)]`.
    pub(crate) fn output_shapes_for_the_96_mel_input(
        cases: [(Budget, usize, usize); 3],
        build: impl Fn(usize, Budget, &Device) -> Box<dyn SingerModel>,
        embedding_dim: impl Fn(Budget) -> usize,
    ) {
        let device = Device::default();
        for (budget, batch, frames) in cases {
            let model = build(7, budget, &device);
            let x = Tensor::random(
                [batch, 1, 96, frames],
                Distribution::Uniform(-80.0, 0.0),
                &device,
            );
            let out = model.forward(x, None);
            assert_eq!(out.logits.dims(), [batch, 7]);
            assert_eq!(out.embedding.dims(), [batch, embedding_dim(budget)]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::tensor::{TensorData, Tolerance};

    /// A 1 x 4 all-ones kernel on one mel row [1, 2, 3, 4, 5] with TF 'same' padding (one zero
    /// before, two after): sums over [-1..3), [0..4), ... = [0+1+2+3, 1+2+3+4, 2+3+4+5,
    /// 3+4+5+0, 4+5+0+0] = [6, 10, 14, 12, 9]; the fresh batch-norm divides by sqrt(1.001),
    /// the ELU keeps positives.
    #[test]
    fn even_kernel_same_padding_by_hand() {
        let device = Device::default();
        let mut layer = ConvLayer::init([1, 1], [1, 4], &device);
        layer.conv.weight = Param::from_tensor(Tensor::ones([1, 1, 1, 4], &device));
        let x = Tensor::from_data(
            TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0, 5.0], [1, 1, 1, 5]),
            &device,
        );
        let s = 1.0 / 1.001f32.sqrt();
        layer.forward(x).into_data().assert_approx_eq::<f32>(
            &TensorData::from([[[[6.0 * s, 10.0 * s, 14.0 * s, 12.0 * s, 9.0 * s]]]]),
            Tolerance::absolute(1e-4),
        );
    }

    #[test]
    fn last_pool_takes_every_frame() {
        let device = Device::default();
        let x = Tensor::<4>::from_data(
            TensorData::new(vec![1.0f32, 7.0, 2.0, 3.0, 0.0, 9.0], [1, 1, 2, 3]),
            &device,
        );
        let y = pool_mels_and_all_frames(x, 2);
        assert_eq!(y.into_data(), TensorData::from([[[[9.0f32]]]]));
    }

    #[test]
    fn budgets_round_trip_through_serde() {
        for budget in Budget::ALL {
            let json = serde_json::to_string(&budget).expect("json");
            assert_eq!(serde_json::from_str::<Budget>(&json).ok(), Some(budget));
        }
        assert_eq!(serde_json::to_string(&Budget::M1).expect("json"), "\"1m\"");
    }
}
