//! The receiver operating characteristic (ROC) of a binary score and the area under it,
//! scikit-learn-exact: the machinery under speaker-style verification ([`crate::verification`])
//! and multi-label tagging ([`crate::tagging`]).
//!
//! Conventions (scikit-learn 1.9 `roc_curve` / `roc_auc_score`):
//!
//! - A higher score means "more positive"; a sample is accepted at threshold `t` when
//!   `score >= t`.
//! - **Ties.** Samples with equal scores are accepted together: each distinct score is one ROC
//!   point, so a tie between a positive and a negative is a diagonal segment, which the
//!   trapezoidal area counts as half a correct ordering (the Mann-Whitney `U` with ties at ½).
//! - The curve starts at `(0, 0)` with threshold `+inf` (scikit-learn >= 1.3) and ends at
//!   `(1, 1)`. Unlike scikit-learn's default (`drop_intermediate=True`), no collinear point is
//!   dropped: every distinct score is kept, which changes neither the area nor the EER.
//! - NaN and infinite scores are errors, as in scikit-learn; so is a label set with only one
//!   class (the rates would divide by zero; scikit-learn's `roc_curve` then warns and returns
//!   NaN rates).
//!
//! # References
//!
//! - T. Fawcett, "An introduction to ROC analysis", Pattern Recognition Letters 27 (2006),
//!   861-874: Algorithm 2 (the curve with ties) and Sec. 7 (the area).
//! - scikit-learn `sklearn/metrics/_ranking.py`: `_binary_clf_curve`, `roc_curve`,
//!   `roc_auc_score`.

use crate::Error;

/// One ROC: false- and true-positive rates for descending thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct RocCurve {
    /// False-positive rate `fp / negatives` at each threshold, ascending from 0 to 1.
    pub fpr: Vec<f64>,
    /// True-positive rate `tp / positives` at each threshold, ascending from 0 to 1.
    pub tpr: Vec<f64>,
    /// The thresholds, descending: `+inf` first, then every distinct score.
    pub thresholds: Vec<f64>,
    /// Cumulative false positives at each threshold (the numerators of `fpr`).
    pub false_positives: Vec<u64>,
    /// Cumulative true positives at each threshold (the numerators of `tpr`).
    pub true_positives: Vec<u64>,
}

impl RocCurve {
    /// The number of negative samples.
    pub fn negatives(&self) -> u64 {
        self.false_positives.last().copied().unwrap_or(0)
    }

    /// The number of positive samples.
    pub fn positives(&self) -> u64 {
        self.true_positives.last().copied().unwrap_or(0)
    }

    /// The trapezoidal area under the curve:
    /// `AUC = Σᵢ (fpᵢ - fpᵢ₋₁) (tpᵢ + tpᵢ₋₁) / (2 P N)`, summed over integer counts so that
    /// the only rounding is the final division.
    pub fn auc(&self) -> f64 {
        let mut doubled_area: u128 = 0;
        for i in 1..self.false_positives.len() {
            let width = u128::from(self.false_positives[i] - self.false_positives[i - 1]);
            let heights = u128::from(self.true_positives[i] + self.true_positives[i - 1]);
            doubled_area += width * heights;
        }
        let denominator = 2.0 * self.positives() as f64 * self.negatives() as f64;
        doubled_area as f64 / denominator
    }
}

/// The ROC of `scores` against binary labels.
///
/// # Parameters
///
/// - `scores`: one finite score per sample; higher means more likely positive.
/// - `positive`: the label of each sample, same length.
///
/// # Errors
///
/// - [`Error::LengthMismatch`] if the lengths differ.
/// - [`Error::NoSamples`] if both are empty.
/// - [`Error::NonFinite`] naming the first NaN or infinite score.
/// - [`Error::SingleClass`] if every label is `true` or every label is `false`.
pub fn roc_curve(scores: &[f64], positive: &[bool]) -> Result<RocCurve, Error> {
    check_binary(scores, positive, "labels")?;
    // Descending score; the order within a tie does not matter, every tie is one point.
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut curve = RocCurve {
        fpr: Vec::new(),
        tpr: Vec::new(),
        thresholds: vec![f64::INFINITY],
        false_positives: vec![0],
        true_positives: vec![0],
    };
    let (mut tp, mut fp) = (0_u64, 0_u64);
    for (rank, &i) in order.iter().enumerate() {
        if positive[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        // Close a point at the last sample of each group of equal scores.
        let last_of_tie = order
            .get(rank + 1)
            .is_none_or(|&next| scores[next] != scores[i]);
        if last_of_tie {
            curve.thresholds.push(scores[i]);
            curve.false_positives.push(fp);
            curve.true_positives.push(tp);
        }
    }
    let (negatives, positives) = (fp as f64, tp as f64);
    curve.fpr = curve
        .false_positives
        .iter()
        .map(|&f| f as f64 / negatives)
        .collect();
    curve.tpr = curve
        .true_positives
        .iter()
        .map(|&t| t as f64 / positives)
        .collect();
    Ok(curve)
}

/// The area under the ROC of `scores` against binary labels (scikit-learn's binary
/// `roc_auc_score`): the probability that a random positive scores above a random negative,
/// ties counted as ½.
///
/// # Errors
///
/// As [`roc_curve`]; in particular [`Error::SingleClass`] when only one class is present
/// (scikit-learn 1.9 warns and returns NaN there; singerid refuses rather than return NaN).
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> Result<f64, Error> {
    Ok(roc_curve(scores, positive)?.auc())
}

/// Validates a binary scoring problem: equal non-zero lengths, finite scores, both classes.
/// `what` names the labels in the [`Error::SingleClass`] message.
pub(crate) fn check_binary(scores: &[f64], positive: &[bool], what: &str) -> Result<(), Error> {
    if scores.len() != positive.len() {
        return Err(Error::LengthMismatch {
            what: "scores vs labels",
            left: scores.len(),
            right: positive.len(),
        });
    }
    if scores.is_empty() {
        return Err(Error::NoSamples);
    }
    check_finite(scores, "scores")?;
    let positives = positive.iter().filter(|&&p| p).count();
    if positives == 0 || positives == positive.len() {
        return Err(Error::SingleClass {
            what: what.to_owned(),
            positives,
            samples: positive.len(),
        });
    }
    Ok(())
}

/// [`Error::NonFinite`] naming the first NaN or infinite value of `values`.
pub(crate) fn check_finite(values: &[f64], what: &'static str) -> Result<(), Error> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(position) => Err(Error::NonFinite {
            what,
            value: values[position],
            position,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOL: f64 = 1e-12;

    /// Hand-worked: scores `[0.9, 0.8, 0.8, 0.4, 0.2]`, labels `[P, P, N, P, N]`.
    ///
    /// Descending thresholds and cumulative counts (P = 3, N = 2):
    ///
    /// ```text
    ///   threshold  tp fp   tpr  fpr
    ///   +inf        0  0   0    0
    ///   0.9         1  0   1/3  0
    ///   0.8         2  1   2/3  1/2    (the tie: one P and one N accepted together)
    ///   0.4         3  1   1    1/2
    ///   0.2         3  2   1    1
    /// ```
    ///
    /// AUC = trapezoids: `(0)·… + (1/2)(1/3 + 2/3)/2 + 0 + (1/2)(1 + 1)/2 = 1/4 + 1/2 = 3/4`;
    /// by counting pairs: of the 6 (P, N) pairs, 4 are ordered right, (0.8 P, 0.8 N) is a
    /// tie worth ½ and (0.4 P, 0.8 N) is wrong: `4.5 / 6 = 3/4`.
    #[test]
    fn hand_worked_curve_with_a_tie() {
        let curve = roc_curve(
            &[0.9, 0.8, 0.8, 0.4, 0.2],
            &[true, true, false, true, false],
        )
        .expect("valid");
        assert_eq!(curve.thresholds, [f64::INFINITY, 0.9, 0.8, 0.4, 0.2]);
        assert_eq!(curve.true_positives, [0, 1, 2, 3, 3]);
        assert_eq!(curve.false_positives, [0, 0, 1, 1, 2]);
        assert_eq!(curve.fpr, [0.0, 0.0, 0.5, 0.5, 1.0]);
        assert_eq!(curve.tpr, [0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0, 1.0]);
        assert!((curve.auc() - 0.75).abs() < TOL);
    }

    #[test]
    fn perfect_reversed_and_constant_scores() {
        let labels = [false, false, true, true];
        let auc = |scores: &[f64]| roc_auc(scores, &labels).expect("valid");
        assert_eq!(auc(&[0.1, 0.2, 0.3, 0.4]), 1.0);
        assert_eq!(auc(&[0.4, 0.3, 0.2, 0.1]), 0.0);
        // All tied: one diagonal segment.
        assert_eq!(auc(&[0.5; 4]), 0.5);
        let curve = roc_curve(&[0.5; 4], &labels).expect("valid");
        assert_eq!(curve.thresholds, [f64::INFINITY, 0.5]);
    }

    #[test]
    fn sample_order_does_not_matter() {
        let scores = [0.3, 0.1, 0.3, 0.7, 0.1, 0.3, 0.9];
        let labels = [true, false, false, true, true, false, false];
        let want = roc_auc(&scores, &labels).expect("valid");
        for shift in 1..scores.len() {
            let mut s = scores;
            let mut l = labels;
            s.rotate_left(shift);
            l.rotate_left(shift);
            assert_eq!(roc_auc(&s, &l).expect("valid"), want);
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert!(matches!(
            roc_auc(&[0.1, 0.2], &[true]),
            Err(Error::LengthMismatch {
                left: 2,
                right: 1,
                ..
            })
        ));
        assert!(matches!(roc_auc(&[], &[]), Err(Error::NoSamples)));
        assert!(matches!(
            roc_auc(&[0.1, f64::NAN, 0.3], &[true, false, true]),
            Err(Error::NonFinite { position: 1, .. })
        ));
        assert!(matches!(
            roc_auc(&[0.1, f64::INFINITY], &[true, false]),
            Err(Error::NonFinite { position: 1, .. })
        ));
        assert!(matches!(
            roc_auc(&[0.1, 0.2], &[true, true]),
            Err(Error::SingleClass {
                positives: 2,
                samples: 2,
                ..
            })
        ));
        assert!(matches!(
            roc_curve(&[0.1, 0.2], &[false, false]),
            Err(Error::SingleClass { positives: 0, .. })
        ));
    }
}
