//! Classification metrics as the papers report them: accuracy, per-class
//! precision / recall / F1, their macro and weighted averages, and the
//! row-normalised confusion matrix.
//!
//! The FGNL paper's Table 1 reports F1 at the frame (clip) level and at the
//! song level; the authors' code takes the `weighted avg` row of
//! scikit-learn's `classification_report`, i.e. [`ConfusionMatrix::weighted_f1`].
//! Everything here follows scikit-learn (`precision_recall_fscore_support`
//! with `zero_division=0` and no `labels=` argument):
//!
//! - **Label set.** Averages run over the classes that occur in `y_true` *or*
//!   `y_pred` (`sklearn.utils.multiclass.unique_labels`), not over all
//!   `n_classes`: a class that is neither true nor predicted anywhere is left
//!   out, a class that is only predicted counts with F1 = 0.
//! - **Zero division.** A ratio with a zero denominator is 0: precision of a
//!   class never predicted, recall of a class with no support, F1 when
//!   `2 tp + fp + fn = 0`.
//! - **F1** is `2 tp / (2 tp + fp + fn)` (scikit-learn >= 1.3 computes it this
//!   way; it equals `2 P R / (P + R)` whenever that is defined).
//! - **Macro** averages are unweighted means over the label set; **weighted**
//!   averages weight each class by its support (true count).
//!
//! Verified against scikit-learn 1.9.1 (`tools/metrics_reference.py`).

use serde::{Deserialize, Serialize};

use crate::Error;

/// A confusion matrix: `count(t, p)` is the number of samples of true class
/// `t` predicted as `p`. Rows are true classes, columns predictions
/// (scikit-learn's `confusion_matrix` layout).
///
/// Serialised as its rows, `{"rows": [[2, 1, 0], [0, 1, 1], [0, 0, 1]]}`;
/// reading checks that the rows form a non-empty square.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "ConfusionRows", try_from = "ConfusionRows")]
pub struct ConfusionMatrix {
    n_classes: usize,
    /// Row-major `[n_classes][n_classes]`.
    counts: Vec<u64>,
}

/// The serialised form of a [`ConfusionMatrix`].
#[derive(Serialize, Deserialize)]
struct ConfusionRows {
    rows: Vec<Vec<u64>>,
}

impl From<ConfusionMatrix> for ConfusionRows {
    fn from(matrix: ConfusionMatrix) -> Self {
        let rows = matrix
            .counts
            .chunks_exact(matrix.n_classes)
            .map(<[u64]>::to_vec)
            .collect();
        Self { rows }
    }
}

impl TryFrom<ConfusionRows> for ConfusionMatrix {
    type Error = Error;

    fn try_from(value: ConfusionRows) -> Result<Self, Self::Error> {
        Self::from_rows(value.rows)
    }
}

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    /// The class index.
    pub class: usize,
    /// `tp / (tp + fp)`, 0 when the class is never predicted.
    pub precision: f64,
    /// `tp / (tp + fn)`, 0 when the class has no support.
    pub recall: f64,
    /// `2 tp / (2 tp + fp + fn)`, 0 when the denominator is 0.
    pub f1: f64,
    /// Samples whose true class this is.
    pub support: u64,
}

/// Averaged precision, recall and F1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Averages {
    /// Mean precision.
    pub precision: f64,
    /// Mean recall.
    pub recall: f64,
    /// Mean F1.
    pub f1: f64,
    /// Samples averaged over (all of them).
    pub support: u64,
}

/// Everything scikit-learn's `classification_report` prints, as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// The number of classes of the task (the confusion matrix's size).
    pub n_classes: usize,
    /// The number of samples.
    pub n_samples: u64,
    /// Fraction of samples predicted correctly.
    pub accuracy: f64,
    /// Unweighted means over the label set.
    pub macro_avg: Averages,
    /// Support-weighted means over the label set; `weighted_avg.f1` is the
    /// paper's F1.
    pub weighted_avg: Averages,
    /// One entry per class of the label set, in class order.
    pub per_class: Vec<ClassScores>,
}

impl ConfusionMatrix {
    /// Counts `(y_true[i], y_pred[i])` pairs.
    ///
    /// # Parameters
    ///
    /// - `y_true`: true class of each sample, each in `0..n_classes`.
    /// - `y_pred`: predicted class of each sample, same length, each in `0..n_classes`.
    /// - `n_classes`: the number of classes of the task (at least 1).
    ///
    /// # Errors
    ///
    /// - [`Error::NoClasses`] if `n_classes == 0`.
    /// - [`Error::LengthMismatch`] if the lengths differ.
    /// - [`Error::NoSamples`] if both are empty.
    /// - [`Error::LabelOutOfRange`] naming the first label `>= n_classes`.
    pub fn from_labels(
        y_true: &[usize],
        y_pred: &[usize],
        n_classes: usize,
    ) -> Result<Self, Error> {
        if n_classes == 0 {
            return Err(Error::NoClasses);
        }
        if y_true.len() != y_pred.len() {
            return Err(Error::LengthMismatch {
                what: "y_true vs y_pred",
                left: y_true.len(),
                right: y_pred.len(),
            });
        }
        if y_true.is_empty() {
            return Err(Error::NoSamples);
        }
        let mut counts = vec![0_u64; n_classes * n_classes];
        for (position, (&t, &p)) in y_true.iter().zip(y_pred).enumerate() {
            for (which, label) in [("y_true", t), ("y_pred", p)] {
                if label >= n_classes {
                    return Err(Error::LabelOutOfRange {
                        which,
                        label,
                        position,
                        n_classes,
                    });
                }
            }
            counts[t * n_classes + p] += 1;
        }
        Ok(Self { n_classes, counts })
    }

    /// A matrix from its rows: `rows[t][p]` samples of true class `t`
    /// predicted as `p`. A matrix may hold no samples at all (every score is
    /// then 0).
    ///
    /// # Errors
    ///
    /// - [`Error::NoClasses`] if `rows` is empty.
    /// - [`Error::LengthMismatch`] naming the first row whose length is not
    ///   the number of rows.
    pub fn from_rows(rows: Vec<Vec<u64>>) -> Result<Self, Error> {
        let n_classes = rows.len();
        if n_classes == 0 {
            return Err(Error::NoClasses);
        }
        if let Some(row) = rows.iter().find(|row| row.len() != n_classes) {
            return Err(Error::LengthMismatch {
                what: "confusion matrix row vs number of rows",
                left: row.len(),
                right: n_classes,
            });
        }
        let counts = rows.into_iter().flatten().collect();
        Ok(Self { n_classes, counts })
    }

    /// The number of classes (rows and columns).
    pub const fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Samples of true class `true_class` predicted as `predicted`, or `None`
    /// if either index is `>= n_classes`.
    pub fn count(&self, true_class: usize, predicted: usize) -> Option<u64> {
        self.row(true_class)?.get(predicted).copied()
    }

    /// The counts of true class `true_class` by predicted class, or `None` if
    /// `true_class >= n_classes`.
    pub fn row(&self, true_class: usize) -> Option<&[u64]> {
        self.counts.chunks_exact(self.n_classes).nth(true_class)
    }

    /// The number of samples.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Samples whose true class is `class` (the row sum; 0 out of range).
    pub fn support(&self, class: usize) -> u64 {
        self.row(class).map_or(0, |row| row.iter().sum())
    }

    /// Samples predicted as `class` (the column sum; 0 out of range).
    pub fn predicted(&self, class: usize) -> u64 {
        self.counts
            .chunks_exact(self.n_classes)
            .filter_map(|row| row.get(class))
            .sum()
    }

    /// The classes that occur as a true or a predicted label, ascending:
    /// scikit-learn's label set for averages when no `labels=` is given.
    pub fn labels(&self) -> Vec<usize> {
        (0..self.n_classes)
            .filter(|&c| self.support(c) > 0 || self.predicted(c) > 0)
            .collect()
    }

    /// Fraction of samples on the diagonal, in `[0, 1]`.
    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..self.n_classes).filter_map(|c| self.count(c, c)).sum();
        ratio(correct, self.total())
    }

    /// Precision, recall, F1 and support of one class (all 0 for a class out
    /// of range or absent from both labels).
    pub fn class_scores(&self, class: usize) -> ClassScores {
        let tp = self.count(class, class).unwrap_or(0);
        let support = self.support(class);
        let predicted = self.predicted(class);
        let false_neg = support - tp;
        let false_pos = predicted - tp;
        ClassScores {
            class,
            precision: ratio(tp, predicted),
            recall: ratio(tp, support),
            f1: ratio(2 * tp, 2 * tp + false_pos + false_neg),
            support,
        }
    }

    /// [`Self::class_scores`] for every class of [`Self::labels`], ascending.
    pub fn per_class(&self) -> Vec<ClassScores> {
        self.labels()
            .into_iter()
            .map(|c| self.class_scores(c))
            .collect()
    }

    /// Unweighted means of precision, recall and F1 over [`Self::labels`]
    /// (scikit-learn's `average='macro'`).
    pub fn macro_avg(&self) -> Averages {
        let scores = self.per_class();
        // An empty label set (a matrix without samples) averages to 0.
        let n = scores.len().max(1) as f64;
        Averages {
            precision: scores.iter().map(|s| s.precision).sum::<f64>() / n,
            recall: scores.iter().map(|s| s.recall).sum::<f64>() / n,
            f1: scores.iter().map(|s| s.f1).sum::<f64>() / n,
            support: self.total(),
        }
    }

    /// Support-weighted means of precision, recall and F1 over
    /// [`Self::labels`] (scikit-learn's `average='weighted'`). The weighted
    /// recall equals the accuracy.
    pub fn weighted_avg(&self) -> Averages {
        let scores = self.per_class();
        let total = self.total();
        let weighted = |value: fn(&ClassScores) -> f64| {
            if total == 0 {
                return 0.0;
            }
            let sum: f64 = scores.iter().map(|s| value(s) * s.support as f64).sum();
            sum / total as f64
        };
        Averages {
            precision: weighted(|s| s.precision),
            recall: weighted(|s| s.recall),
            f1: weighted(|s| s.f1),
            support: self.total(),
        }
    }

    /// Macro F1: the unweighted mean F1 over [`Self::labels`].
    pub fn macro_f1(&self) -> f64 {
        self.macro_avg().f1
    }

    /// Weighted F1: the support-weighted mean F1, the paper's F1 score.
    pub fn weighted_f1(&self) -> f64 {
        self.weighted_avg().f1
    }

    /// The matrix with every row divided by its sum (scikit-learn's
    /// `normalize='true'`): entry `[t][p]` is the fraction of class `t`
    /// predicted as `p`. A row with no samples stays all zero (no NaN).
    pub fn row_normalized(&self) -> Vec<Vec<f64>> {
        self.counts
            .chunks_exact(self.n_classes)
            .map(|row| {
                let sum: u64 = row.iter().sum();
                row.iter().map(|&c| ratio(c, sum)).collect()
            })
            .collect()
    }

    /// Accuracy, averages and per-class scores in one value.
    pub fn report(&self) -> ClassificationReport {
        ClassificationReport {
            n_classes: self.n_classes,
            n_samples: self.total(),
            accuracy: self.accuracy(),
            macro_avg: self.macro_avg(),
            weighted_avg: self.weighted_avg(),
            per_class: self.per_class(),
        }
    }
}

/// `numerator / denominator`, or 0 when the denominator is 0 (scikit-learn's
/// `zero_division=0`).
fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

#[cfg(test)]
mod tests {
    //! Reference values: `python3 tools/metrics_reference.py` (scikit-learn
    //! 1.9.1, NumPy 2.4.6, Python 3.11.7). Tolerance 1e-12: the same
    //! arithmetic in f64, summed in a possibly different order.

    use super::*;

    const TOL: f64 = 1e-12;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= TOL
    }

    fn assert_all_close(got: &[f64], want: &[f64], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: length");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(close(*g, *w), "{what}[{i}]: got {g}, want {w}");
        }
    }

    /// The hand-worked case.
    ///
    /// y_true = [0, 0, 0, 1, 1, 2], y_pred = [0, 0, 1, 1, 2, 2]; confusion (rows true):
    ///
    /// ```text
    ///        p0 p1 p2
    ///   t0 [  2  1  0 ]   support 3
    ///   t1 [  0  1  1 ]   support 2
    ///   t2 [  0  0  1 ]   support 1
    /// ```
    ///
    /// - class 0: tp 2, fp 0, fn 1: P = 2/2 = 1, R = 2/3, F1 = 4 / (4 + 0 + 1) = 0.8
    /// - class 1: tp 1, fp 1, fn 1: P = 1/2, R = 1/2, F1 = 2 / (2 + 1 + 1) = 0.5
    /// - class 2: tp 1, fp 1, fn 0: P = 1/2, R = 1, F1 = 2 / (2 + 1 + 0) = 2/3
    /// - accuracy = 4/6 = 2/3
    /// - macro F1 = (0.8 + 0.5 + 2/3) / 3 = 59/90 = 0.6555...
    /// - weighted F1 = (3 * 0.8 + 2 * 0.5 + 1 * 2/3) / 6 = (2.4 + 1 + 0.6667) / 6 = 61/90 = 0.6777...
    /// - macro P = (1 + 0.5 + 0.5) / 3 = 2/3; weighted P = (3 + 1 + 0.5) / 6 = 0.75
    /// - macro R = (2/3 + 1/2 + 1) / 3 = 13/18; weighted R = accuracy = 2/3
    #[test]
    fn hand_worked_three_classes() {
        let cm = ConfusionMatrix::from_labels(&[0, 0, 0, 1, 1, 2], &[0, 0, 1, 1, 2, 2], 3)
            .expect("valid");
        assert_eq!(cm.row(0), Some(&[2, 1, 0][..]));
        assert_eq!(cm.row(1), Some(&[0, 1, 1][..]));
        assert_eq!(cm.row(2), Some(&[0, 0, 1][..]));
        assert!(close(cm.accuracy(), 2.0 / 3.0));
        let f1: Vec<f64> = cm.per_class().iter().map(|s| s.f1).collect();
        assert_all_close(&f1, &[0.8, 0.5, 2.0 / 3.0], "f1");
        assert!(close(cm.macro_f1(), 59.0 / 90.0));
        assert!(close(cm.weighted_f1(), 61.0 / 90.0));
        let (m, w) = (cm.macro_avg(), cm.weighted_avg());
        assert!(close(m.precision, 2.0 / 3.0) && close(m.recall, 13.0 / 18.0));
        assert!(close(w.precision, 0.75) && close(w.recall, 2.0 / 3.0));
        // The same case as scikit-learn printed it.
        assert!(close(cm.macro_f1(), 0.6555555555555556));
        assert!(close(cm.weighted_f1(), 0.6777777777777779));
        let normalized = cm.row_normalized();
        assert_all_close(
            &normalized[0],
            &[0.6666666666666666, 0.3333333333333333, 0.0],
            "row 0",
        );
        assert_all_close(&normalized[1], &[0.0, 0.5, 0.5], "row 1");
        assert_all_close(&normalized[2], &[0.0, 0.0, 1.0], "row 2");
    }

    /// Class 2 is only true (never predicted), class 3 only predicted, class 4
    /// absent from both labels: the label set is {0, 1, 2, 3}, so macro F1 is
    /// (4/7 + 2/3 + 0 + 0) / 4 = 0.3095..., not the 0.2476... a mean over all
    /// five classes would give.
    #[test]
    fn absent_classes_follow_sklearn_label_set_and_zero_division() {
        let y_true = [0, 0, 1, 1, 1, 2, 2, 0];
        let y_pred = [0, 3, 1, 1, 0, 0, 1, 0];
        let cm = ConfusionMatrix::from_labels(&y_true, &y_pred, 5).expect("valid");
        assert_eq!(cm.labels(), [0, 1, 2, 3]);
        assert!(close(cm.accuracy(), 0.5));
        let scores = cm.per_class();
        let column = |f: fn(&ClassScores) -> f64| scores.iter().map(f).collect::<Vec<_>>();
        assert_all_close(
            &column(|s| s.precision),
            &[0.5, 0.6666666666666666, 0.0, 0.0],
            "precision",
        );
        assert_all_close(
            &column(|s| s.recall),
            &[0.6666666666666666, 0.6666666666666666, 0.0, 0.0],
            "recall",
        );
        assert_all_close(
            &column(|s| s.f1),
            &[0.5714285714285714, 0.6666666666666666, 0.0, 0.0],
            "f1",
        );
        let support: Vec<u64> = scores.iter().map(|s| s.support).collect();
        assert_eq!(support, [3, 3, 2, 0]);
        let (m, w) = (cm.macro_avg(), cm.weighted_avg());
        assert!(close(m.precision, 0.29166666666666663), "{m:?}");
        assert!(close(m.recall, 0.3333333333333333), "{m:?}");
        assert!(close(m.f1, 0.30952380952380953), "{m:?}");
        assert!(close(w.precision, 0.4375), "{w:?}");
        assert!(close(w.recall, 0.5), "{w:?}");
        assert!(close(w.f1, 0.4642857142857143), "{w:?}");
        let normalized = cm.row_normalized();
        let third = 0.3333333333333333;
        let two_thirds = 0.6666666666666666;
        assert_all_close(&normalized[0], &[two_thirds, 0.0, 0.0, third, 0.0], "row 0");
        assert_all_close(&normalized[1], &[third, two_thirds, 0.0, 0.0, 0.0], "row 1");
        assert_all_close(&normalized[2], &[0.5, 0.5, 0.0, 0.0, 0.0], "row 2");
        assert_all_close(&normalized[3], &[0.0; 5], "row 3: no support, stays zero");
        assert_all_close(&normalized[4], &[0.0; 5], "row 4: no support, stays zero");
        // A class absent from both labels scores zero and is not in the report.
        assert_eq!(cm.class_scores(4).f1, 0.0);
        assert!(cm.report().per_class.iter().all(|s| s.class != 4));
    }

    /// 300 seeded samples over 20 skewed classes; classes 5, 13, 15 and 19 are
    /// predicted but have no support, so they belong to the label set with F1 = 0.
    #[test]
    fn random_twenty_classes_match_sklearn() {
        #[rustfmt::skip]
        let y_true = [3, 4, 17, 4, 2, 2, 4, 9, 0, 2, 4, 3, 10, 4, 7, 2, 17, 16, 1, 2, 7, 3, 17, 7, 7, 2, 2, 7, 2, 2, 3, 10, 10, 12, 2, 10, 2, 2, 3, 9, 2, 7, 17, 7, 0, 1, 2, 4, 2, 4, 1, 17, 10, 2, 4, 11, 17, 7, 2, 2, 8, 14, 2, 4, 17, 4, 17, 4, 1, 0, 0, 2, 0, 12, 12, 1, 17, 17, 0, 9, 3, 7, 4, 7, 4, 8, 12, 2, 0, 2, 3, 0, 1, 3, 3, 3, 0, 7, 7, 17, 10, 11, 2, 17, 2, 4, 4, 14, 9, 17, 4, 8, 0, 14, 17, 0, 2, 6, 2, 0, 3, 0, 2, 2, 2, 4, 7, 12, 7, 8, 2, 2, 0, 11, 4, 2, 16, 2, 7, 7, 17, 3, 17, 4, 4, 4, 4, 17, 8, 7, 11, 11, 11, 2, 2, 4, 10, 0, 12, 4, 3, 4, 2, 4, 11, 2, 2, 17, 2, 17, 2, 4, 0, 7, 0, 7, 2, 7, 4, 2, 2, 8, 11, 0, 2, 10, 2, 17, 2, 4, 4, 12, 4, 8, 4, 2, 4, 7, 11, 2, 4, 2, 2, 2, 0, 2, 8, 11, 14, 8, 14, 17, 4, 7, 3, 7, 4, 7, 0, 4, 6, 7, 10, 2, 0, 8, 7, 17, 4, 4, 12, 0, 14, 10, 8, 17, 10, 2, 7, 18, 11, 0, 1, 8, 12, 0, 4, 0, 4, 0, 4, 2, 4, 10, 14, 9, 14, 10, 10, 2, 2, 12, 8, 0, 2, 4, 0, 4, 4, 4, 8, 4, 7, 0, 18, 17, 17, 17, 0, 0, 2, 11, 2, 14, 11, 2, 3, 8, 4, 2, 11, 7, 10, 2, 3, 2, 7, 4, 9, 2];
        #[rustfmt::skip]
        let y_pred = [3, 4, 11, 4, 2, 6, 17, 8, 0, 6, 4, 3, 6, 3, 19, 2, 17, 0, 1, 0, 7, 18, 17, 7, 18, 2, 11, 17, 2, 2, 3, 10, 10, 12, 2, 10, 18, 9, 3, 9, 13, 15, 17, 9, 0, 4, 2, 0, 2, 18, 18, 17, 10, 14, 4, 11, 12, 9, 2, 9, 14, 14, 15, 4, 3, 4, 17, 4, 1, 0, 0, 19, 0, 12, 8, 1, 15, 17, 0, 9, 9, 7, 4, 6, 3, 8, 12, 2, 0, 18, 3, 0, 8, 3, 6, 3, 0, 7, 2, 17, 10, 11, 9, 17, 2, 7, 4, 14, 14, 17, 3, 3, 3, 14, 17, 4, 2, 2, 2, 0, 3, 0, 2, 9, 2, 1, 7, 12, 7, 8, 8, 12, 0, 9, 4, 8, 16, 2, 7, 16, 17, 17, 15, 4, 4, 16, 4, 17, 8, 12, 8, 11, 11, 2, 2, 18, 10, 12, 12, 4, 10, 4, 2, 10, 11, 8, 4, 17, 2, 17, 0, 11, 5, 10, 0, 7, 2, 7, 4, 2, 2, 6, 0, 3, 2, 10, 13, 17, 2, 4, 4, 12, 4, 12, 16, 2, 5, 7, 4, 2, 16, 16, 13, 2, 0, 12, 8, 11, 14, 11, 14, 4, 4, 2, 14, 0, 6, 7, 12, 4, 6, 11, 19, 2, 0, 8, 15, 17, 4, 4, 15, 2, 14, 10, 9, 3, 10, 19, 10, 12, 11, 9, 14, 8, 12, 16, 4, 0, 4, 0, 4, 2, 4, 14, 14, 9, 1, 0, 10, 2, 1, 12, 18, 1, 2, 4, 6, 4, 4, 4, 12, 4, 7, 0, 18, 17, 18, 3, 18, 0, 2, 1, 15, 5, 11, 2, 3, 8, 18, 2, 5, 7, 16, 2, 3, 19, 18, 4, 8, 2];
        let cm = ConfusionMatrix::from_labels(&y_true, &y_pred, 20).expect("valid");
        assert_eq!(cm.labels(), (0..20).collect::<Vec<_>>());
        assert!(close(cm.accuracy(), 0.5933333333333334));
        let (m, w) = (cm.macro_avg(), cm.weighted_avg());
        assert!(close(m.precision, 0.42653533573661184), "{m:?}");
        assert!(close(m.recall, 0.4632712296663909), "{m:?}");
        assert!(close(m.f1, 0.4112529810399558), "{m:?}");
        assert!(close(w.precision, 0.7454300704965396), "{w:?}");
        assert!(close(w.recall, 0.5933333333333334), "{w:?}");
        assert!(close(w.f1, 0.6421696957994018), "{w:?}");
        #[rustfmt::skip]
        let f1 = [0.6666666666666666, 0.4, 0.6981132075471698, 0.5714285714285714, 0.75, 0.0, 0.18181818181818182, 0.5909090909090909, 0.4666666666666667, 0.3157894736842105, 0.6896551724137931, 0.5925925925925926, 0.5925925925925926, 0.0, 0.6363636363636364, 0.0, 0.2, 0.7391304347826086, 0.13333333333333333, 0.0];
        let got: Vec<f64> = cm.per_class().iter().map(|s| s.f1).collect();
        assert_all_close(&got, &f1, "per-class f1");
        let support: Vec<u64> = cm.per_class().iter().map(|s| s.support).collect();
        assert_eq!(
            support,
            [
                31, 7, 65, 16, 50, 0, 2, 30, 15, 6, 15, 14, 10, 0, 9, 0, 2, 26, 2, 0
            ]
        );
        // Two rows of sklearn's confusion_matrix(normalize='true').
        let normalized = cm.row_normalized();
        #[rustfmt::skip]
        let row_6 = [0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        #[rustfmt::skip]
        let row_12 = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.0, 0.0, 0.0, 0.8, 0.0, 0.0, 0.1, 0.0, 0.0, 0.0, 0.0];
        assert_all_close(&normalized[6], &row_6, "row 6");
        assert_all_close(&normalized[12], &row_12, "row 12");
        assert_all_close(&normalized[5], &[0.0; 20], "row 5: no support");
        for (t, row) in normalized.iter().enumerate() {
            let sum: f64 = row.iter().sum();
            let want = if cm.support(t) > 0 { 1.0 } else { 0.0 };
            assert!((sum - want).abs() < 1e-9, "row {t} sums to {sum}");
        }
    }

    #[test]
    fn perfect_and_all_wrong_predictions() {
        let cm = ConfusionMatrix::from_labels(&[0, 1, 2, 2], &[0, 1, 2, 2], 4).expect("valid");
        assert_eq!(
            (cm.accuracy(), cm.macro_f1(), cm.weighted_f1()),
            (1.0, 1.0, 1.0)
        );
        let cm = ConfusionMatrix::from_labels(&[0, 0, 1], &[1, 1, 0], 2).expect("valid");
        assert_eq!(
            (cm.accuracy(), cm.macro_f1(), cm.weighted_f1()),
            (0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn accessors_count_rows_and_columns() {
        let cm = ConfusionMatrix::from_labels(&[0, 0, 1, 2], &[1, 1, 1, 0], 3).expect("valid");
        assert_eq!(cm.n_classes(), 3);
        assert_eq!(cm.total(), 4);
        assert_eq!(
            (cm.count(0, 1), cm.count(3, 0), cm.count(0, 3)),
            (Some(2), None, None)
        );
        assert_eq!((cm.support(0), cm.predicted(1), cm.predicted(2)), (2, 3, 0));
        assert_eq!(cm.row(3), None);
    }

    #[test]
    fn report_serialises_to_json() {
        let cm = ConfusionMatrix::from_labels(&[0, 1], &[0, 0], 2).expect("valid");
        let report = cm.report();
        assert_eq!(report.n_samples, 2);
        assert_eq!(report.per_class.len(), 2);
        let json = serde_json::to_string(&report).expect("json");
        assert!(json.contains(r#""weighted_avg":{"precision":"#), "{json}");
        let back: ClassificationReport = serde_json::from_str(&json).expect("round trip");
        assert_eq!(back, report);
    }

    #[test]
    fn matrix_serialises_as_rows_and_validates_on_read() {
        let cm = ConfusionMatrix::from_labels(&[0, 0, 0, 1, 1, 2], &[0, 0, 1, 1, 2, 2], 3)
            .expect("valid");
        let json = serde_json::to_string(&cm).expect("json");
        assert_eq!(json, r#"{"rows":[[2,1,0],[0,1,1],[0,0,1]]}"#);
        let back: ConfusionMatrix = serde_json::from_str(&json).expect("round trip");
        assert_eq!(back, cm);
        assert!(serde_json::from_str::<ConfusionMatrix>(r#"{"rows":[]}"#).is_err());
        assert!(serde_json::from_str::<ConfusionMatrix>(r#"{"rows":[[1,2],[3]]}"#).is_err());
        // A matrix without samples scores 0 everywhere, never NaN.
        let empty = ConfusionMatrix::from_rows(vec![vec![0; 2]; 2]).expect("square");
        let report = empty.report();
        assert_eq!(
            (report.accuracy, report.macro_avg.f1, report.weighted_avg.f1),
            (0.0, 0.0, 0.0)
        );
        assert_eq!(empty.row_normalized(), [[0.0, 0.0], [0.0, 0.0]]);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(matches!(
            ConfusionMatrix::from_labels(&[0], &[0], 0),
            Err(Error::NoClasses)
        ));
        assert!(matches!(
            ConfusionMatrix::from_labels(&[0, 1], &[0], 2),
            Err(Error::LengthMismatch {
                left: 2,
                right: 1,
                ..
            })
        ));
        assert!(matches!(
            ConfusionMatrix::from_labels(&[], &[], 2),
            Err(Error::NoSamples)
        ));
        assert!(matches!(
            ConfusionMatrix::from_labels(&[0, 1, 2], &[0, 1, 1], 2),
            Err(Error::LabelOutOfRange {
                which: "y_true",
                label: 2,
                position: 2,
                n_classes: 2
            })
        ));
        assert!(matches!(
            ConfusionMatrix::from_labels(&[0, 1], &[0, 5], 2),
            Err(Error::LabelOutOfRange {
                which: "y_pred",
                label: 5,
                position: 1,
                ..
            })
        ));
    }
}
