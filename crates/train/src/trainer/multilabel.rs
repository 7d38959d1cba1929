//! The multi-label (tagging) mode of the classifier loop ([`Objective::Multilabel`]): the
//! classes are tags, every output an independent yes / no, as in music auto-tagging (Choi,
//! Fazekas, Sandler and Cho, "Convolutional Recurrent Neural Networks for Music
//! Classification", ICASSP 2017, Sec. 3: sigmoid outputs, binary cross-entropy, AUC-ROC).
//!
//! **The loop is the classifier's** ([`super::train`]): the run folder, `train.json` (the
//! objective is part of [`TrainConfig`](super::TrainConfig)), the resumable `last/`, the time
//! budget, early stopping and the observer. What this mode changes:
//!
//! - **Classes**: the run's classes are its tag vocabulary, the sorted tags of the training
//!   recordings ([`crate::objective::tag_vocabulary`]; [`crate::experiment`] reads them from a
//!   manifest's `tags` column).
//! - **Targets**: every training clip is trained on, its target the multi-hot vector of its
//!   recording's tags ([`multi_hot`]); a recording without tags is a negative for every tag.
//! - **Loss**: [`multilabel_bce_with_logits`], the mean binary cross-entropy over the batch's
//!   `(clip, tag)` cells; no class weights.
//! - **Log columns**: `train_loss` / `val_loss` the mean binary cross-entropy per cell (the
//!   validation loss from the sigmoid outputs clipped to `[1e-7, 1 - 1e-7]`, as Keras does),
//!   `train_accuracy` / `val_accuracy` the fraction of cells on the right side of 0.5, the two
//!   F1 columns NaN, and `val_macro_auc` (a column only these runs' `log.csv` has) the clip-level
//!   macro AUC-ROC over the tags that have both positive and negative validation clips
//!   ([`singerid_eval::tagging`]). Early stopping and `best/` follow `val_macro_auc`; when no
//!   tag has both kinds of validation clip, the run has no validation (every epoch is saved, as
//!   without validation data) and says so in a warning.
//! - **Bundle**: `best/` records the objective (`train_config.objective.kind = "multilabel"`
//!   in its provenance), so `identify` refuses it (its classes are not singers) and `eval`
//!   scores its tags; it has no `unknown` threshold.

use std::collections::BTreeMap;
use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};
use singerid_eval::Predictions;

use super::epochs::{ValScores, logit_values};
use super::run_dir::run_error;
use crate::Error;
use crate::clips::ClipSet;
use crate::objective::{multi_hot, multilabel_bce_with_logits};

#[cfg(doc)]
use super::config::Objective;

/// Checks that `vocabulary` (the run's classes) is sorted without repeats, as the targets'
/// look-up needs.
///
/// # Errors
/// [`Error::Run`] naming the run folder.
pub(super) fn check_vocabulary(vocabulary: &[String], run_dir: &Path) -> Result<(), Error> {
    if vocabulary.windows(2).all(|pair| pair[0] < pair[1]) {
        Ok(())
    } else {
        Err(run_error(
            run_dir,
            "a multi-label run's classes are its tag vocabulary and must be sorted, each tag once",
        ))
    }
}

/// Each recording of `set` with its tags, keyed as [`crate::predict`] names the recordings of
/// its predictions.
fn tags_by_recording(set: &ClipSet) -> BTreeMap<String, Vec<String>> {
    set.recordings()
        .map(|r| (r.path.display().to_string(), r.tags.clone()))
        .collect()
}

/// Whether `val_set` can select a model: some tag of `vocabulary` is carried by some of its
/// clips and not by others (else the macro AUC-ROC is undefined; a warning says why).
pub(super) fn has_validation(val_set: &ClipSet, vocabulary: &[String]) -> bool {
    if val_set.is_empty() {
        return false;
    }
    let positives = (0..val_set.len()).fold(vec![0_usize; vocabulary.len()], |mut counts, i| {
        let tags = val_set.recording(i).map_or(&[][..], |r| &r.tags[..]);
        for (count, y) in counts.iter_mut().zip(multi_hot(tags, vocabulary)) {
            *count += usize::from(y > 0.5);
        }
        counts
    });
    let defined = positives.iter().any(|&p| p > 0 && p < val_set.len());
    if !defined {
        tracing::warn!(
            "no tag has both positive and negative validation clips ({} clips), so the macro \
             AUC-ROC is undefined: no model selection, every epoch is saved to best/; give the \
             validation split recordings with and without each tag",
            val_set.len()
        );
    }
    defined
}

/// The loss of one training batch: the multi-label binary cross-entropy of `logits`
/// (`[clips, tags]`) against the multi-hot targets of `chunk`'s clips (indices into `set`),
/// with how many `(clip, tag)` cells the logits put on the right side of 0 and how many
/// cells there are.
pub(super) fn batch_loss(
    logits: Tensor<2>,
    set: &ClipSet,
    chunk: &[usize],
    vocabulary: &[String],
    device: &Device,
) -> (Tensor<1>, usize, usize) {
    let targets: Vec<f32> = chunk
        .iter()
        .flat_map(|&i| {
            let tags = set.recording(i).map_or(&[][..], |r| &r.tags[..]);
            multi_hot(tags, vocabulary)
        })
        .collect();
    let right = logit_values(&logits)
        .iter()
        .zip(&targets)
        .filter(|&(x, y)| (*x > 0.0) == (*y > 0.5))
        .count();
    let y = Tensor::<2>::from_data(
        TensorData::new(targets, [chunk.len(), vocabulary.len()]),
        device,
    );
    (
        multilabel_bce_with_logits(logits, y),
        right,
        chunk.len() * vocabulary.len(),
    )
}

/// The validation scores of a tagging model's `predictions` (sigmoid outputs, from
/// [`crate::predict_tags`]) on `set`; see the module docs for what each means.
///
/// # Errors
/// [`Error::Eval`] for NaN outputs.
pub(super) fn validation_scores(
    predictions: &Predictions,
    set: &ClipSet,
) -> Result<ValScores, Error> {
    let tags_of = tags_by_recording(set);
    let evaluation = singerid_eval::evaluate_tagging(predictions, &tags_of)?;
    let (mut loss, mut right, mut cells) = (0.0_f64, 0_usize, 0_usize);
    for clip in &predictions.clips {
        let tags = tags_of.get(&clip.recording).map_or(&[][..], Vec::as_slice);
        for (&p, y) in clip.probs.iter().zip(multi_hot(tags, &predictions.classes)) {
            let p = f64::from(p).clamp(1e-7, 1.0 - 1e-7);
            let positive = y > 0.5;
            loss -= if positive { p.ln() } else { (1.0 - p).ln() };
            right += usize::from((p > 0.5) == positive);
            cells += 1;
        }
    }
    let macro_auc = evaluation.clip.macro_auc.unwrap_or(f64::NAN);
    Ok(ValScores {
        loss: loss / cells.max(1) as f64,
        accuracy: right as f64 / cells.max(1) as f64,
        macro_f1: f64::NAN,
        weighted_f1: f64::NAN,
        macro_auc,
        score: macro_auc,
    })
}

#[cfg(test)]
mod tests {
    use singerid_audio::LogMel;
    use singerid_data::Recording;
    use singerid_data::clip::LastClip;
    use singerid_eval::ClipPrediction;

    use super::*;

    /// Two recordings of one 10-frame clip each: `a` tagged `rock`, `b` untagged; the
    /// vocabulary `[pop, rock]`.
    fn two_clips() -> (ClipSet, Vec<String>) {
        let recording = |name: &str, tags: &[&str]| Recording {
            path: format!("{name}.wav").into(),
            abs_path: format!("/x/{name}.wav").into(),
            singer: "s".into(),
            album: None,
            song: name.into(),
            split: None,
            tags: tags.iter().map(|t| t.to_string()).collect(),
        };
        let mel = LogMel {
            n_mels: 2,
            n_frames: 10,
            data: vec![0.0; 20],
        };
        let vocabulary = vec!["pop".to_owned(), "rock".to_owned()];
        let set = ClipSet::from_features(
            vec![
                (recording("a", &["rock"]), mel.clone()),
                (recording("b", &[]), mel),
            ],
            &vocabulary,
            10,
            LastClip::Keep,
            0.1,
        );
        (set, vocabulary)
    }

    #[test]
    fn vocabulary_must_be_sorted_and_unique() {
        let dir = Path::new("run");
        let owned = |tags: &[&str]| tags.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        assert!(check_vocabulary(&owned(&["a", "b"]), dir).is_ok());
        assert!(check_vocabulary(&owned(&["b", "a"]), dir).is_err());
        assert!(check_vocabulary(&owned(&["a", "a"]), dir).is_err());
    }

    /// `rock` is on one clip of two: defined. `pop` is on none, so a set whose only tag is
    /// `pop` has no validation.
    #[test]
    fn validation_needs_a_tag_with_both_kinds_of_clip() {
        let (set, vocabulary) = two_clips();
        assert!(has_validation(&set, &vocabulary));
        assert!(!has_validation(&set, &vocabulary[..1]));
    }

    /// Logits `[[2, -1], [0, 3]]` for clips a (`rock`: target `[0, 1]`) and b (`[0, 0]`). A
    /// cell is right when its logit is above 0 exactly where the target is 1: a/pop (2) and
    /// a/rock (-1) are wrong, b/pop (0) right, b/rock (3) wrong: 1 of 4. The loss is
    /// [`multilabel_bce_with_logits`] of those targets.
    #[test]
    fn batch_targets_are_the_recordings_multi_hot_tags() {
        let (set, vocabulary) = two_clips();
        let device = Device::default();
        let logits = Tensor::<2>::from_floats([[2.0, -1.0], [0.0, 3.0]], &device);
        let (loss, right, cells) = batch_loss(logits.clone(), &set, &[0, 1], &vocabulary, &device);
        assert_eq!((right, cells), (1, 4));
        let expected = multilabel_bce_with_logits(
            logits,
            Tensor::<2>::from_floats([[0.0, 1.0], [0.0, 0.0]], &device),
        );
        let (got, want) = (loss.into_scalar::<f32>(), expected.into_scalar::<f32>());
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    }

    /// Sigmoid outputs a = `[0.2, 0.9]` (target `[0, 1]`), b = `[0.1, 0.4]` (target `[0, 0]`):
    /// every cell right; loss `-(ln 0.8 + ln 0.9 + ln 0.9 + ln 0.6) / 4`; rock's AUC is 1 (0.9
    /// above 0.4), pop has no positive and is left out, so the macro AUC is 1.
    #[test]
    fn validation_scores_from_sigmoid_outputs() {
        let (set, vocabulary) = two_clips();
        let clip = |recording: &str, probs: Vec<f32>| ClipPrediction {
            recording: recording.into(),
            song: recording.into(),
            singer: "s".into(),
            label: None,
            clip_index: 0,
            start_frame: 0,
            probs,
            embedding: Vec::new(),
        };
        let predictions = Predictions {
            classes: vocabulary,
            clip_frames: 10,
            seconds_per_frame: 0.1,
            clips: vec![clip("a.wav", vec![0.2, 0.9]), clip("b.wav", vec![0.1, 0.4])],
        };
        let val = validation_scores(&predictions, &set).expect("scores");
        let want = -(0.8_f64.ln() + 0.9_f64.ln() + 0.9_f64.ln() + 0.6_f64.ln()) / 4.0;
        assert!((val.loss - want).abs() < 1e-6, "{} vs {want}", val.loss);
        assert_eq!(val.accuracy, 1.0);
        assert_eq!(val.macro_auc, 1.0);
        assert_eq!(val.score, val.macro_auc);
        assert!(val.weighted_f1.is_nan());
    }
}
