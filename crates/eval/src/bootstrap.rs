//! Confidence intervals by bootstrap over songs (issue 13's comparison table).
//!
//! The clips of one song are not independent samples (same voice, same recording, same
//! backing), so resampling clips would give intervals far too narrow. Songs are the unit: each
//! resample draws as many songs as there are, with replacement, takes every clip of each drawn
//! song (a song drawn twice counts twice) and scores the clip level and the song level as
//! [`crate::evaluate()`] does. The interval is the percentile interval (2.5 % and 97.5 % for the
//! default 95 %). Seeded, so a report is reproducible.
//!
//! Accuracy and weighted F1 get intervals; macro F1 does not. With one or two songs per singer
//! (MIR-1K's validation split) most resamples lack some singer, whose column still counts in
//! macro F1 when another singer's clips are predicted as it, at F1 0: the resampled macro F1
//! sits below the estimate (on the shipped model's validation run the whole percentile interval
//! lay below it), so its percentile interval would mislead.

use serde::{Deserialize, Serialize};

use crate::metrics::ConfusionMatrix;

/// Resamples drawn by [`crate::evaluate()`].
pub const RESAMPLES: usize = 1000;
/// Seed of those resamples.
pub const SEED: u64 = 0;

/// A percentile interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

/// 95 % intervals of accuracy and weighted F1 at both levels (see the module docs for macro F1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intervals {
    /// Resamples drawn.
    pub resamples: usize,
    /// Coverage (0.95).
    pub level: f64,
    /// Songs resampled.
    pub songs: usize,
    /// Clip accuracy.
    pub frame_accuracy: Interval,
    /// Clip weighted F1.
    pub frame_weighted_f1: Interval,
    /// Song accuracy.
    pub song_accuracy: Interval,
    /// Song weighted F1.
    pub song_weighted_f1: Interval,
}

/// One song's evidence: its clips' (truth, prediction) pairs and its vote.
#[derive(Debug, Clone)]
pub struct SongSample {
    /// `(true class, predicted class)` of each clip.
    pub clips: Vec<(usize, usize)>,
    /// `(true class, voted class)` of the song.
    pub vote: (usize, usize),
}

/// splitmix64: a small, seeded, good-enough generator for drawing indices.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), by rejection so that no index is favoured.
    fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next();
            if x < zone {
                return (x % n) as usize;
            }
        }
    }
}

/// The `q` quantile of sorted `values` (linear interpolation, numpy's default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let position = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (position.floor() as usize, position.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (position - lo as f64)
}

/// 95 % percentile intervals over `resamples` song resamples (see the module docs); `None`
/// without songs.
pub fn song_bootstrap(
    songs: &[SongSample],
    n_classes: usize,
    resamples: usize,
    seed: u64,
) -> Option<Intervals> {
    if songs.is_empty() || n_classes == 0 || resamples == 0 {
        return None;
    }
    let mut rng = SplitMix(seed);
    let mut scores: [Vec<f64>; 4] = Default::default();
    for _ in 0..resamples {
        let (mut clip_true, mut clip_pred) = (Vec::new(), Vec::new());
        let (mut song_true, mut song_pred) = (Vec::new(), Vec::new());
        for _ in 0..songs.len() {
            let song = &songs[rng.below(songs.len())];
            for &(t, p) in &song.clips {
                clip_true.push(t);
                clip_pred.push(p);
            }
            song_true.push(song.vote.0);
            song_pred.push(song.vote.1);
        }
        for (offset, (t, p)) in [(0, (&clip_true, &clip_pred)), (2, (&song_true, &song_pred))] {
            if let Ok(m) = ConfusionMatrix::from_labels(t, p, n_classes) {
                scores[offset].push(m.accuracy());
                scores[offset + 1].push(m.weighted_f1());
            }
        }
    }
    let level = 0.95;
    let interval = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        Interval {
            low: quantile(values, (1.0 - level) / 2.0),
            high: quantile(values, 1.0 - (1.0 - level) / 2.0),
        }
    };
    let [fa, fw, sa, sw] = &mut scores;
    Some(Intervals {
        resamples,
        level,
        songs: songs.len(),
        frame_accuracy: interval(fa),
        frame_weighted_f1: interval(fw),
        song_accuracy: interval(sa),
        song_weighted_f1: interval(sw),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn song(truth: usize, right: usize, wrong: usize, voted: usize) -> SongSample {
        let mut clips = vec![(truth, truth); right];
        clips.extend(vec![(truth, (truth + 1) % 3); wrong]);
        SongSample {
            clips,
            vote: (truth, voted),
        }
    }

    #[test]
    fn all_right_gives_a_point_interval_at_one() {
        let songs: Vec<_> = (0..6).map(|i| song(i % 3, 4, 0, i % 3)).collect();
        let ci = song_bootstrap(&songs, 3, 200, 0).expect("songs");
        assert_eq!(
            ci.frame_accuracy,
            Interval {
                low: 1.0,
                high: 1.0
            }
        );
        assert_eq!(
            ci.song_accuracy,
            Interval {
                low: 1.0,
                high: 1.0
            }
        );
    }

    #[test]
    fn the_interval_holds_the_estimate_and_narrows_with_more_songs() {
        // Half the songs entirely right, half entirely wrong: accuracy 0.5 either way.
        let make = |n: usize| -> Vec<SongSample> {
            (0..n)
                .map(|i| {
                    if i % 2 == 0 {
                        song(i % 3, 5, 0, i % 3)
                    } else {
                        song(i % 3, 0, 5, (i + 1) % 3)
                    }
                })
                .collect()
        };
        let small = song_bootstrap(&make(10), 3, 1000, 1).expect("songs");
        let large = song_bootstrap(&make(200), 3, 1000, 1).expect("songs");
        for ci in [&small, &large] {
            assert!(ci.frame_accuracy.low < 0.5 && 0.5 < ci.frame_accuracy.high);
            assert!(ci.song_accuracy.low < 0.5 && 0.5 < ci.song_accuracy.high);
        }
        let width = |i: Interval| i.high - i.low;
        assert!(width(large.frame_accuracy) < width(small.frame_accuracy) / 2.0);
        // Seeded: the same call gives the same interval.
        assert_eq!(song_bootstrap(&make(10), 3, 1000, 1), Some(small));
        assert_eq!(song_bootstrap(&[], 3, 10, 0), None);
    }

    #[test]
    fn quantile_interpolates_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert!((quantile(&v, 0.5) - 2.5).abs() < 1e-12);
        assert!((quantile(&v, 0.025) - 1.075).abs() < 1e-12);
    }
}
