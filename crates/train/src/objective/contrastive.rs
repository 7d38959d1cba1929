//! The contrastive loss of a siamese embedding network: pull same-singer pairs together, push
//! different-singer pairs at least a margin apart.
//!
//! Hadsell, Chopra and LeCun, "Dimensionality Reduction by Learning an Invariant Mapping",
//! CVPR 2006, Eq. (4), with `y = 1` for a similar pair (their `Y = 0`) and the Euclidean
//! distance `d = ‖G(x₁) - G(x₂)‖₂`:
//!
//! `L = ½ y d² + ½ (1 - y) max(0, m - d)²`  ([`ContrastiveForm::Hadsell`], the default)
//!
//! Lee, Rafii, Stoller and Bello ("Singer identification and singing performance embedding",
//! ICLR 2018 submission, Sec. 3.5, Eqs. (4)-(5)) cite the same loss but write it over the
//! *squared* distance `D = ‖G(x₁) - G(x₂)‖₂²` with an unsquared hinge, margin `m = 1` "throughout
//! the experiments", on 16-d embeddings and pairs drawn 1 : 1 same / different:
//!
//! `L = ½ y D + ½ (1 - y) max(0, m - D)`  ([`ContrastiveForm::SquaredDistance`])
//!
//! Same pairs pay the same in both; different pairs are inside the margin for the same pairs
//! when `m = 1` (`D < 1 ⟺ d < 1`) but pay a linear instead of a quadratic penalty in `D`. Their
//! Table 2 test losses (0.32-0.38) are on the `SquaredDistance` scale. Both keep the papers'
//! factor ½ (so the gradient of a same pair is `G(x₁) - G(x₂)`), and the batch loss is the mean
//! over pairs.

use burn::config::Config;
use burn::tensor::{Bool, Tensor};
use serde::{Deserialize, Serialize};

/// Below this squared distance `d` is taken as exactly 0: `sqrt` only ever sees `D >= ε`, so
/// identical embeddings get a zero gradient instead of `0 · ∞ = NaN`, and the loss of a pair
/// closer than `√ε = 1e-6` is that of `d = 0`.
const SQUARED_DISTANCE_FLOOR: f64 = 1e-12;

/// Which contrastive formula; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContrastiveForm {
    /// Hadsell et al. (2006) Eq. (4): `½ y d² + ½ (1 - y) max(0, m - d)²`, `d` Euclidean.
    Hadsell,
    /// Lee et al. (2018) Eq. (5): `½ y D + ½ (1 - y) max(0, m - D)`, `D = d²`.
    SquaredDistance,
}

/// [`ContrastiveLoss`] configuration.
#[derive(Config, Debug, PartialEq)]
pub struct ContrastiveLossConfig {
    /// The margin `m` (> 0): different pairs farther apart than it cost nothing. In units of
    /// `d` for [`ContrastiveForm::Hadsell`], of `D = d²` for `SquaredDistance`; 1 in Lee et al.
    #[config(default = 1.0)]
    pub margin: f64,
    /// The formula; default Hadsell et al.'s.
    #[config(default = "ContrastiveForm::Hadsell")]
    pub form: ContrastiveForm,
}

impl ContrastiveLossConfig {
    /// The loss.
    ///
    /// # Panics
    ///
    /// If `margin` is not finite and positive (a programmer error: configs are validated where
    /// a user sets them).
    pub fn init(&self) -> ContrastiveLoss {
        assert!(
            self.margin.is_finite() && self.margin > 0.0,
            "the contrastive margin must be finite and positive, got {}",
            self.margin
        );
        ContrastiveLoss {
            margin: self.margin,
            form: self.form,
        }
    }
}

/// The contrastive loss; built by [`ContrastiveLossConfig::init`].
#[derive(Clone, Debug)]
pub struct ContrastiveLoss {
    margin: f64,
    form: ContrastiveForm,
}

impl ContrastiveLoss {
    /// The mean loss over a batch of pairs.
    ///
    /// # Shapes
    ///
    /// - `first`, `second`: `[batch, dim]`, the two embeddings of each pair.
    /// - `same`: `[batch]`, `true` for a same-singer pair.
    /// - output: `[1]`.
    pub fn forward(&self, first: Tensor<2>, second: Tensor<2>, same: Tensor<1, Bool>) -> Tensor<1> {
        self.forward_per_pair(first, second, same).mean()
    }

    /// The loss of every pair, before the mean.
    ///
    /// # Shapes
    ///
    /// As [`Self::forward`]; output `[batch]`.
    ///
    /// # Panics
    ///
    /// If the shapes disagree.
    pub fn forward_per_pair(
        &self,
        first: Tensor<2>,
        second: Tensor<2>,
        same: Tensor<1, Bool>,
    ) -> Tensor<1> {
        let [batch, dim] = first.dims();
        assert_eq!(
            second.dims(),
            [batch, dim],
            "contrastive loss: the second embeddings must be [{batch}, {dim}]"
        );
        assert_eq!(
            same.dims(),
            [batch],
            "contrastive loss: one same/different label per pair ({batch})"
        );
        let squared = (first - second).square().sum_dim(1).squeeze_dim::<1>(1); // [batch]: D = d²
        let y = same.float(); // [batch]: 1 same, 0 different
        let not_y = y.clone().neg() + 1.0;
        let hinge = match self.form {
            // max(0, m - d)², d = √D, and 0 where D < ε
            ContrastiveForm::Hadsell => {
                let tiny = squared.clone().lower_elem(SQUARED_DISTANCE_FLOOR);
                let d = squared
                    .clone()
                    .clamp_min(SQUARED_DISTANCE_FLOOR)
                    .sqrt()
                    .mask_fill(tiny, 0.0);
                (d.neg() + self.margin).clamp_min(0.0).square()
            }
            // max(0, m - D)
            ContrastiveForm::SquaredDistance => {
                (squared.clone().neg() + self.margin).clamp_min(0.0)
            }
        };
        (y * squared + not_y * hinge) * 0.5 // [batch]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn embeddings(rows: [[f32; 2]; 4], device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(rows.concat(), [4, 2]), device)
    }

    fn values(t: Tensor<1>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().expect("f32")
    }

    fn close(got: &[f32], want: &[f32]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "got {got:?}, want {want:?}");
        }
    }

    /// Four pairs, margin 1, first embeddings at the origin:
    ///
    /// ```text
    ///   pair  second      same  d    D     Hadsell                 SquaredDistance
    ///   0     (0.6, 0.8)  yes   1    1     ½·1 = 0.5               ½·1 = 0.5
    ///   1     (0.3, 0.4)  no    0.5  0.25  ½(1-0.5)² = 0.125       ½(1-0.25) = 0.375
    ///   2     (1.2, 1.6)  no    2    4     0 (beyond the margin)   0
    ///   3     (0, 0)      no    0    0     ½(1-0)² = 0.5           ½(1-0) = 0.5
    /// ```
    ///
    /// Means: Hadsell (0.5 + 0.125 + 0 + 0.5) / 4 = 0.28125; SquaredDistance
    /// (0.5 + 0.375 + 0 + 0.5) / 4 = 0.34375.
    #[test]
    fn hand_worked_pairs() {
        let device = Device::default();
        let first = embeddings([[0.0, 0.0]; 4], &device);
        let second = embeddings([[0.6, 0.8], [0.3, 0.4], [1.2, 1.6], [0.0, 0.0]], &device);
        let same = Tensor::<1, Bool>::from_bool(
            TensorData::new(vec![true, false, false, false], [4]),
            &device,
        );
        let hadsell = ContrastiveLossConfig::new().init();
        let per_pair = hadsell.forward_per_pair(first.clone(), second.clone(), same.clone());
        close(&values(per_pair), &[0.5, 0.125, 0.0, 0.5]);
        let mean = hadsell.forward(first.clone(), second.clone(), same.clone());
        close(&values(mean), &[0.28125]);
        let iclr = ContrastiveLossConfig::new()
            .with_form(ContrastiveForm::SquaredDistance)
            .init();
        close(
            &values(iclr.forward_per_pair(first.clone(), second.clone(), same.clone())),
            &[0.5, 0.375, 0.0, 0.5],
        );
        close(&values(iclr.forward(first, second, same)), &[0.34375]);
    }

    /// A margin of 3 brings pair 2 (d = 2) inside: Hadsell ½(3 - 2)² = 0.5.
    #[test]
    fn margin_is_configurable() {
        let device = Device::default();
        let first = Tensor::<2>::zeros([1, 2], &device);
        let second = Tensor::<2>::from_floats([[1.2, 1.6]], &device);
        let same = Tensor::<1, Bool>::from_bool(TensorData::new(vec![false], [1]), &device);
        let loss = ContrastiveLossConfig::new().with_margin(3.0).init();
        close(&values(loss.forward(first, second, same)), &[0.5]);
    }

    /// Gradients: a different pair beyond the margin contributes exactly zero; a same pair's
    /// gradient with respect to `first` is `(first - second) / batch` (½ · 2 (a - b) / batch);
    /// identical embeddings give zero, not NaN.
    #[test]
    fn gradients_vanish_beyond_the_margin_and_never_nan() {
        let device = Device::default().autodiff();
        for form in [ContrastiveForm::Hadsell, ContrastiveForm::SquaredDistance] {
            let loss = ContrastiveLossConfig::new().with_form(form).init();
            // Pairs: 0 different beyond the margin (d = 2), 1 same (d = 1), 2 different and
            // identical (d = 0), 3 same and identical.
            let first = embeddings([[0.0, 0.0], [0.0, 0.0], [0.5, 0.5], [0.2, 0.1]], &device)
                .require_grad();
            let second = embeddings([[1.2, 1.6], [0.6, 0.8], [0.5, 0.5], [0.2, 0.1]], &device);
            let same = Tensor::<1, Bool>::from_bool(
                TensorData::new(vec![false, true, false, true], [4]),
                &device,
            );
            let grads = loss.forward(first.clone(), second, same).backward();
            let grad = first
                .grad(&grads)
                .expect("gradient")
                .into_data()
                .try_into_vec::<f32>()
                .expect("f32");
            assert!(grad.iter().all(|g| g.is_finite()), "{form:?}: {grad:?}");
            close(&grad[0..2], &[0.0, 0.0]);
            close(&grad[2..4], &[-0.6 / 4.0, -0.8 / 4.0]);
            close(&grad[4..8], &[0.0; 4]);
        }
    }

    /// Inside the margin a different pair is pushed apart: Hadsell, a = (0.3, 0.4), b = 0,
    /// d = 0.5, `∂/∂a ½(m - d)² = -(m - d) a / d = -0.5 (0.6, 0.8) = (-0.3, -0.4)`.
    #[test]
    fn gradient_pushes_different_pairs_apart_inside_the_margin() {
        let device = Device::default().autodiff();
        let first = Tensor::<2>::from_floats([[0.3, 0.4]], &device).require_grad();
        let second = Tensor::<2>::zeros([1, 2], &device);
        let same = Tensor::<1, Bool>::from_bool(TensorData::new(vec![false], [1]), &device);
        let grads = ContrastiveLossConfig::new()
            .init()
            .forward(first.clone(), second, same)
            .backward();
        let grad = first.grad(&grads).expect("gradient").into_data();
        close(&grad.try_into_vec::<f32>().expect("f32"), &[-0.3, -0.4]);
    }

    #[test]
    #[should_panic(expected = "the second embeddings must be [2, 3]")]
    fn mismatched_embeddings_panic() {
        let device = Device::default();
        let same = Tensor::<1, Bool>::from_bool(TensorData::new(vec![true, false], [2]), &device);
        let _ = ContrastiveLossConfig::new().init().forward(
            Tensor::zeros([2, 3], &device),
            Tensor::zeros([2, 2], &device),
            same,
        );
    }

    #[test]
    #[should_panic(expected = "finite and positive")]
    fn non_positive_margin_panics() {
        let _ = ContrastiveLossConfig::new().with_margin(0.0).init();
    }
}
