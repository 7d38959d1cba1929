//! The paper's evaluation of clip predictions: frame-level and song-level scores.
//!
//! Kuo, Wei and Lin (AAAI 2021), following Nasrullah & Zhao (2019), report F1 at two levels:
//!
//! - **frame level**: every clip ("frame" in the papers) is one sample, predicted as the argmax
//!   of its softmax output;
//! - **song level**: every song is one sample, predicted by the vote of its clips
//!   ([`crate::vote`]: only clips with top probability > 0.5 vote, all clips when none does,
//!   ties to the lowest class), its truth being the song's singer.
//!
//! Both levels get accuracy, macro F1, weighted F1 (the paper's F1), per-class scores and the
//! confusion matrix ([`crate::metrics`], scikit-learn's conventions). Only clips whose singer the
//! model knows (`label` is `Some`) are scored; the others are counted per singer in
//! [`Evaluation::unknown`], with what the model made of their songs, never silently dropped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::bootstrap::{Intervals, RESAMPLES, SEED, SongSample, song_bootstrap};
use crate::metrics::{ClassificationReport, ConfusionMatrix};
use crate::predictions::Predictions;
use crate::vote::{ClipDecision, song_labels, song_vote, song_votes};

/// Scores at one level (frames or songs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelScores {
    /// Samples scored (clips or songs of known singers).
    pub n_samples: u64,
    /// Fraction predicted correctly.
    pub accuracy: f64,
    /// Unweighted mean F1 over the label set (scikit-learn `average='macro'`).
    pub macro_f1: f64,
    /// Support-weighted mean F1 (scikit-learn `average='weighted'`), the paper's F1.
    pub weighted_f1: f64,
    /// Per-class precision / recall / F1 and the averages.
    pub report: ClassificationReport,
    /// Counts, rows = true class, columns = predicted class.
    pub confusion: ConfusionMatrix,
}

impl LevelScores {
    fn from_confusion(confusion: ConfusionMatrix) -> Self {
        let report = confusion.report();
        Self {
            n_samples: report.n_samples,
            accuracy: report.accuracy,
            macro_f1: report.macro_avg.f1,
            weighted_f1: report.weighted_avg.f1,
            report,
            confusion,
        }
    }
}

/// The clips and songs of one singer the model does not know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnknownSinger {
    /// The singer's name as the dataset gives it.
    pub singer: String,
    /// Clips of this singer.
    pub clips: usize,
    /// Songs of this singer.
    pub songs: usize,
    /// How the songs were voted: known class name -> number of songs (songs without a usable
    /// clip are not counted here).
    pub song_votes: BTreeMap<String, usize>,
}

/// Everything the evaluation found; serialisable as the core of `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Class names in class-index order.
    pub classes: Vec<String>,
    /// Clip-level ("frame") scores over the clips of known singers.
    pub frame: LevelScores,
    /// Song-level scores over the songs of known singers, by the paper's vote.
    pub song: LevelScores,
    /// Each song's vote: song key -> predicted class index (songs of known singers).
    pub song_predictions: BTreeMap<String, usize>,
    /// Clips of known singers whose probability row is empty or holds a NaN: scored as wrong
    /// at the frame level (a broken model must not look better), left out of the song vote.
    pub unusable_clips: usize,
    /// Clips of unknown singers (not scored).
    pub unknown_clips: usize,
    /// Songs of unknown singers (not scored).
    pub unknown_songs: usize,
    /// The unknown singers, in name order.
    pub unknown: Vec<UnknownSinger>,
    /// 95 % intervals of every score by bootstrap over songs ([`crate::bootstrap`]; absent in
    /// reports written before they existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intervals: Option<Intervals>,
}

/// Scores clip predictions at the frame and the song level (see the module doc).
///
/// # Errors
///
/// - [`Error::NoClasses`] if `p.classes` is empty.
/// - [`Error::LengthMismatch`] naming a clip whose probability row is not one value per class.
/// - [`Error::LabelOutOfRange`] for a clip label `>= classes.len()`.
/// - [`Error::NoSamples`] if no clip belongs to a known singer.
/// - [`Error::ConflictingSongLabels`] if a song's clips carry different singers.
/// - [`Error::NoUsableClip`] naming a song of a known singer whose probability rows all hold NaN.
pub fn evaluate(p: &Predictions) -> Result<Evaluation, Error> {
    let n_classes = p.classes.len();
    if n_classes == 0 {
        return Err(Error::NoClasses);
    }
    for (position, clip) in p.clips.iter().enumerate() {
        if clip.probs.len() != n_classes {
            return Err(Error::LengthMismatch {
                what: "a clip's probabilities vs the classes",
                left: clip.probs.len(),
                right: n_classes,
            });
        }
        if let Some(label) = clip.label.filter(|&l| l >= n_classes) {
            return Err(Error::LabelOutOfRange {
                which: "clip labels",
                label,
                position,
                n_classes,
            });
        }
    }

    let known: Vec<_> = p.clips.iter().filter(|c| c.label.is_some()).collect();
    if known.is_empty() {
        return Err(Error::NoSamples);
    }

    // Frame level: argmax of every clip. A NaN row has no decision; it counts as wrong
    // (predicted as the next class), so that it can never inflate a score.
    let mut y_true = Vec::with_capacity(known.len());
    let mut y_pred = Vec::with_capacity(known.len());
    let mut unusable_clips = 0;
    for clip in &known {
        let truth = clip.label.unwrap_or_default();
        let predicted = match ClipDecision::from_probs(&clip.probs) {
            Some(decision) => decision.class,
            None => {
                unusable_clips += 1;
                (truth + 1) % n_classes
            }
        };
        y_true.push(truth);
        y_pred.push(predicted);
    }
    let frame =
        LevelScores::from_confusion(ConfusionMatrix::from_labels(&y_true, &y_pred, n_classes)?);

    // Song level: the paper's vote per song, the song's singer as truth.
    let keys: Vec<&str> = known.iter().map(|c| c.song.as_str()).collect();
    let probs: Vec<&[f32]> = known.iter().map(|c| c.probs.as_slice()).collect();
    let votes = song_votes(&keys, &probs)?;
    let truths = song_labels(&keys, &y_true)?;
    let (song_true, song_pred): (Vec<usize>, Vec<usize>) = truths
        .iter()
        .map(|(key, &truth)| (truth, votes.get(key).copied().unwrap_or(truth)))
        .unzip();
    let song = LevelScores::from_confusion(ConfusionMatrix::from_labels(
        &song_true, &song_pred, n_classes,
    )?);

    let mut samples: BTreeMap<&str, SongSample> = BTreeMap::new();
    for ((key, &t), &pred) in keys.iter().zip(&y_true).zip(&y_pred) {
        samples
            .entry(key)
            .or_insert_with(|| SongSample {
                clips: Vec::new(),
                vote: (t, votes.get(key).copied().unwrap_or(t)),
            })
            .clips
            .push((t, pred));
    }
    let samples: Vec<SongSample> = samples.into_values().collect();
    let intervals = song_bootstrap(&samples, n_classes, RESAMPLES, SEED);

    let unknown = unknown_singers(p);
    Ok(Evaluation {
        classes: p.classes.clone(),
        frame,
        song,
        song_predictions: votes
            .into_iter()
            .map(|(key, class)| (key.to_owned(), class))
            .collect(),
        unusable_clips,
        unknown_clips: unknown.iter().map(|u| u.clips).sum(),
        unknown_songs: unknown.iter().map(|u| u.songs).sum(),
        unknown,
        intervals,
    })
}

/// Counts the clips and songs of singers the model does not know, with their songs' votes.
fn unknown_singers(p: &Predictions) -> Vec<UnknownSinger> {
    // singer -> song -> probability rows
    let mut by_singer: BTreeMap<&str, BTreeMap<&str, Vec<&[f32]>>> = BTreeMap::new();
    for clip in p.clips.iter().filter(|c| c.label.is_none()) {
        by_singer
            .entry(&clip.singer)
            .or_default()
            .entry(&clip.song)
            .or_default()
            .push(&clip.probs);
    }
    by_singer
        .into_iter()
        .map(|(singer, songs)| {
            let mut song_votes = BTreeMap::new();
            for rows in songs.values() {
                if let Some(name) = song_vote(rows).and_then(|c| p.classes.get(c)) {
                    *song_votes.entry(name.clone()).or_insert(0) += 1;
                }
            }
            UnknownSinger {
                singer: singer.to_owned(),
                clips: songs.values().map(Vec::len).sum(),
                songs: songs.len(),
                song_votes,
            }
        })
        .collect()
}
