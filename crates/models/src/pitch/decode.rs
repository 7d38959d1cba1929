//! From CREPE's 360 activations per frame to a pitch track: bins, cents and Hz; the
//! allowed pitch range; the weighted average around the argmax; Viterbi smoothing (torchcrepe's
//! and the CREPE package's); and periodicity.
//!
//! Follows `torchcrepe` 0.0.24 (`convert.py`, `decode.py`, `core.postprocess`,
//! `core.periodicity`) and, for [`Decoder::LocalAverage`] and [`Decoder::CrepeViterbi`], the
//! CREPE authors' own package (`crepe` 0.0.16, `crepe/core.py`: `to_local_average_cents`,
//! `to_viterbi_cents`, `predict`), which the FGNL authors used for their melody input. The
//! two packages differ in these places, each offered here:
//! - torchcrepe's `weighted_argmax` weighs the nine bins around the argmax by
//!   `sigmoid(activation)` (it applies a sigmoid to what is already a sigmoid output);
//!   CREPE's `to_local_average_cents` weighs them by the activation itself
//!   ([`Decoder::WeightedArgmax`] vs [`Decoder::LocalAverage`]).
//! - Their Viterbi models differ ([`Decoder::Viterbi`] vs [`Decoder::CrepeViterbi`]). Both
//!   have the 360 bins as hidden states, a uniform start and the same transition
//!   ([`crepe_transition`]). torchcrepe observes each frame's softmax of the activations and
//!   returns the path's bin centres. CREPE observes only each frame's argmax bin, through the
//!   emission matrix `0.1 I + 0.9 / 360` (an argmax is the true bin with probability
//!   `0.1 + 0.9 / 360`, any other bin with `0.9 / 360`), and returns the local average
//!   around the path's bin. An argmax that jumps further than the transition allows (more than
//!   11 bins in one frame) is therefore ignored by CREPE's decoder however strong it is.
//! - torchcrepe masks the bins outside `fmin..fmax` (by default 50 to 2006 Hz, bins 39..360)
//!   before decoding; CREPE masks nothing ([`PitchRange::all`]).
//! - torchcrepe's periodicity is the activation at the chosen bin; CREPE's confidence is each
//!   frame's largest activation, whatever the path chose (what [`Decoder::CrepeViterbi`]
//!   reports).
//! - CREPE turns the NaN of an all-zero window (the local average's `0 / 0`) into 0 Hz;
//!   [`Decoder::CrepeViterbi`] does the same.
//!
//! torchcrepe also *dithers* every bin-to-cents conversion with triangular noise of ±20 cents
//! (`convert.dither`), including the weights of `weighted_argmax`, so its f0 differs from run
//! to run. singerid does not dither: its f0 is torchcrepe's with `dither` replaced by the
//! identity (what `tools/crepe_reference.py` records). CREPE does not dither.

use serde::{Deserialize, Serialize};

use super::crepe::PITCH_BINS;
use crate::error::ModelError;

/// Width of one output bin.
pub const CENTS_PER_BIN: f64 = 20.0;
/// Centre of bin 0 in cents above [`REFERENCE_HZ`] (about 31.70 Hz).
pub const CENTS_AT_BIN_0: f64 = 1_997.379_408_437_619;
/// The cents scale's 0: `cents = 1200 log2(f / 10 Hz)`.
pub const REFERENCE_HZ: f64 = 10.0;
/// torchcrepe's default lowest pitch.
pub const FMIN_HZ: f64 = 50.0;
/// torchcrepe's `MAX_FMAX`: the default highest pitch, just above the last bin's centre.
pub const FMAX_HZ: f64 = 2006.0;
/// Bins on each side of the argmax in the weighted average (torchcrepe and CREPE: 4).
pub const LOCAL_AVERAGE_RADIUS: usize = 4;
/// Bins over which a Viterbi transition may jump: the weight of a jump of `d` bins is
/// `max(12 - |d|, 0)`, normalised per row (torchcrepe's transition matrix).
pub const VITERBI_TRANSITION_WIDTH: usize = 12;

/// Cents (re 10 Hz) of a (fractional) bin: `20 bin + 1997.379...`.
pub fn bin_to_cents(bin: f64) -> f64 {
    CENTS_PER_BIN * bin + CENTS_AT_BIN_0
}

/// Fractional bin of a pitch in cents: the inverse of [`bin_to_cents`].
pub fn cents_to_bin(cents: f64) -> f64 {
    (cents - CENTS_AT_BIN_0) / CENTS_PER_BIN
}

/// Hz of a pitch in cents: `10 * 2^(cents / 1200)`.
pub fn cents_to_hz(cents: f64) -> f64 {
    REFERENCE_HZ * (cents / 1200.0).exp2()
}

/// Cents of a frequency: `1200 log2(hz / 10)`; `hz` > 0.
pub fn hz_to_cents(hz: f64) -> f64 {
    1200.0 * (hz / REFERENCE_HZ).log2()
}

/// Hz of a (fractional) bin's centre.
pub fn bin_to_hz(bin: f64) -> f64 {
    cents_to_hz(bin_to_cents(bin))
}

/// Fractional bin of a frequency.
pub fn hz_to_bin(hz: f64) -> f64 {
    cents_to_bin(hz_to_cents(hz))
}

/// How a frame's activations become one pitch (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decoder {
    /// torchcrepe `decode.weighted_argmax`: the average of the bin centres within
    /// [`LOCAL_AVERAGE_RADIUS`] of the argmax, weighted by `sigmoid(activation)`.
    WeightedArgmax,
    /// CREPE's `to_local_average_cents`: the same window weighted by the activations.
    LocalAverage,
    /// torchcrepe `decode.viterbi`: the most likely bin path under a transition that allows
    /// jumps of fewer than [`VITERBI_TRANSITION_WIDTH`] bins, with per-frame softmax of the
    /// activations as observation probabilities; f0 is the path's bin centres.
    Viterbi,
    /// The CREPE package's `to_viterbi_cents` (`predict(.., viterbi=True)`): the most likely
    /// bin path of an HMM that observes each frame's argmax bin through the emission matrix
    /// `0.1 I + 0.9 / 360`, with [`crepe_transition`] and a uniform start; f0 is the local
    /// average ([`Decoder::LocalAverage`]'s weights) around the path's bin, 0 Hz where that
    /// window holds no activation. Periodicity is each frame's largest activation (CREPE's
    /// `confidence`).
    CrepeViterbi,
}

/// The pitch range decoding may choose from (torchcrepe's `fmin`, `fmax`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PitchRange {
    /// Lowest pitch in Hz, > 0 (default [`FMIN_HZ`]).
    pub fmin_hz: f64,
    /// Highest pitch in Hz, > `fmin_hz` (default [`FMAX_HZ`]).
    pub fmax_hz: f64,
}

impl Default for PitchRange {
    fn default() -> Self {
        Self {
            fmin_hz: FMIN_HZ,
            fmax_hz: FMAX_HZ,
        }
    }
}

impl PitchRange {
    /// Every one of the 360 bins (CREPE's package masks nothing): from half a bin below bin
    /// 0's centre (31.5 Hz) to half a bin above bin 359's (2017 Hz).
    pub fn all() -> Self {
        Self {
            fmin_hz: bin_to_hz(-0.5),
            fmax_hz: bin_to_hz(PITCH_BINS as f64 - 0.5),
        }
    }

    /// The bins kept, as torchcrepe's `postprocess` computes them: from
    /// `floor(hz_to_bin(fmin))` up to, not including, `ceil(hz_to_bin(fmax))`, clipped to
    /// `0..360`. The defaults keep bins 39..360.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] unless `0 < fmin < fmax` and the range keeps a bin.
    pub fn bins(&self) -> Result<std::ops::Range<usize>, ModelError> {
        let (fmin, fmax) = (self.fmin_hz, self.fmax_hz);
        if !(fmin > 0.0 && fmax > fmin) {
            return Err(ModelError::InvalidConfig(format!(
                "CREPE pitch range: need 0 < fmin < fmax, got fmin {fmin} Hz, fmax {fmax} Hz"
            )));
        }
        let clip = |bin: f64| bin.clamp(0.0, PITCH_BINS as f64) as usize;
        let range = clip(hz_to_bin(fmin).floor())..clip(hz_to_bin(fmax).ceil());
        if range.is_empty() {
            return Err(ModelError::InvalidConfig(format!(
                "CREPE pitch range {fmin}-{fmax} Hz keeps none of the bins {:.1}-{:.1} Hz",
                bin_to_hz(0.0),
                bin_to_hz((PITCH_BINS - 1) as f64)
            )));
        }
        Ok(range)
    }
}

/// A decoded pitch track, one value per frame.
#[derive(Debug, Clone, PartialEq)]
pub struct PitchTrack {
    /// The chosen bin: the argmax, or the Viterbi path.
    pub bins: Vec<usize>,
    /// Fundamental frequency in Hz (never dithered).
    pub f0_hz: Vec<f64>,
    /// The activation at the chosen bin (torchcrepe's `periodicity`): the maximum activation
    /// for the argmax decoders and for [`Decoder::CrepeViterbi`] (CREPE's `confidence`, the
    /// frame's largest activation wherever the path is). `-inf` if torchcrepe's Viterbi chose
    /// a bin outside the range.
    pub periodicity: Vec<f32>,
}

/// Decodes `[frames, 360]` activations (row-major) into a pitch track.
///
/// Bins outside `range` are set to `-inf` first (activation 0 after a sigmoid or softmax), as
/// torchcrepe's `postprocess` does.
///
/// # Errors
/// [`ModelError::InvalidConfig`] if the length is not a multiple of 360 or the range is
/// invalid ([`PitchRange::bins`]).
pub fn decode(
    activations: &[f32],
    range: &PitchRange,
    decoder: Decoder,
) -> Result<PitchTrack, ModelError> {
    if !activations.len().is_multiple_of(PITCH_BINS) {
        return Err(ModelError::InvalidConfig(format!(
            "CREPE decoding: {} activations are not whole frames of {PITCH_BINS} bins",
            activations.len()
        )));
    }
    let kept = range.bins()?;
    let masked: Vec<f32> = activations
        .chunks_exact(PITCH_BINS)
        .flat_map(|frame| {
            frame.iter().enumerate().map(|(b, &a)| {
                if kept.contains(&b) {
                    a
                } else {
                    f32::NEG_INFINITY
                }
            })
        })
        .collect();
    let bins = match decoder {
        Decoder::WeightedArgmax | Decoder::LocalAverage => masked
            .chunks_exact(PITCH_BINS)
            .map(argmax)
            .collect::<Vec<_>>(),
        Decoder::Viterbi => viterbi_bins(&masked),
        Decoder::CrepeViterbi => crepe_viterbi_bins(&masked),
    };
    let f0_hz = match decoder {
        Decoder::Viterbi => bins.iter().map(|&b| bin_to_hz(b as f64)).collect(),
        Decoder::WeightedArgmax | Decoder::LocalAverage => masked
            .chunks_exact(PITCH_BINS)
            .zip(&bins)
            .map(|(frame, &bin)| cents_to_hz(local_average_cents(frame, bin, decoder)))
            .collect(),
        // CREPE's `predict`: `frequency[np.isnan(frequency)] = 0`.
        Decoder::CrepeViterbi => masked
            .chunks_exact(PITCH_BINS)
            .zip(&bins)
            .map(|(frame, &bin)| cents_to_hz(local_average_cents(frame, bin, decoder)))
            .map(|hz| if hz.is_nan() { 0.0 } else { hz })
            .collect(),
    };
    let periodicity = masked
        .chunks_exact(PITCH_BINS)
        .zip(&bins)
        .map(|(frame, &bin)| match decoder {
            Decoder::CrepeViterbi => frame.iter().copied().fold(f32::NEG_INFINITY, f32::max),
            _ => frame[bin],
        })
        .collect();
    Ok(PitchTrack {
        bins,
        f0_hz,
        periodicity,
    })
}

/// Index of the first maximum (PyTorch's and NumPy's `argmax` tie rule).
fn argmax<T: PartialOrd + Copy>(values: &[T]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

/// The weighted average of the bin centres within [`LOCAL_AVERAGE_RADIUS`] of `center`, in
/// cents. Masked (`-inf`) bins weigh 0 either way.
fn local_average_cents(frame: &[f32], center: usize, decoder: Decoder) -> f64 {
    let start = center.saturating_sub(LOCAL_AVERAGE_RADIUS);
    let end = (center + LOCAL_AVERAGE_RADIUS + 1).min(frame.len());
    let weight = |a: f32| {
        let a = f64::from(a);
        match decoder {
            Decoder::WeightedArgmax => 1.0 / (1.0 + (-a).exp()),
            _ => a.max(0.0),
        }
    };
    let (sum, total) = (start..end).fold((0.0, 0.0), |(sum, total), b| {
        let w = weight(frame[b]);
        (sum + w * bin_to_cents(b as f64), total + w)
    });
    sum / total
}

/// torchcrepe's Viterbi transition matrix, row-major `[360, 360]`: `transition[i][j] ∝
/// max(12 - |i - j|, 0)`, each row summing to 1.
pub fn crepe_transition() -> Vec<f64> {
    let width = VITERBI_TRANSITION_WIDTH as f64;
    let mut transition = vec![0.0; PITCH_BINS * PITCH_BINS];
    for (i, row) in transition.chunks_exact_mut(PITCH_BINS).enumerate() {
        for (j, t) in row.iter_mut().enumerate() {
            *t = (width - (i as f64 - j as f64).abs()).max(0.0);
        }
        let total: f64 = row.iter().sum();
        row.iter_mut().for_each(|t| *t /= total);
    }
    transition
}

/// torchcrepe's `decode.viterbi` on masked activations: softmax per frame, then
/// `librosa.sequence.viterbi` with [`crepe_transition`] and a uniform initial distribution.
/// The probabilities are rounded to f32 and their logarithm taken in f32 (as librosa does for
/// PyTorch's float32 softmax), the path scores are summed in f64.
fn viterbi_bins(masked: &[f32]) -> Vec<usize> {
    // librosa's `tiny(prob)` for float32 probabilities, added before every logarithm.
    let epsilon = f32::MIN_POSITIVE;
    let log_prob: Vec<f64> = masked
        .chunks_exact(PITCH_BINS)
        .flat_map(|frame| {
            let max = frame.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let exp: Vec<f64> = frame
                .iter()
                .map(|&a| (f64::from(a) - f64::from(max)).exp())
                .collect();
            let total: f64 = exp.iter().sum();
            exp.into_iter()
                .map(move |e| f64::from(((e / total) as f32 + epsilon).ln()))
        })
        .collect();
    let log_trans: Vec<f64> = crepe_transition()
        .into_iter()
        .map(|t| (t + f64::from(epsilon)).ln())
        .collect();
    let log_p_init = vec![(1.0 / PITCH_BINS as f64 + f64::from(epsilon)).ln(); PITCH_BINS];
    banded_viterbi(&log_prob, &log_trans, VITERBI_TRANSITION_WIDTH, &log_p_init).0
}

/// Probability that CREPE's HMM emits a frame's true bin as its argmax, on top of the
/// `(1 - CREPE_SELF_EMISSION) / 360` every bin gets (`to_viterbi_cents`' `self_emission`).
pub const CREPE_SELF_EMISSION: f64 = 0.1;

/// The CREPE package's `to_viterbi_cents` path on masked activations: the observations are the
/// per-frame argmax bins, emitted with probability `0.1 [state = observation] + 0.9 / 360`;
/// the transition is [`crepe_transition`] and the start uniform (hmmlearn's Viterbi in log
/// space, `log 0 = -inf`, so no jump of 12 bins or more is ever taken).
fn crepe_viterbi_bins(masked: &[f32]) -> Vec<usize> {
    let states = PITCH_BINS;
    let other = ((1.0 - CREPE_SELF_EMISSION) / states as f64).ln();
    let same = (CREPE_SELF_EMISSION + (1.0 - CREPE_SELF_EMISSION) / states as f64).ln();
    let mut log_prob = vec![other; masked.len()];
    for (t, frame) in masked.chunks_exact(states).enumerate() {
        log_prob[t * states + argmax(frame)] = same;
    }
    let log_trans: Vec<f64> = crepe_transition().into_iter().map(f64::ln).collect();
    let log_p_init = vec![(1.0 / states as f64).ln(); states];
    banded_viterbi(&log_prob, &log_trans, VITERBI_TRANSITION_WIDTH, &log_p_init).0
}

/// The most likely state sequence of a hidden Markov model, in log space
/// (`librosa.sequence.viterbi`'s core, same tie rule: the first maximum wins).
///
/// - `log_prob`: `[steps, states]` row-major, `log P(observation t | state s)`
/// - `log_trans`: `[states, states]` row-major, `log P(state j at t + 1 | state i at t)`
/// - `log_p_init`: `[states]`, the initial log distribution
///
/// Returns the path and its log-probability.
///
/// # Panics
/// If the lengths do not agree (`log_prob.len()` a multiple of `states`, `log_trans`
/// `states²`).
pub fn viterbi(log_prob: &[f64], log_trans: &[f64], log_p_init: &[f64]) -> (Vec<usize>, f64) {
    let states = log_p_init.len();
    check_shapes(log_prob, log_trans, states);
    viterbi_with(log_prob, log_p_init, |value, best, score| {
        for j in 0..states {
            // max over k of value[k] + log_trans[k][j], first maximum on ties.
            let (mut b, mut s) = (0, f64::NEG_INFINITY);
            for (k, v) in value.iter().enumerate() {
                let candidate = v + log_trans[k * states + j];
                if candidate > s || k == 0 {
                    (b, s) = (k, candidate);
                }
            }
            (best[j], score[j]) = (b, s);
        }
    })
}

fn check_shapes(log_prob: &[f64], log_trans: &[f64], states: usize) {
    assert!(
        states > 0 && log_prob.len().is_multiple_of(states) && log_trans.len() == states * states,
        "viterbi: {} observations, {} transitions for {states} states",
        log_prob.len(),
        log_trans.len()
    );
}

/// The recursion and backtrack both Viterbi variants share. `predecessors(value, best, score)`
/// writes, for every state `j`, its best predecessor under the previous step's `value` and that
/// path's score before `j`'s own observation.
fn viterbi_with(
    log_prob: &[f64],
    log_p_init: &[f64],
    mut predecessors: impl FnMut(&[f64], &mut [usize], &mut [f64]),
) -> (Vec<usize>, f64) {
    let states = log_p_init.len();
    let steps = log_prob.len() / states;
    if steps == 0 {
        return (Vec::new(), 0.0);
    }
    let mut value: Vec<f64> = log_prob[..states]
        .iter()
        .zip(log_p_init)
        .map(|(p, i)| p + i)
        .collect();
    let mut pointers = vec![0usize; steps * states];
    let mut score = vec![0.0; states];
    for (t, best) in pointers.chunks_exact_mut(states).enumerate().skip(1) {
        predecessors(&value, best, &mut score);
        for (j, v) in value.iter_mut().enumerate() {
            *v = log_prob[t * states + j] + score[j];
        }
    }
    let last = argmax(&value);
    let log_p = value[last];
    let mut path = vec![last; steps];
    for t in (0..steps - 1).rev() {
        path[t] = pointers[(t + 1) * states + path[t + 1]];
    }
    (path, log_p)
}

/// [`viterbi`] for a transition that is banded: `log_trans[k][j]` takes one value, `outside`
/// (which may be `-inf`), wherever `|k - j| >= width`, and anything inside the band. CREPE's
/// transitions are of this kind (width 12; `outside` is `ln 0` for the CREPE package and
/// librosa's `ln(tiny)` for torchcrepe), so each step costs `states · (2 width - 1)` instead
/// of `states²` (360² per frame was most of a long file's decoding time).
///
/// Same path, tie rule and log-probability as [`viterbi`]: a state's best predecessor is the
/// first maximum, in index order, of the candidates below the band (the first maximum of
/// `value` there, plus `outside`), inside it, and above it. (A first maximum of `value` is a
/// first maximum of `value + outside` unless the addition rounds two different values to one
/// sum, which needs them within an ulp of each other.)
///
/// # Panics
/// As [`viterbi`], and if `width` is 0 or `log_trans` is not `outside` everywhere outside the
/// band.
pub fn banded_viterbi(
    log_prob: &[f64],
    log_trans: &[f64],
    width: usize,
    log_p_init: &[f64],
) -> (Vec<usize>, f64) {
    let states = log_p_init.len();
    check_shapes(log_prob, log_trans, states);
    assert!(
        width > 0,
        "banded_viterbi: the band needs a width of at least 1"
    );
    let outside = if width < states {
        log_trans[states - 1]
    } else {
        f64::NEG_INFINITY
    };
    for (i, row) in log_trans.chunks_exact(states).enumerate() {
        for (j, &t) in row.iter().enumerate() {
            assert!(
                i.abs_diff(j) < width || t == outside || (t.is_nan() && outside.is_nan()),
                "banded_viterbi: transition [{i}][{j}] = {t} lies outside the band of width \
                 {width} but is not {outside}"
            );
        }
    }
    // first_max_below[i]: the first index of the maximum of value[..=i];
    // first_max_above[i]: the first index of the maximum of value[i..].
    let mut first_max_below = vec![0usize; states];
    let mut first_max_above = vec![0usize; states];
    viterbi_with(log_prob, log_p_init, |value, best, score| {
        for i in 1..states {
            let previous = first_max_below[i - 1];
            first_max_below[i] = if value[i] > value[previous] {
                i
            } else {
                previous
            };
        }
        first_max_above[states - 1] = states - 1;
        for i in (0..states - 1).rev() {
            let later = first_max_above[i + 1];
            first_max_above[i] = if value[i] >= value[later] { i } else { later };
        }
        for j in 0..states {
            let lo = j.saturating_sub(width - 1);
            let hi = (j + width - 1).min(states - 1);
            // Candidates in index order; the first keeps ties, as viterbi's `k == 0`.
            let (mut b, mut s) = if lo > 0 {
                let k = first_max_below[lo - 1];
                (k, value[k] + outside)
            } else {
                (0, value[0] + log_trans[j])
            };
            for k in (if lo > 0 { lo } else { 1 })..=hi {
                let candidate = value[k] + log_trans[k * states + j];
                if candidate > s {
                    (b, s) = (k, candidate);
                }
            }
            if hi + 1 < states {
                let k = first_max_above[hi + 1];
                let candidate = value[k] + outside;
                if candidate > s {
                    (b, s) = (k, candidate);
                }
            }
            (best[j], score[j]) = (b, s);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_and_hz_round_trip() {
        // Bin 0 is 10 * 2^(1997.38 / 1200) = 31.70 Hz, bin 359 is 2005.50 Hz; 60 bins (1200
        // cents) double the pitch.
        assert!((hz_to_cents(bin_to_hz(0.0)) - CENTS_AT_BIN_0).abs() < 1e-9);
        assert!((bin_to_hz(0.0) - 31.70).abs() < 5e-3, "{}", bin_to_hz(0.0));
        assert!(
            (bin_to_hz(359.0) - 2005.50).abs() < 5e-3,
            "{}",
            bin_to_hz(359.0)
        );
        assert!((bin_to_hz(60.0) / bin_to_hz(0.0) - 2.0).abs() < 1e-12);
        for bin in [0.0, 0.5, 39.45, 180.0, 359.0] {
            assert!((hz_to_bin(bin_to_hz(bin)) - bin).abs() < 1e-9, "{bin}");
        }
        for hz in [50.0, 220.0, 440.0, 1000.0] {
            assert!((cents_to_hz(hz_to_cents(hz)) - hz).abs() < 1e-9 * hz);
        }
        // A4 = 440 Hz is 1200 log2(44) = 6551.32 cents, bin 227.7.
        assert!((hz_to_bin(440.0) - 227.697).abs() < 1e-3);
    }

    #[test]
    fn default_range_keeps_torchcrepe_bins() {
        // torchcrepe: frequency_to_bins(50) = floor(39.45) = 39, ceil(359.0...) = 360.
        assert_eq!(PitchRange::default().bins().expect("valid"), 39..360);
        let narrow = PitchRange {
            fmin_hz: 100.0,
            fmax_hz: 200.0,
        };
        assert_eq!(narrow.bins().expect("valid"), 99..160);
        let bad = PitchRange {
            fmin_hz: 300.0,
            fmax_hz: 200.0,
        };
        assert!(bad.bins().is_err());
    }

    /// The transition matrix: row 0 holds 12, 11, ..., 1 over 78; an inner row 12 - |d| over
    /// 144 (12 + 2 (11 + ... + 1)).
    #[test]
    fn transition_rows() {
        let t = crepe_transition();
        assert!((t[0] - 12.0 / 78.0).abs() < 1e-15 && (t[11] - 1.0 / 78.0).abs() < 1e-15);
        assert_eq!(t[12], 0.0);
        let row = &t[180 * PITCH_BINS..181 * PITCH_BINS];
        assert!((row[180] - 12.0 / 144.0).abs() < 1e-15 && row[168] == 0.0);
        for r in t.chunks_exact(PITCH_BINS) {
            assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }

    /// librosa's documented example (Wikipedia's healthy / fever HMM): initial [0.6, 0.4],
    /// emissions healthy {0.5, 0.4, 0.1}, fever {0.1, 0.3, 0.6} for normal, cold, dizzy;
    /// transitions [[0.7, 0.3], [0.4, 0.6]]. By hand: t0 = [0.30, 0.04]; t1 = [0.3·0.7·0.4,
    /// 0.3·0.3·0.3] = [0.084, 0.027]; t2 = [0.084·0.7·0.1, 0.084·0.3·0.6] = [0.00588, 0.01512]:
    /// path healthy, healthy, fever with probability 0.01512 (log -4.19174).
    #[test]
    fn viterbi_on_the_textbook_example() {
        let ln = |v: &[f64]| v.iter().map(|p| p.ln()).collect::<Vec<_>>();
        let log_prob = ln(&[0.5, 0.1, 0.4, 0.3, 0.1, 0.6]); // [steps, states]
        let (path, log_p) = viterbi(&log_prob, &ln(&[0.7, 0.3, 0.4, 0.6]), &ln(&[0.6, 0.4]));
        assert_eq!(path, [0, 0, 1]);
        assert!((log_p - 0.01512f64.ln()).abs() < 1e-12, "{log_p}");
        assert!((log_p - -4.191_736_908_230_75).abs() < 1e-9);
    }

    /// A sticky chain smooths a one-frame outlier the argmax follows: observations favour
    /// state 0 strongly, then state 1 weakly once, then state 0 again.
    /// The banded Viterbi gives the dense one's path and log-probability: CREPE's two
    /// transitions (`ln 0` and `ln tiny` outside the band) on 360 states and random
    /// observations, and small models with every width.
    #[test]
    fn banded_viterbi_equals_the_dense_one() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut uniform = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let tiny = f64::from(f32::MIN_POSITIVE);
        for outside_zero in [true, false] {
            let log_trans: Vec<f64> = crepe_transition()
                .into_iter()
                .map(|t| {
                    if outside_zero {
                        t.ln()
                    } else {
                        (t + tiny).ln()
                    }
                })
                .collect();
            // A wandering peak with jumps of up to 40 bins, over a floor of noise.
            let mut peak = 180.0f64;
            let log_prob: Vec<f64> = (0..300)
                .flat_map(|_| {
                    peak = (peak + (uniform() - 0.5) * 80.0).clamp(0.0, 359.0);
                    let row: Vec<f64> = (0..PITCH_BINS)
                        .map(|b| -((b as f64 - peak) / 3.0).powi(2) - 5.0 * uniform())
                        .collect();
                    row
                })
                .collect();
            let init = vec![(1.0 / PITCH_BINS as f64).ln(); PITCH_BINS];
            let dense = viterbi(&log_prob, &log_trans, &init);
            let banded = banded_viterbi(&log_prob, &log_trans, VITERBI_TRANSITION_WIDTH, &init);
            assert_eq!(banded, dense, "outside zero: {outside_zero}");
        }
        for states in 1..7usize {
            for width in 1..=states + 1 {
                let outside = (uniform() * 0.1).ln();
                let log_trans: Vec<f64> = (0..states * states)
                    .map(|n| {
                        let (i, j) = (n / states, n % states);
                        if i.abs_diff(j) < width {
                            uniform().ln()
                        } else {
                            outside
                        }
                    })
                    .collect();
                let log_prob: Vec<f64> = (0..20 * states).map(|_| uniform().ln()).collect();
                let init: Vec<f64> = (0..states).map(|_| uniform().ln()).collect();
                assert_eq!(
                    banded_viterbi(&log_prob, &log_trans, width, &init),
                    viterbi(&log_prob, &log_trans, &init),
                    "{states} states, width {width}"
                );
            }
        }
    }

    #[test]
    fn viterbi_smooths_an_outlier() {
        let ln = |v: &[f64]| v.iter().map(|p| p.ln()).collect::<Vec<_>>();
        let log_prob = ln(&[0.9, 0.1, 0.45, 0.55, 0.9, 0.1]);
        let (path, _) = viterbi(&log_prob, &ln(&[0.9, 0.1, 0.1, 0.9]), &ln(&[0.5, 0.5]));
        assert_eq!(path, [0, 0, 0]);
    }

    /// One frame peaked at bin 100 (0.9) with 0.5 on each neighbour: both local averages are
    /// bin 100's centre by symmetry; periodicity is 0.9; a range above the peak moves the
    /// argmax into the range.
    #[test]
    fn weighted_average_of_a_symmetric_peak() {
        let mut frame = vec![0.0f32; PITCH_BINS];
        frame[99] = 0.5;
        frame[100] = 0.9;
        frame[101] = 0.5;
        for decoder in [Decoder::WeightedArgmax, Decoder::LocalAverage] {
            let track = decode(&frame, &PitchRange::default(), decoder).expect("decodes");
            assert_eq!(track.bins, [100]);
            assert!((hz_to_bin(track.f0_hz[0]) - 100.0).abs() < 1e-9);
            assert_eq!(track.periodicity, [0.9]);
        }
        // Asymmetric: bin 101 at 0.7 pulls the CREPE average to
        // (0.5·99 + 0.9·100 + 0.7·101) / 2.1 = 100.0952 bins.
        frame[101] = 0.7;
        let track = decode(&frame, &PitchRange::default(), Decoder::LocalAverage).expect("ok");
        assert!((hz_to_bin(track.f0_hz[0]) - 210.2 / 2.1).abs() < 1e-6);
        let high = PitchRange {
            fmin_hz: bin_to_hz(150.2),
            fmax_hz: FMAX_HZ,
        };
        let track = decode(&frame, &high, Decoder::WeightedArgmax).expect("ok");
        assert_eq!(track.bins, [150]);
        assert_eq!(track.periodicity, [0.0]);
    }

    /// A pitch sliding by one bin per frame stays on the path; a lone far jump does not.
    #[test]
    fn viterbi_on_activations_follows_a_glide() {
        let mut activations = vec![0.01f32; 5 * PITCH_BINS];
        for (t, bin) in [100, 101, 250, 103, 104].into_iter().enumerate() {
            activations[t * PITCH_BINS + bin] = 0.95;
        }
        activations[2 * PITCH_BINS + 102] = 0.6;
        let track = decode(&activations, &PitchRange::default(), Decoder::Viterbi).expect("ok");
        assert_eq!(track.bins, [100, 101, 102, 103, 104]);
        assert_eq!(track.periodicity[2], 0.6);
        let argmax =
            decode(&activations, &PitchRange::default(), Decoder::LocalAverage).expect("ok");
        assert_eq!(argmax.bins[2], 250);
    }

    #[test]
    fn all_keeps_every_bin() {
        assert_eq!(PitchRange::all().bins().expect("valid"), 0..PITCH_BINS);
    }

    /// CREPE's HMM on argmax observations 100, 100, 200, 100, 100. No path reaches bin 200
    /// from bin 100 (the transition allows jumps of at most 11 bins), so the path stays on
    /// 100; frame 2's f0 is the local average around bin 100 of its own activations (only bin
    /// 100 at 0.3 is non-zero there: exactly bin 100's centre), and its confidence is its
    /// largest activation, 0.9. Plain argmax keeps the outlier.
    #[test]
    fn crepe_viterbi_ignores_an_outlier_argmax() {
        let mut activations = vec![0.0f32; 5 * PITCH_BINS];
        for t in 0..5 {
            activations[t * PITCH_BINS + 100] = 0.9;
        }
        activations[2 * PITCH_BINS + 100] = 0.3;
        activations[2 * PITCH_BINS + 200] = 0.9;
        let track = decode(&activations, &PitchRange::all(), Decoder::CrepeViterbi).expect("ok");
        assert_eq!(track.bins, [100; 5]);
        for f0 in &track.f0_hz {
            assert!((hz_to_bin(*f0) - 100.0).abs() < 1e-9, "{f0}");
        }
        assert_eq!(track.periodicity, [0.9; 5]);
        let argmax = decode(&activations, &PitchRange::all(), Decoder::LocalAverage).expect("ok");
        assert_eq!(argmax.bins, [100, 100, 200, 100, 100]);
        // With nothing left around bin 100 in frame 2, the average is 0 / 0: CREPE's 0 Hz.
        activations[2 * PITCH_BINS + 100] = 0.0;
        let track = decode(&activations, &PitchRange::all(), Decoder::CrepeViterbi).expect("ok");
        assert_eq!(track.bins, [100; 5]);
        assert_eq!(track.f0_hz[2], 0.0);
    }

    /// A glide the transition allows (steps of at most 11 bins) is followed exactly: leaving
    /// the observed bin at one frame costs `ln((0.1 + 0.9/360) / (0.9/360)) = ln 41 ≈ 3.71`
    /// of emission, while the (inner-row) transitions `(12 - d) / 144` on either side gain at
    /// most `ln(20 / 8) ≈ 0.92` here (frame 3: steps 11 and 4 become 7 and 8 or 8 and 7).
    #[test]
    fn crepe_viterbi_follows_a_glide() {
        let bins = [100, 103, 110, 121, 125, 120];
        let mut activations = vec![0.01f32; bins.len() * PITCH_BINS];
        for (t, bin) in bins.into_iter().enumerate() {
            activations[t * PITCH_BINS + bin] = 0.8;
        }
        let track = decode(&activations, &PitchRange::all(), Decoder::CrepeViterbi).expect("ok");
        assert_eq!(track.bins, bins);
    }

    #[test]
    fn partial_frames_are_refused() {
        let message = decode(&[0.5; 400], &PitchRange::default(), Decoder::Viterbi)
            .expect_err("not whole frames")
            .to_string();
        assert!(message.contains("400 activations"), "{message}");
    }
}
