//! Multi-label (music tagging) scores: the area under the ROC per tag and its macro and micro
//! averages, as Choi, Fazekas, Sandler and Cho report them for auto-tagging ("Convolutional
//! Recurrent Neural Networks for Music Classification", ICASSP 2017, Sec. 3: AUC-ROC on the
//! top-50 Million Song Dataset tags).
//!
//! The input is a `[samples x tags]` score matrix (one row per clip or song, e.g. sigmoid
//! outputs) and a label matrix of the same shape (`true` where the tag applies). Definitions
//! follow scikit-learn's `roc_auc_score` on a multi-label indicator matrix:
//!
//! - `roc_auc_macro`: `(1/T) Σₜ AUCₜ`, the unweighted mean of each tag's binary AUC
//!   ([`crate::roc::roc_auc`], ties counted as ½);
//! - `roc_auc_micro`: the binary AUC of all `samples x tags` cells pooled into one problem
//!   (scikit-learn ravels both matrices).
//!
//! **A tag with one class only** (no positive, or every sample positive, common for rare tags
//! in a small test set) has no AUC. scikit-learn 1.9 warns (`UndefinedMetricWarning`) and
//! counts that tag as NaN, so the macro mean is NaN (older releases raised `ValueError`);
//! [`roc_auc_macro`] returns [`Error::SingleClass`] naming the tag, never a NaN. A caller who
//! wants the mean over the defined tags asks [`roc_auc_per_tag`], which gives `None` for those
//! tags, and must report how many it left out. The micro average pools all cells and fails only when the
//! whole label matrix is one class.
//!
//! Checked against scikit-learn 1.9.1 (`tools/verification_reference.py`,
//! `tests/verification_oracle.rs`).

use crate::Error;
use crate::roc::{check_finite, roc_auc};

/// The binary AUC of every tag (column), in tag order; `None` for a tag whose labels hold one
/// class only (undefined).
///
/// # Parameters
///
/// - `scores`: `[samples][tags]`, finite; higher means the tag is more likely.
/// - `labels`: `[samples][tags]`, the same shape.
///
/// # Errors
///
/// - [`Error::NoSamples`] if there are no rows, or the rows have no columns.
/// - [`Error::LengthMismatch`] if the matrices have different row counts, or a row's length
///   differs from the first score row's.
/// - [`Error::NonFinite`] naming the first NaN or infinite score (its row-major position).
pub fn roc_auc_per_tag(
    scores: &[Vec<f64>],
    labels: &[Vec<bool>],
) -> Result<Vec<Option<f64>>, Error> {
    let n_tags = check_matrices(scores, labels)?;
    let mut per_tag = Vec::with_capacity(n_tags);
    for tag in 0..n_tags {
        let column: Vec<f64> = scores.iter().map(|row| row[tag]).collect();
        let positive: Vec<bool> = labels.iter().map(|row| row[tag]).collect();
        per_tag.push(match roc_auc(&column, &positive) {
            Ok(auc) => Some(auc),
            Err(Error::SingleClass { .. }) => None,
            Err(other) => return Err(other),
        });
    }
    Ok(per_tag)
}

/// The macro-averaged AUC: the unweighted mean over tags of each tag's AUC (scikit-learn's
/// `roc_auc_score(labels, scores, average='macro')`).
///
/// # Errors
///
/// As [`roc_auc_per_tag`], and [`Error::SingleClass`] naming the first tag (`"tag <index>"`)
/// whose labels are all `true` or all `false`.
pub fn roc_auc_macro(scores: &[Vec<f64>], labels: &[Vec<bool>]) -> Result<f64, Error> {
    let per_tag = roc_auc_per_tag(scores, labels)?;
    let mut sum = 0.0;
    for (tag, auc) in per_tag.iter().enumerate() {
        match auc {
            Some(auc) => sum += auc,
            None => {
                let positives = labels.iter().filter(|row| row[tag]).count();
                return Err(Error::SingleClass {
                    what: format!("tag {tag}"),
                    positives,
                    samples: labels.len(),
                });
            }
        }
    }
    Ok(sum / per_tag.len() as f64)
}

/// The micro-averaged AUC: the binary AUC of every `(sample, tag)` cell pooled together
/// (scikit-learn's `roc_auc_score(labels, scores, average='micro')`).
///
/// # Errors
///
/// As [`roc_auc_per_tag`], and [`Error::SingleClass`] if every cell is `true` or every cell is
/// `false`.
pub fn roc_auc_micro(scores: &[Vec<f64>], labels: &[Vec<bool>]) -> Result<f64, Error> {
    check_matrices(scores, labels)?;
    let cells: Vec<f64> = scores.iter().flatten().copied().collect();
    let positive: Vec<bool> = labels.iter().flatten().copied().collect();
    roc_auc(&cells, &positive).map_err(|e| match e {
        Error::SingleClass {
            positives, samples, ..
        } => Error::SingleClass {
            what: "all tags pooled".to_owned(),
            positives,
            samples,
        },
        other => other,
    })
}

/// Checks two `[samples][tags]` matrices of one shape with finite scores; returns `tags`.
fn check_matrices(scores: &[Vec<f64>], labels: &[Vec<bool>]) -> Result<usize, Error> {
    if scores.len() != labels.len() {
        return Err(Error::LengthMismatch {
            what: "score rows vs label rows",
            left: scores.len(),
            right: labels.len(),
        });
    }
    let n_tags = scores.first().map_or(0, Vec::len);
    if n_tags == 0 {
        return Err(Error::NoSamples);
    }
    for (s, l) in scores.iter().zip(labels) {
        for (what, len) in [
            ("score row vs tags", s.len()),
            ("label row vs tags", l.len()),
        ] {
            if len != n_tags {
                return Err(Error::LengthMismatch {
                    what,
                    left: len,
                    right: n_tags,
                });
            }
        }
    }
    let cells: Vec<f64> = scores.iter().flatten().copied().collect();
    check_finite(&cells, "scores")?;
    Ok(n_tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOL: f64 = 1e-12;

    /// Hand-worked, 4 samples x 2 tags:
    ///
    /// ```text
    ///   scores        labels
    ///   [0.9, 0.1]    [1, 0]
    ///   [0.4, 0.8]    [0, 1]
    ///   [0.6, 0.3]    [1, 1]
    ///   [0.2, 0.3]    [0, 0]
    /// ```
    ///
    /// - tag 0: positives {0.9, 0.6}, negatives {0.4, 0.2}: all 4 pairs right, AUC 1.
    /// - tag 1: positives {0.8, 0.3}, negatives {0.1, 0.3}: (0.8 > 0.1), (0.8 > 0.3),
    ///   (0.3 > 0.1), (0.3 = 0.3) tie ½: AUC = 3.5 / 4 = 7/8.
    /// - macro = (1 + 7/8) / 2 = 15/16.
    /// - micro: positives {0.9, 0.6, 0.8, 0.3}, negatives {0.1, 0.4, 0.2, 0.3}; ordered right:
    ///   0.9 and 0.8 beat all 4 (8); 0.6 beats 0.1, 0.4, 0.2, 0.3 (4); 0.3 beats 0.1 and 0.2 (2),
    ///   loses to 0.4, ties 0.3 (½): 14.5 / 16 = 29/32.
    #[test]
    fn hand_worked_macro_and_micro() {
        let scores = vec![
            vec![0.9, 0.1],
            vec![0.4, 0.8],
            vec![0.6, 0.3],
            vec![0.2, 0.3],
        ];
        let labels = vec![
            vec![true, false],
            vec![false, true],
            vec![true, true],
            vec![false, false],
        ];
        let per_tag = roc_auc_per_tag(&scores, &labels).expect("valid");
        assert_eq!(per_tag, [Some(1.0), Some(0.875)]);
        let macro_auc = roc_auc_macro(&scores, &labels).expect("valid");
        assert!((macro_auc - 15.0 / 16.0).abs() < TOL, "{macro_auc}");
        let micro_auc = roc_auc_micro(&scores, &labels).expect("valid");
        assert!((micro_auc - 29.0 / 32.0).abs() < TOL, "{micro_auc}");
    }

    /// Tag 1 is never present: macro fails naming it, per-tag says `None`, micro still works.
    #[test]
    fn one_class_tag_is_an_error_for_macro_only() {
        let scores = vec![vec![0.9, 0.2], vec![0.1, 0.7], vec![0.5, 0.4]];
        let labels = vec![vec![true, false], vec![false, false], vec![true, false]];
        match roc_auc_macro(&scores, &labels) {
            Err(Error::SingleClass {
                what,
                positives,
                samples,
            }) => assert_eq!((what.as_str(), positives, samples), ("tag 1", 0, 3)),
            other => panic!("expected SingleClass, got {other:?}"),
        }
        assert_eq!(
            roc_auc_per_tag(&scores, &labels).expect("valid"),
            [Some(1.0), None]
        );
        // Pooled: positives {0.9, 0.5}, negatives {0.2, 0.1, 0.7, 0.4}: 0.9 beats 4, 0.5 beats
        // 3: 7 / 8.
        let micro_auc = roc_auc_micro(&scores, &labels).expect("valid");
        assert!((micro_auc - 0.875).abs() < TOL);
        let all_true = vec![vec![true, true]; 3];
        assert!(matches!(
            roc_auc_micro(&scores, &all_true),
            Err(Error::SingleClass { positives: 6, samples: 6, what }) if what == "all tags pooled"
        ));
    }

    #[test]
    fn rejects_bad_shapes() {
        let labels = vec![vec![true, false], vec![false, true]];
        assert!(matches!(
            roc_auc_macro(&[vec![0.1, 0.2]], &labels),
            Err(Error::LengthMismatch {
                left: 1,
                right: 2,
                ..
            })
        ));
        assert!(matches!(
            roc_auc_macro(&[vec![0.1, 0.2], vec![0.3]], &labels),
            Err(Error::LengthMismatch {
                what: "score row vs tags",
                ..
            })
        ));
        assert!(matches!(
            roc_auc_micro(
                &[vec![0.1, 0.2], vec![0.3, 0.4]],
                &[vec![true], vec![false]]
            ),
            Err(Error::LengthMismatch {
                what: "label row vs tags",
                ..
            })
        ));
        assert!(matches!(roc_auc_macro(&[], &[]), Err(Error::NoSamples)));
        assert!(matches!(
            roc_auc_micro(&[vec![0.1, f64::NAN], vec![0.3, 0.4]], &labels),
            Err(Error::NonFinite { position: 1, .. })
        ));
    }
}
