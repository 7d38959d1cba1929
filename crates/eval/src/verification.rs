//! Singer verification: "are these two clips sung by the same singer?" scored from embeddings,
//! and its equal error rate (EER).
//!
//! - [`pair_scores`]: the cosine similarity of every pair of a set of labelled embeddings, with
//!   whether the pair shares a label: the trials of a verification test.
//! - [`eer`]: the operating point where the false-acceptance rate (FAR, different-singer pairs
//!   accepted) equals the false-rejection rate (FRR, same-singer pairs rejected), read off the
//!   ROC of [`crate::roc`].
//!
//! **EER definition.** With `score >= t` accepted, each ROC point `i` (descending thresholds,
//! one per distinct score, [`crate::roc::roc_curve`]) has `FARᵢ = fprᵢ` and
//! `FRRᵢ = 1 - tprᵢ`. FAR rises and FRR falls along the curve; `i` is the first point with
//! `FRRᵢ <= FARᵢ` (always `i >= 1`, since point 0 has FAR 0 and FRR 1). Between points `i-1`
//! and `i` the ROC is a straight segment, and the EER is where it crosses `FAR = FRR`:
//!
//! `λ = (FRRᵢ₋₁ - FARᵢ₋₁) / ((FRRᵢ₋₁ - FARᵢ₋₁) - (FRRᵢ - FARᵢ))`,
//! `EER = FARᵢ₋₁ + λ (FARᵢ - FARᵢ₋₁)`.
//!
//! This is the crossing of the piecewise-linear ROC with the anti-diagonal `tpr = 1 - fpr`, the
//! value `brentq(lambda x: 1 - x - interp(x, fpr, tpr), 0, 1)` finds (the common
//! scikit-learn recipe), not the EER of the ROC convex hull (BOSARIS `rocch`), which is lower
//! or equal. The reported threshold is the score at point `i`: accepting `score >= threshold`
//! gives `FRR <= EER <= FAR`, the closest real operating point on the secure side of the
//! crossing.
//!
//! Checked against scikit-learn 1.9.1 (`tools/verification_reference.py`,
//! `tests/verification_oracle.rs`).
//!
//! # References
//!
//! - A. Martin et al., "The DET curve in assessment of detection task performance",
//!   Eurospeech 1997 (FAR / FRR trade-off).
//! - N. Brümmer and E. de Villiers, "The BOSARIS toolkit", 2011 (the ROC convex hull EER, which
//!   this is not).

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::roc::roc_curve;

/// The equal error rate and where it is reached.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Eer {
    /// The rate, in `[0, 1]`, where FAR = FRR on the piecewise-linear ROC.
    pub eer: f64,
    /// The score at the first ROC point with `FRR <= FAR`; see the module docs.
    pub threshold: f64,
}

/// The equal error rate of verification trials.
///
/// # Parameters
///
/// - `scores`: one finite similarity per trial (pair); higher means more alike.
/// - `same`: whether each pair is a target trial (same singer), same length.
///
/// # Errors
///
/// - [`Error::LengthMismatch`] if the lengths differ.
/// - [`Error::NoSamples`] if both are empty.
/// - [`Error::NonFinite`] naming the first NaN or infinite score.
/// - [`Error::SingleClass`] unless there are both same and different pairs.
pub fn eer(scores: &[f64], same: &[bool]) -> Result<Eer, Error> {
    let curve = roc_curve(scores, same)?;
    let (p, n) = (curve.positives(), curve.negatives());
    // `(FRRᵢ - FARᵢ) P N = (P - tpᵢ) N - fpᵢ P`, in integers so that the comparison with 0
    // is exact (1 - 2/3 > 1/3 in f64).
    let gap = |i: usize| -> i128 {
        i128::from(p - curve.true_positives[i]) * i128::from(n)
            - i128::from(curve.false_positives[i]) * i128::from(p)
    };
    let i = (1..curve.thresholds.len())
        .find(|&i| gap(i) <= 0)
        // The last point has FAR 1 and FRR 0, so some point qualifies.
        .unwrap_or(curve.thresholds.len() - 1);
    let (gap_before, gap_after) = (gap(i - 1), gap(i)); // > 0, <= 0
    let lambda = gap_before as f64 / (gap_before - gap_after) as f64;
    let fp_before = curve.false_positives[i - 1] as f64;
    let fp_step = (curve.false_positives[i] - curve.false_positives[i - 1]) as f64;
    Ok(Eer {
        eer: (fp_before + lambda * fp_step) / n as f64,
        threshold: curve.thresholds[i],
    })
}

/// Verification trials: one score per pair and whether the pair is a target (same label).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PairScores {
    /// Cosine similarity of each pair, in `[-1, 1]`.
    pub scores: Vec<f64>,
    /// Whether each pair shares its label.
    pub same: Vec<bool>,
    /// The two set indices `(i, j)`, `i < j`, of each pair.
    pub pairs: Vec<(usize, usize)>,
}

/// The cosine similarity of every unordered pair of `set`, in the order `(0, 1), (0, 2), …,
/// (1, 2), …`: `n (n - 1) / 2` trials for [`eer`].
///
/// `cos(a, b) = a·b / (‖a‖ ‖b‖)`, accumulated in f64. Memory and time grow as `n²`
/// (10,000 embeddings give 50 million trials, about 1.2 GB); score song- or recording-level
/// embeddings (the mean of a recording's clips, as Lee et al. (2018) do) when clips are many.
/// Pairs of clips from one recording are scored like any other; drop them by
/// [`PairScores::pairs`] for a song-disjoint protocol.
///
/// # Errors
///
/// - [`Error::NoSamples`] if `set` has fewer than two entries.
/// - [`Error::LengthMismatch`] if an embedding's dimension differs from the first's.
/// - [`Error::ZeroNorm`] naming the first all-zero embedding.
pub fn pair_scores<L: PartialEq>(set: &[(L, Vec<f32>)]) -> Result<PairScores, Error> {
    if set.len() < 2 {
        return Err(Error::NoSamples);
    }
    let unit = unit_vectors(set.iter().map(|(_, e)| e.as_slice()), "set")?;
    let n = set.len();
    let mut trials = PairScores::default();
    let capacity = n * (n - 1) / 2;
    trials.scores.reserve(capacity);
    trials.same.reserve(capacity);
    trials.pairs.reserve(capacity);
    for i in 0..n {
        for j in i + 1..n {
            trials.scores.push(dot(&unit[i], &unit[j]));
            trials.same.push(set[i].0 == set[j].0);
            trials.pairs.push((i, j));
        }
    }
    Ok(trials)
}

/// The cosine similarity `a·b / (‖a‖ ‖b‖)` in f64, or `None` when either norm is 0.
///
/// # Panics
///
/// If the lengths differ (a programmer error; the public entry points check them).
pub fn cosine_similarity(a: &[f32], b: &[f32]) -> Option<f64> {
    assert_eq!(a.len(), b.len(), "cosine_similarity of different lengths");
    let norm = |v: &[f32]| v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
    let (norm_a, norm_b) = (norm(a), norm(b));
    if norm_a == 0.0 || norm_b == 0.0 {
        return None;
    }
    let ab: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    Some(ab / (norm_a * norm_b))
}

/// Each embedding divided by its norm, in f64; all of one dimension.
pub(crate) fn unit_vectors<'a>(
    embeddings: impl Iterator<Item = &'a [f32]>,
    which: &'static str,
) -> Result<Vec<Vec<f64>>, Error> {
    let mut unit: Vec<Vec<f64>> = Vec::new();
    for (position, e) in embeddings.enumerate() {
        if let Some(first) = unit.first()
            && first.len() != e.len()
        {
            return Err(Error::LengthMismatch {
                what: "embedding dimension vs the first embedding's",
                left: e.len(),
                right: first.len(),
            });
        }
        let norm = e.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
        if norm == 0.0 {
            return Err(Error::ZeroNorm { which, position });
        }
        unit.push(e.iter().map(|&x| f64::from(x) / norm).collect());
    }
    Ok(unit)
}

/// `Σ aᵢ bᵢ`.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOL: f64 = 1e-12;

    /// Hand-worked: same = `[T, T, F, T, F, F]`, scores `[0.9, 0.8, 0.7, 0.6, 0.5, 0.4]`
    /// (P = 3 targets, N = 3 non-targets).
    ///
    /// ```text
    ///   point threshold  tpr  fpr   FRR  FAR
    ///   0     +inf       0    0     1    0
    ///   1     0.9        1/3  0     2/3  0
    ///   2     0.8        2/3  0     1/3  0
    ///   3     0.7        2/3  1/3   1/3  1/3   <- first FRR <= FAR: i = 3
    ///   …
    /// ```
    ///
    /// Between points 2 and 3: gap before = 1/3 - 0 = 1/3, gap after = 0, λ = 1,
    /// EER = 0 + 1·(1/3) = 1/3 at threshold 0.7.
    #[test]
    fn hand_worked_eer_on_a_point() {
        let got = eer(
            &[0.9, 0.8, 0.7, 0.6, 0.5, 0.4],
            &[true, true, false, true, false, false],
        )
        .expect("valid");
        assert!((got.eer - 1.0 / 3.0).abs() < TOL, "{got:?}");
        assert_eq!(got.threshold, 0.7);
    }

    /// Hand-worked, crossing inside a segment: same = `[T, F, T, F]`, scores
    /// `[0.9, 0.6, 0.6, 0.1]` (P = N = 2; the tie at 0.6 is one diagonal step).
    ///
    /// ```text
    ///   point threshold  tpr  fpr   FRR  FAR
    ///   1     0.9        1/2  0     1/2  0
    ///   2     0.6        1    1/2   0    1/2   <- i = 2
    /// ```
    ///
    /// gap before = 1/2, gap after = -1/2, λ = (1/2) / 1 = 1/2, EER = 0 + (1/2)(1/2) = 1/4
    /// at threshold 0.6.
    #[test]
    fn hand_worked_eer_inside_a_tied_segment() {
        let got = eer(&[0.9, 0.6, 0.6, 0.1], &[true, false, true, false]).expect("valid");
        assert!((got.eer - 0.25).abs() < TOL, "{got:?}");
        assert_eq!(got.threshold, 0.6);
    }

    #[test]
    fn separable_reversed_and_constant_scores() {
        let same = [true, true, false, false];
        let at = |scores: &[f64]| eer(scores, &same).expect("valid");
        let perfect = at(&[0.9, 0.8, 0.2, 0.1]);
        assert_eq!((perfect.eer, perfect.threshold), (0.0, 0.8));
        assert_eq!(at(&[0.1, 0.2, 0.8, 0.9]).eer, 1.0);
        assert_eq!(at(&[0.5; 4]).eer, 0.5);
    }

    #[test]
    fn rejects_one_class() {
        assert!(matches!(
            eer(&[0.1, 0.2], &[true, true]),
            Err(Error::SingleClass { positives: 2, .. })
        ));
    }

    /// Three 2-d embeddings: a = (1, 0) and b = (1, 1) of singer 0, c = (0, -2) of singer 1.
    /// cos(a, b) = 1/√2, cos(a, c) = 0, cos(b, c) = -2 / (√2 · 2) = -1/√2.
    #[test]
    fn pair_scores_hand_worked() {
        let set = [
            (0, vec![1.0_f32, 0.0]),
            (0, vec![1.0, 1.0]),
            (1, vec![0.0, -2.0]),
        ];
        let trials = pair_scores(&set).expect("valid");
        assert_eq!(trials.pairs, [(0, 1), (0, 2), (1, 2)]);
        assert_eq!(trials.same, [true, false, false]);
        let want = [1.0 / 2.0_f64.sqrt(), 0.0, -1.0 / 2.0_f64.sqrt()];
        for (got, want) in trials.scores.iter().zip(want) {
            assert!((got - want).abs() < TOL, "{got} vs {want}");
        }
        // They feed the EER: the one target pair scores highest, so EER = 0.
        assert_eq!(eer(&trials.scores, &trials.same).expect("valid").eer, 0.0);
        let direct = cosine_similarity(&[1.0, 0.0], &[1.0, 1.0]).expect("non-zero");
        assert!((direct - trials.scores[0]).abs() < TOL);
    }

    #[test]
    fn pair_scores_rejects_bad_sets() {
        assert!(matches!(
            pair_scores(&[(0, vec![1.0_f32])]),
            Err(Error::NoSamples)
        ));
        assert!(matches!(
            pair_scores(&[(0, vec![1.0_f32, 0.0]), (1, vec![1.0])]),
            Err(Error::LengthMismatch {
                left: 1,
                right: 2,
                ..
            })
        ));
        assert!(matches!(
            pair_scores(&[(0, vec![1.0_f32]), (1, vec![0.0])]),
            Err(Error::ZeroNorm {
                which: "set",
                position: 1
            })
        ));
        assert_eq!(cosine_similarity(&[0.0, 0.0], &[1.0, 1.0]), None);
    }
}
