//! The song-level decision: a majority vote over a song's clips that counts
//! only confident clips.
//!
//! The rule of Nasrullah & Zhao (2019), `predict_artist` in `src/utility.py`
//! of `ZainNasrullah/music-artist-classification-crnn`, reused by the FGNL
//! authors and described in the FGNL paper ("if the confidence (softmax
//! output) of the test frame is less than 0.5, it will be removed and will not
//! participate in voting"):
//!
//! 1. each clip predicts the argmax of its softmax output (the first index on
//!    ties, as `np.argmax`), with confidence = the maximum probability;
//! 2. only clips with confidence **strictly greater** than
//!    [`CONFIDENCE_THRESHOLD`] (0.5) vote (`class_probability > 0.5`; a clip
//!    at exactly 0.5 does not);
//! 3. if no clip qualifies, every clip votes;
//! 4. the most frequent class wins; ties go to the lowest class index (as
//!    `scipy.stats.mode`).
//!
//! Verified against a Python transcription of that rule
//! (`tools/metrics_reference.py`).

use std::collections::BTreeMap;
use std::fmt::Debug;

use serde::{Deserialize, Serialize};

use crate::Error;

/// A clip votes only if its top probability is strictly above this.
pub const CONFIDENCE_THRESHOLD: f32 = 0.5;

/// One clip's decision: the predicted class and its probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClipDecision {
    /// The argmax of the clip's probabilities (the first maximum on ties).
    pub class: usize,
    /// The probability of `class`, the row's maximum.
    pub confidence: f32,
}

impl ClipDecision {
    /// The argmax and maximum of one clip's class probabilities.
    ///
    /// Returns `None` for an empty row or a row holding a NaN, which carries no
    /// usable decision. (NumPy's `argmax` would pick the first NaN; singerid
    /// refuses to vote with it instead.)
    pub fn from_probs(probs: &[f32]) -> Option<Self> {
        if probs.iter().any(|p| p.is_nan()) {
            return None;
        }
        let (class, &confidence) = probs
            .iter()
            .enumerate()
            .reduce(|best, next| if next.1 > best.1 { next } else { best })?;
        Some(Self { class, confidence })
    }

    /// Whether the clip takes part in the vote: `confidence > 0.5`.
    pub fn is_confident(&self) -> bool {
        self.confidence > CONFIDENCE_THRESHOLD
    }
}

/// The song's class from its clips' decisions, by the rule in the module doc.
///
/// Returns `None` only for an empty slice.
pub fn vote(predictions: &[ClipDecision]) -> Option<usize> {
    let confident: Vec<usize> = predictions
        .iter()
        .filter(|p| p.is_confident())
        .map(|p| p.class)
        .collect();
    let voters = if confident.is_empty() {
        predictions.iter().map(|p| p.class).collect()
    } else {
        confident
    };
    let mut tally: BTreeMap<usize, usize> = BTreeMap::new();
    for class in voters {
        *tally.entry(class).or_default() += 1;
    }
    // Ascending class order and a strict `>` keep the lowest class on ties.
    tally
        .into_iter()
        .fold(
            None,
            |best: Option<(usize, usize)>, (class, count)| match best {
                Some((_, best_count)) if best_count >= count => best,
                _ => Some((class, count)),
            },
        )
        .map(|(class, _)| class)
}

/// The song's class from its clips' softmax outputs, by the rule in the
/// module doc.
///
/// # Parameters
///
/// - `clip_probs`: one probability row per clip of the song (each normally of
///   length `n_classes`, summing to 1). Rows that are empty or hold a NaN are
///   skipped (see [`ClipDecision::from_probs`]).
///
/// Returns `None` if no row is usable (in particular for no rows).
pub fn song_vote<R: AsRef<[f32]>>(clip_probs: &[R]) -> Option<usize> {
    let predictions: Vec<ClipDecision> = clip_probs
        .iter()
        .filter_map(|row| ClipDecision::from_probs(row.as_ref()))
        .collect();
    vote(&predictions)
}

/// Groups clip probability rows by song: `song_keys[i]` is the song of
/// `clip_probs[i]`. Songs come out in key order (as `np.unique` sorts them in
/// the authors' code), each with its clips in input order.
///
/// # Errors
///
/// [`Error::LengthMismatch`] if the two slices differ in length.
pub fn group_by_song<'a, K: Ord, R: AsRef<[f32]>>(
    song_keys: &'a [K],
    clip_probs: &'a [R],
) -> Result<BTreeMap<&'a K, Vec<&'a [f32]>>, Error> {
    if song_keys.len() != clip_probs.len() {
        return Err(Error::LengthMismatch {
            what: "song keys vs clip probabilities",
            left: song_keys.len(),
            right: clip_probs.len(),
        });
    }
    let mut songs: BTreeMap<&K, Vec<&[f32]>> = BTreeMap::new();
    for (key, row) in song_keys.iter().zip(clip_probs) {
        songs.entry(key).or_default().push(row.as_ref());
    }
    Ok(songs)
}

/// Every song's vote: groups the clips by song ([`group_by_song`]) and applies
/// [`song_vote`] to each.
///
/// # Parameters
///
/// - `song_keys`: the song of each clip (any orderable key: a path, an id).
/// - `clip_probs`: each clip's softmax output, same length as `song_keys`.
///
/// # Errors
///
/// - [`Error::LengthMismatch`] if the slices differ in length.
/// - [`Error::NoUsableClip`] naming the first song (in key order) whose rows
///   are all empty or NaN.
pub fn song_votes<K: Ord + Clone + Debug, R: AsRef<[f32]>>(
    song_keys: &[K],
    clip_probs: &[R],
) -> Result<BTreeMap<K, usize>, Error> {
    group_by_song(song_keys, clip_probs)?
        .into_iter()
        .map(|(key, rows)| match song_vote(&rows) {
            Some(class) => Ok((key.clone(), class)),
            None => Err(Error::NoUsableClip {
                song: format!("{key:?}"),
            }),
        })
        .collect()
}

/// Every song's true class from its clips' labels, keyed like [`song_votes`]
/// so that the two maps line up for a song-level [`ConfusionMatrix`].
///
/// # Parameters
///
/// - `song_keys`: the song of each clip.
/// - `clip_labels`: each clip's true class, same length.
///
/// # Errors
///
/// - [`Error::LengthMismatch`] if the slices differ in length.
/// - [`Error::ConflictingSongLabels`] naming the first song whose clips carry
///   different classes (a song has one singer).
///
/// [`ConfusionMatrix`]: crate::ConfusionMatrix
pub fn song_labels<K: Ord + Clone + Debug>(
    song_keys: &[K],
    clip_labels: &[usize],
) -> Result<BTreeMap<K, usize>, Error> {
    if song_keys.len() != clip_labels.len() {
        return Err(Error::LengthMismatch {
            what: "song keys vs clip labels",
            left: song_keys.len(),
            right: clip_labels.len(),
        });
    }
    let mut labels: BTreeMap<K, usize> = BTreeMap::new();
    for (key, &label) in song_keys.iter().zip(clip_labels) {
        match labels.get(key) {
            Some(&first) if first != label => {
                return Err(Error::ConflictingSongLabels {
                    song: format!("{key:?}"),
                    first,
                    second: label,
                });
            }
            Some(_) => {}
            None => {
                labels.insert(key.clone(), label);
            }
        }
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pred(class: usize, confidence: f32) -> ClipDecision {
        ClipDecision { class, confidence }
    }

    #[test]
    fn clip_prediction_is_argmax_with_first_index_on_ties() {
        assert_eq!(
            ClipDecision::from_probs(&[0.2, 0.5, 0.3]),
            Some(pred(1, 0.5))
        );
        assert_eq!(
            ClipDecision::from_probs(&[0.4, 0.4, 0.2]),
            Some(pred(0, 0.4))
        );
        assert_eq!(
            ClipDecision::from_probs(&[0.2, 0.4, 0.4]),
            Some(pred(1, 0.4))
        );
        assert_eq!(ClipDecision::from_probs(&[]), None);
        assert_eq!(ClipDecision::from_probs(&[0.2, f32::NAN, 0.8]), None);
    }

    #[test]
    fn threshold_is_strict() {
        assert!(!pred(0, 0.5).is_confident());
        assert!(pred(0, 0.500_000_06).is_confident()); // the next f32 above 0.5
        assert!(!pred(0, 0.499_999_97).is_confident());
    }

    /// Two confident clips say 1, one confident clip says 0, one unconfident
    /// clip (0.4) says 0: confident votes 1, 1, 0 -> 1 (counting all four
    /// would tie 2 : 2 and give 0).
    #[test]
    fn majority_of_confident_clips() {
        let probs = [
            vec![0.6, 0.3, 0.1],
            vec![0.2, 0.7, 0.1],
            vec![0.1, 0.8, 0.1],
            vec![0.4, 0.35, 0.25],
        ];
        assert_eq!(song_vote(&probs), Some(1));
    }

    /// Two clips at exactly 0.5 for class 0 do not qualify; the one clip at
    /// 0.6 for class 1 decides. (With `>=` the vote would be 0.)
    #[test]
    fn exactly_one_half_does_not_qualify() {
        let probs = [
            vec![0.5, 0.3, 0.2],
            vec![0.5, 0.4, 0.1],
            vec![0.1, 0.6, 0.3],
        ];
        assert_eq!(song_vote(&probs), Some(1));
    }

    /// No clip is above 0.5, so all vote: argmaxes 0, 1, 2, 1 -> 1.
    #[test]
    fn falls_back_to_all_clips_when_none_is_confident() {
        let probs = [
            vec![0.45, 0.4, 0.15],
            vec![0.3, 0.45, 0.25],
            vec![0.2, 0.3, 0.5],
            vec![0.1, 0.45, 0.45],
        ];
        assert_eq!(song_vote(&probs), Some(1));
    }

    /// Confident votes 2, 0, 2, 0: a 2 : 2 tie goes to class 0.
    #[test]
    fn ties_go_to_the_lowest_class() {
        let probs = [
            vec![0.1, 0.1, 0.8],
            vec![0.9, 0.05, 0.05],
            vec![0.05, 0.05, 0.9],
            vec![0.7, 0.2, 0.1],
        ];
        assert_eq!(song_vote(&probs), Some(0));
        assert_eq!(vote(&[pred(5, 0.9), pred(3, 0.9)]), Some(3));
        // Argmax ties inside rows, then a 1 : 1 tie across rows: 0.
        assert_eq!(
            song_vote(&[vec![0.4, 0.4, 0.2], vec![0.2, 0.4, 0.4]]),
            Some(0)
        );
    }

    #[test]
    fn empty_and_unusable_input() {
        let none: [Vec<f32>; 0] = [];
        assert_eq!(song_vote(&none), None);
        assert_eq!(vote(&[]), None);
        assert_eq!(song_vote(&[vec![], vec![f32::NAN, 0.5]]), None);
        // Unusable rows are skipped; the rest vote.
        assert_eq!(song_vote(&[vec![f32::NAN, 1.0], vec![0.1, 0.9]]), Some(1));
        // A single clip decides alone, confident or not.
        assert_eq!(song_vote(&[vec![0.3, 0.3, 0.4]]), Some(2));
    }

    /// Seeded random songs (4 classes, Dirichlet probabilities rounded to f32)
    /// and the vote of the authors' rule in Python, from
    /// `tools/metrics_reference.py` ("random songs").
    #[test]
    fn random_songs_match_the_authors_rule_in_python() {
        #[rustfmt::skip]
        let cases: [(usize, &[[f32; 4]]); 12] = [
            (3, &[[0.14003964, 0.0019526443, 0.04689365, 0.8111141]]),
            (2, &[[0.14643079, 0.020128973, 0.5087365, 0.32470375]]),
            (2, &[[0.03465231, 0.16389632, 0.7424377, 0.059013657], [0.16036576, 0.13949037, 0.5869414, 0.113202475], [0.530336, 0.15867577, 0.23006596, 0.08092223], [0.47785726, 0.12979957, 0.34069353, 0.051649623]]),
            (0, &[[0.70521057, 0.041566018, 0.01693327, 0.23629016], [0.17696284, 0.09899815, 0.035023972, 0.68901503], [0.2645494, 0.06516344, 0.17285769, 0.49742946], [0.5812124, 0.22142455, 0.0581482, 0.13921484], [0.8935762, 0.038841587, 0.023375958, 0.044206254]]),
            (0, &[[0.3733051, 0.2471777, 0.07204664, 0.30747053], [0.20312674, 0.21297885, 0.25387225, 0.33002216]]),
            (2, &[[0.10682934, 0.07018874, 0.66607964, 0.1569023], [0.09461579, 0.4578081, 0.4279502, 0.019625876], [0.18860203, 0.28735995, 0.39789754, 0.12614048], [0.10623909, 0.3495727, 0.09581904, 0.44836918]]),
            (0, &[[0.48563054, 0.009562087, 0.19034116, 0.3144662], [0.23815453, 0.34948865, 0.1114973, 0.3008595], [0.4431753, 0.39131197, 0.025627263, 0.1398855], [0.72407, 0.059389707, 0.06963593, 0.14690435]]),
            (1, &[[0.27020833, 0.13536744, 0.38948482, 0.2049394], [0.043993525, 0.8575295, 0.010022447, 0.0884545], [0.2000892, 0.030019876, 0.54291105, 0.22697985], [0.108789824, 0.60830855, 0.0504451, 0.23245654], [0.038297817, 0.28396714, 0.55476063, 0.1229744]]),
            (3, &[[0.32740346, 0.15560049, 0.47362918, 0.04336686], [0.19859928, 0.27149224, 0.014394983, 0.5155135]]),
            (3, &[[0.17705093, 0.10477823, 0.099449776, 0.61872107]]),
            (0, &[[0.40617582, 0.05721279, 0.47835502, 0.05825638], [0.41385972, 0.06951617, 0.2390364, 0.27758768]]),
            (0, &[[0.11355132, 0.56773937, 0.21984285, 0.09886647], [0.66993755, 0.012429807, 0.08158247, 0.23605019], [0.45693067, 0.1923152, 0.122943036, 0.2278111], [0.11216535, 0.054539323, 0.4609339, 0.37236142]]),
        ];
        for (song, (want, probs)) in cases.iter().enumerate() {
            assert_eq!(song_vote(probs), Some(*want), "song {song}");
        }
    }

    #[test]
    fn song_votes_group_clips_by_key() {
        let keys = ["b", "a", "b", "a", "c", "b"];
        let probs = [
            vec![0.9, 0.1],
            vec![0.2, 0.8],
            vec![0.6, 0.4],
            vec![0.3, 0.7],
            vec![0.45, 0.55],
            vec![0.2, 0.8],
        ];
        let groups = group_by_song(&keys, &probs).expect("same length");
        assert_eq!(
            groups.keys().copied().collect::<Vec<_>>(),
            [&"a", &"b", &"c"]
        );
        assert_eq!(groups[&"b"], [&[0.9, 0.1][..], &[0.6, 0.4], &[0.2, 0.8]]);
        let votes = song_votes(&keys, &probs).expect("valid");
        // a: 1, 1; b: 0, 0, 1 -> 0; c: 1.
        assert_eq!(
            votes.into_iter().collect::<Vec<_>>(),
            [("a", 1), ("b", 0), ("c", 1)]
        );
    }

    #[test]
    fn song_labels_line_up_with_song_votes() {
        let keys = ["b", "a", "b", "a"];
        let probs = [
            vec![0.9, 0.1],
            vec![0.2, 0.8],
            vec![0.6, 0.4],
            vec![0.3, 0.7],
        ];
        let truth = song_labels(&keys, &[0, 1, 0, 1]).expect("consistent");
        let votes = song_votes(&keys, &probs).expect("valid");
        assert!(truth.keys().eq(votes.keys()));
        assert_eq!(truth.into_iter().collect::<Vec<_>>(), [("a", 1), ("b", 0)]);
        let err = song_labels(&keys, &[0, 1, 1, 1]).expect_err("b has two singers");
        assert!(
            matches!(&err, Error::ConflictingSongLabels { song, first: 0, second: 1 } if song == "\"b\""),
            "{err:?}"
        );
        assert!(matches!(
            song_labels(&keys, &[0]),
            Err(Error::LengthMismatch {
                left: 4,
                right: 1,
                ..
            })
        ));
    }

    #[test]
    fn song_votes_report_errors() {
        assert!(matches!(
            song_votes(&["a", "b"], &[vec![1.0]]),
            Err(Error::LengthMismatch {
                left: 2,
                right: 1,
                ..
            })
        ));
        let err = song_votes(&["ok", "bad"], &[vec![1.0, 0.0], vec![f32::NAN, 0.5]])
            .expect_err("bad song");
        assert!(
            matches!(&err, Error::NoUsableClip { song } if song == "\"bad\""),
            "{err:?}"
        );
    }
}

/// A file's decision with its confidence: the vote's winner and the winner's mean probability
/// over the file's clips (`None` for no clips).
pub fn decide_with_confidence(probs: &[&[f32]]) -> Option<(usize, f32)> {
    let decisions: Vec<ClipDecision> = probs
        .iter()
        .filter_map(|p| ClipDecision::from_probs(p))
        .collect();
    let winner = vote(&decisions)?;
    let confidence = probs
        .iter()
        .map(|p| p.get(winner).copied().unwrap_or(0.0))
        .sum::<f32>()
        / probs.len() as f32;
    Some((winner, confidence))
}

/// Share of correctly named recordings that a calibrated `unknown` threshold keeps.
pub const UNKNOWN_KEEPS_CORRECT: f64 = 0.95;

/// The `unknown` threshold calibrated on validation predictions: each recording is decided by
/// [`decide_with_confidence`]; the threshold is the confidence below which only
/// `1 - UNKNOWN_KEEPS_CORRECT` of the correctly named recordings fall (their 5th percentile),
/// so answers less confident than nearly every right answer on validation become `unknown`.
/// `None` when no recording with a known singer was named correctly.
pub fn calibrate_unknown(predictions: &crate::Predictions) -> Option<f32> {
    let mut by_recording: std::collections::BTreeMap<&str, Vec<&crate::ClipPrediction>> =
        std::collections::BTreeMap::new();
    for clip in &predictions.clips {
        by_recording.entry(&clip.recording).or_default().push(clip);
    }
    let mut correct: Vec<f32> = by_recording
        .values()
        .filter_map(|clips| {
            let label = clips[0].label?;
            let probs: Vec<&[f32]> = clips.iter().map(|c| c.probs.as_slice()).collect();
            let (winner, confidence) = decide_with_confidence(&probs)?;
            (winner == label).then_some(confidence)
        })
        .collect();
    if correct.is_empty() {
        return None;
    }
    correct.sort_by(f32::total_cmp);
    let k = ((1.0 - UNKNOWN_KEEPS_CORRECT) * correct.len() as f64).floor() as usize;
    Some(correct[k.min(correct.len() - 1)])
}

#[cfg(test)]
mod calibration_tests {
    use super::*;
    use crate::{ClipPrediction, Predictions};

    fn clip(recording: &str, label: usize, probs: [f32; 2]) -> ClipPrediction {
        ClipPrediction {
            recording: recording.into(),
            song: recording.into(),
            singer: String::new(),
            label: Some(label),
            clip_index: 0,
            start_frame: 0,
            probs: probs.to_vec(),
            embedding: vec![],
        }
    }

    /// 20 recordings named correctly with confidences 0.55, 0.57, ..., 0.93 and one named
    /// wrongly (ignored): the threshold is the sorted correct confidences' entry
    /// floor(0.05 * 20) = 1, 0.57, which keeps 19 of the 20 right answers (95 %).
    #[test]
    fn threshold_keeps_95_percent_of_right_answers() {
        let mut clips: Vec<ClipPrediction> = (0..20)
            .map(|i| {
                let p = 0.55 + 0.02 * i as f32;
                clip(&format!("r{i:02}"), 0, [p, 1.0 - p])
            })
            .collect();
        clips.push(clip("wrong", 1, [0.99, 0.01]));
        let predictions = Predictions {
            classes: vec!["a".into(), "b".into()],
            clips,
            ..Default::default()
        };
        let t = calibrate_unknown(&predictions).expect("threshold");
        assert!((t - 0.57).abs() < 1e-6, "{t}");
        let kept = (0..20).filter(|i| 0.55 + 0.02 * *i as f32 >= t).count();
        assert_eq!(kept, 19);
    }
}
