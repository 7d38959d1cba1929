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
//!
//! [`evaluate_tagging`] scores a tagging model's [`Predictions`] (sigmoid outputs in
//! [`ClipPrediction::probs`](crate::ClipPrediction::probs), the tags as its classes) against
//! each recording's tags at two levels: clips, and recordings (the mean of their clips' scores).
//! Each level reports every tag's AUC, the macro mean over the tags defined there (with how many
//! were left out) and the micro AUC.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Error;
use crate::predictions::Predictions;
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

/// One tag's AUC at one level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagAuc {
    /// The tag.
    pub tag: String,
    /// Samples (clips or recordings) that carry the tag.
    pub positives: usize,
    /// The binary AUC of this tag; `None` when every sample, or none, carries it (undefined).
    pub auc: Option<f64>,
}

/// The AUC-ROC of a tagging model at one level (clips or recordings).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagLevelScores {
    /// Samples scored.
    pub samples: usize,
    /// Every tag, in the model's tag order.
    pub per_tag: Vec<TagAuc>,
    /// The mean AUC over the tags whose AUC is defined ([`roc_auc_per_tag`]); `None` when no
    /// tag is. Equals [`roc_auc_macro`] when every tag is defined.
    pub macro_auc: Option<f64>,
    /// How many tags the macro mean averages (the others hold one class only).
    pub tags_scored: usize,
    /// The micro AUC ([`roc_auc_micro`]); `None` when every cell is one class.
    pub micro_auc: Option<f64>,
}

/// A tag the evaluated recordings list but the model does not know (not scored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownTag {
    /// The tag.
    pub tag: String,
    /// Recordings that list it.
    pub recordings: usize,
}

/// What [`evaluate_tagging`] returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagEvaluation {
    /// The model's tags, in output order.
    pub tags: Vec<String>,
    /// One sample per clip: the clip's sigmoid scores against its recording's tags.
    pub clip: TagLevelScores,
    /// One sample per recording: the mean of its clips' scores.
    pub recording: TagLevelScores,
    /// Tags of the evaluated recordings outside the model's vocabulary, by name.
    pub unknown_tags: Vec<UnknownTag>,
}

/// [`TagLevelScores`] of a `[samples][tags]` score matrix against its labels; `tags` names the
/// columns.
///
/// # Errors
/// As [`roc_auc_per_tag`]; [`Error::LengthMismatch`] when `tags` does not name every column.
pub fn tag_level_scores(
    tags: &[String],
    scores: &[Vec<f64>],
    labels: &[Vec<bool>],
) -> Result<TagLevelScores, Error> {
    let per_tag = roc_auc_per_tag(scores, labels)?;
    if per_tag.len() != tags.len() {
        return Err(Error::LengthMismatch {
            what: "tag names vs score columns",
            left: tags.len(),
            right: per_tag.len(),
        });
    }
    let defined: Vec<f64> = per_tag.iter().flatten().copied().collect();
    let macro_auc =
        (!defined.is_empty()).then(|| defined.iter().sum::<f64>() / defined.len() as f64);
    let micro_auc = match roc_auc_micro(scores, labels) {
        Ok(auc) => Some(auc),
        Err(Error::SingleClass { .. }) => None,
        Err(other) => return Err(other),
    };
    Ok(TagLevelScores {
        samples: scores.len(),
        per_tag: tags
            .iter()
            .zip(&per_tag)
            .enumerate()
            .map(|(column, (tag, auc))| TagAuc {
                tag: tag.clone(),
                positives: labels.iter().filter(|row| row[column]).count(),
                auc: *auc,
            })
            .collect(),
        macro_auc,
        tags_scored: defined.len(),
        micro_auc,
    })
}

/// Scores a tagging model's predictions: `predictions.classes` are its tags and each clip's
/// `probs` its sigmoid scores; `tags_of` maps each recording key
/// ([`ClipPrediction::recording`](crate::ClipPrediction::recording)) to the tags the dataset
/// lists for it (an empty list: a negative for every tag). See the module docs for the levels.
///
/// # Errors
/// [`Error::NoSamples`] for no clips or no tags; [`Error::InvalidParameter`] naming a recording
/// missing from `tags_of`; [`Error::LengthMismatch`] for a clip whose score count is not the
/// tag count; [`Error::NonFinite`] for a NaN score.
pub fn evaluate_tagging(
    predictions: &Predictions,
    tags_of: &BTreeMap<String, Vec<String>>,
) -> Result<TagEvaluation, Error> {
    let tags = &predictions.classes;
    if predictions.clips.is_empty() || tags.is_empty() {
        return Err(Error::NoSamples);
    }
    let multi_hot = |recording: &str| -> Result<Vec<bool>, Error> {
        let listed = tags_of
            .get(recording)
            .ok_or_else(|| Error::InvalidParameter {
                name: "tags",
                message: format!("no tags given for the recording {recording}"),
            })?;
        Ok(tags.iter().map(|tag| listed.contains(tag)).collect())
    };
    let mut clip_scores = Vec::with_capacity(predictions.clips.len());
    let mut clip_labels = Vec::with_capacity(predictions.clips.len());
    let (mut recording_scores, mut recording_labels) = (Vec::new(), Vec::new());
    let mut unknown: BTreeMap<&str, usize> = BTreeMap::new();
    for recording in predictions.by_recording() {
        let labels = multi_hot(recording.recording)?;
        let mut sum = vec![0.0_f64; tags.len()];
        for clip in &recording.clips {
            if clip.probs.len() != tags.len() {
                return Err(Error::LengthMismatch {
                    what: "clip scores vs tags",
                    left: clip.probs.len(),
                    right: tags.len(),
                });
            }
            let scores: Vec<f64> = clip.probs.iter().map(|&p| f64::from(p)).collect();
            for (s, v) in sum.iter_mut().zip(&scores) {
                *s += v;
            }
            clip_scores.push(scores);
            clip_labels.push(labels.clone());
        }
        let n = recording.clips.len() as f64;
        recording_scores.push(sum.into_iter().map(|s| s / n).collect());
        recording_labels.push(labels);
        for tag in tags_of.get(recording.recording).into_iter().flatten() {
            if !tags.contains(tag) {
                *unknown.entry(tag).or_default() += 1;
            }
        }
    }
    Ok(TagEvaluation {
        tags: tags.clone(),
        clip: tag_level_scores(tags, &clip_scores, &clip_labels)?,
        recording: tag_level_scores(tags, &recording_scores, &recording_labels)?,
        unknown_tags: unknown
            .into_iter()
            .map(|(tag, recordings)| UnknownTag {
                tag: tag.to_owned(),
                recordings,
            })
            .collect(),
    })
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

    fn clip(recording: &str, probs: Vec<f32>) -> crate::ClipPrediction {
        crate::ClipPrediction {
            recording: recording.into(),
            song: recording.into(),
            singer: "s".into(),
            label: None,
            clip_index: 0,
            start_frame: 0,
            probs,
            embedding: Vec::new(),
        }
    }

    /// The hand-worked matrix above as four one-clip recordings gives the same numbers at both
    /// levels. Then recording `b` gets a second clip, `[1.0, 0.8]`: its recording score becomes
    /// the mean `[0.7, 0.8]`, and the recording-level tag 0 is positives {0.9, 0.6} against
    /// negatives {0.7, 0.2}: 0.9 beats both, 0.6 only 0.2: 3 / 4; tag 1 is unchanged (7/8).
    #[test]
    fn evaluate_tagging_at_clip_and_recording_level() {
        let tags = vec!["rock".to_owned(), "slow".to_owned()];
        let tags_of: BTreeMap<String, Vec<String>> = [
            ("a", vec!["rock"]),
            ("b", vec!["slow"]),
            ("c", vec!["slow", "rock", "live"]),
            ("d", vec![]),
        ]
        .into_iter()
        .map(|(r, t)| (r.to_owned(), t.into_iter().map(str::to_owned).collect()))
        .collect();
        let mut predictions = Predictions {
            classes: tags.clone(),
            clip_frames: 10,
            seconds_per_frame: 0.1,
            clips: vec![
                clip("a", vec![0.9, 0.1]),
                clip("b", vec![0.4, 0.8]),
                clip("c", vec![0.6, 0.3]),
                clip("d", vec![0.2, 0.3]),
            ],
        };
        let e = evaluate_tagging(&predictions, &tags_of).expect("valid");
        for level in [&e.clip, &e.recording] {
            assert_eq!(level.samples, 4);
            let aucs: Vec<Option<f64>> = level.per_tag.iter().map(|t| t.auc).collect();
            assert_eq!(aucs, [Some(1.0), Some(0.875)]);
            assert_eq!(level.per_tag[0].positives, 2);
            assert!((level.macro_auc.expect("macro") - 15.0 / 16.0).abs() < 1e-6);
            assert!((level.micro_auc.expect("micro") - 29.0 / 32.0).abs() < 1e-6);
            assert_eq!(level.tags_scored, 2);
        }
        assert_eq!(
            e.unknown_tags,
            [UnknownTag {
                tag: "live".into(),
                recordings: 1
            }]
        );

        predictions.clips.push(clip("b", vec![1.0, 0.8]));
        let e = evaluate_tagging(&predictions, &tags_of).expect("valid");
        assert_eq!(e.clip.samples, 5);
        assert_eq!(e.recording.samples, 4);
        let aucs: Vec<Option<f64>> = e.recording.per_tag.iter().map(|t| t.auc).collect();
        assert_eq!(aucs, [Some(0.75), Some(0.875)]);
    }

    /// A tag nobody carries is left out of the macro mean and counted; a recording missing from
    /// the tag map is an error naming it.
    #[test]
    fn evaluate_tagging_leaves_out_undefined_tags_and_names_missing_recordings() {
        let tags_of: BTreeMap<String, Vec<String>> = [("a", vec!["x"]), ("b", vec![])]
            .into_iter()
            .map(|(r, t)| (r.to_owned(), t.into_iter().map(str::to_owned).collect()))
            .collect();
        let predictions = Predictions {
            classes: vec!["x".into(), "y".into()],
            clip_frames: 10,
            seconds_per_frame: 0.1,
            clips: vec![clip("a", vec![0.7, 0.1]), clip("b", vec![0.2, 0.9])],
        };
        let e = evaluate_tagging(&predictions, &tags_of).expect("valid");
        assert_eq!(e.clip.per_tag[1].auc, None);
        assert_eq!(e.clip.tags_scored, 1);
        assert_eq!(e.clip.macro_auc, Some(1.0));
        let mut missing = predictions.clone();
        missing.clips.push(clip("c", vec![0.5, 0.5]));
        let err = evaluate_tagging(&missing, &tags_of).expect_err("c has no entry");
        assert!(err.to_string().contains("recording c"), "{err}");
        let mut short = predictions;
        short.clips[0].probs.pop();
        assert!(matches!(
            evaluate_tagging(&short, &tags_of),
            Err(Error::LengthMismatch { .. })
        ));
    }
}
