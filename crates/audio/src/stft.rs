//! The centred short-time Fourier transform and its power, as `librosa.stft(center=True)`.
//!
//! librosa's dtype path for a `float32` signal, which this module reproduces: the periodic
//! Hann window is `float64` (scipy `get_window("hann", n_fft, fftbins=True)`), the product
//! `window * frame` is therefore `float64`, scipy's real FFT runs in double precision and the
//! result is stored as `complex64`. `np.abs(S) ** 2` then squares in `float32`. Here the FFT
//! also runs in `f64` and the power is rounded once to `f32`, which agrees with librosa to
//! within a few `f32` ulps.
//!
//! # References
//!
//! - librosa 0.11 `librosa.stft`, `librosa.filters.get_window`.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use crate::preset::PadMode;

/// The periodic Hann window of length `n` in `f64`, computed as scipy does
/// (`0.5 + 0.5 * cos(x)` over `x = linspace(-pi, pi, n + 1)[:n]`): `w[k] = 0.5 - 0.5 * cos(2 pi k / n)`.
pub fn hann_window(n: usize) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    let step = 2.0 * std::f64::consts::PI / n as f64;
    (0..n)
        .map(|k| 0.5 + 0.5 * (k as f64 * step - std::f64::consts::PI).cos())
        .collect()
}

/// Number of frames of a centred STFT of `n_samples` samples:
/// `1 + (n_samples + 2 * (n_fft / 2) - n_fft) / hop_length`, which is `1 + n_samples / hop_length`
/// for even `n_fft`. Zero when the padded signal is shorter than one window.
pub fn n_frames(n_samples: usize, n_fft: usize, hop_length: usize) -> usize {
    let padded = n_samples + 2 * (n_fft / 2);
    if padded < n_fft || hop_length == 0 {
        0
    } else {
        1 + (padded - n_fft) / hop_length
    }
}

/// Pads `y` by `n_fft / 2` samples at both ends (numpy `np.pad(y, n_fft // 2, mode=...)`).
pub fn pad_centered(y: &[f32], n_fft: usize, pad_mode: PadMode) -> Vec<f32> {
    let pad = n_fft / 2;
    let mut padded = Vec::with_capacity(y.len() + 2 * pad);
    match pad_mode {
        PadMode::Constant => {
            padded.resize(pad, 0.0);
            padded.extend_from_slice(y);
            padded.resize(y.len() + 2 * pad, 0.0);
        }
        PadMode::Reflect => {
            let n = y.len() as i64;
            // numpy "reflect" mirrors about the edge samples without repeating them: the
            // extension is periodic with period 2 (n - 1).
            let reflect = |i: i64| -> f32 {
                if n <= 1 {
                    return y.first().copied().unwrap_or(0.0);
                }
                let period = 2 * (n - 1);
                let m = i.rem_euclid(period);
                let index = if m >= n { period - m } else { m };
                y[index as usize]
            };
            let pad = pad as i64;
            padded.extend((-pad..n + pad).map(reflect));
        }
    }
    padded
}

/// A reusable plan for the power STFT: window, FFT plan and scratch buffers.
pub struct StftPlan {
    n_fft: usize,
    hop_length: usize,
    pad_mode: PadMode,
    window: Vec<f64>,
    fft: Arc<dyn RealToComplex<f64>>,
    frame: Vec<f64>,
    spectrum: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
    power: Vec<f32>,
}

impl StftPlan {
    /// Plans an STFT with librosa's `n_fft`, `hop_length`, `window="hann"`, `center=True` and
    /// `pad_mode`.
    ///
    /// `n_fft >= 1` and `hop_length >= 1` are the caller's to check (see
    /// [`FeatureConfig::validate`](crate::FeatureConfig::validate)).
    pub fn new(n_fft: usize, hop_length: usize, pad_mode: PadMode) -> Self {
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n_fft);
        let spectrum = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();
        Self {
            n_fft,
            hop_length,
            pad_mode,
            window: hann_window(n_fft),
            fft,
            frame: vec![0.0; n_fft],
            power: vec![0.0; spectrum.len()],
            spectrum,
            scratch,
        }
    }

    /// Number of frequency bins, `1 + n_fft / 2`.
    pub fn n_freqs(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Calls `on_frame(t, power)` for each frame `t` of the centred STFT of `y`, where
    /// `power[f] = |X[f, t]|^2` (librosa `np.abs(stft(y)) ** 2`, `float32`). Returns the number
    /// of frames, [`n_frames`].
    pub fn for_each_power_frame(
        &mut self,
        y: &[f32],
        mut on_frame: impl FnMut(usize, &[f32]),
    ) -> usize {
        let padded = pad_centered(y, self.n_fft, self.pad_mode);
        let count = n_frames(y.len(), self.n_fft, self.hop_length);
        for t in 0..count {
            let start = t * self.hop_length;
            let segment = &padded[start..start + self.n_fft];
            for ((out, &w), &x) in self.frame.iter_mut().zip(&self.window).zip(segment) {
                *out = w * f64::from(x);
            }
            // The buffer lengths come from the plan itself, so this cannot fail.
            let planned = self.fft.process_with_scratch(
                &mut self.frame,
                &mut self.spectrum,
                &mut self.scratch,
            );
            debug_assert!(planned.is_ok());
            for (p, c) in self.power.iter_mut().zip(&self.spectrum) {
                *p = c.norm_sqr() as f32;
            }
            on_frame(t, &self.power);
        }
        count
    }

    /// The whole power spectrogram, frequency-major: `out[f * n_frames + t]`
    /// (librosa's `(1 + n_fft/2, n_frames)` layout). Returns `(out, n_frames)`.
    pub fn power_spectrogram(&mut self, y: &[f32]) -> (Vec<f32>, usize) {
        let count = n_frames(y.len(), self.n_fft, self.hop_length);
        let n_freqs = self.n_freqs();
        let mut out = vec![0.0_f32; n_freqs * count];
        self.for_each_power_frame(y, |t, power| {
            for (f, &p) in power.iter().enumerate() {
                out[f * count + t] = p;
            }
        });
        (out, count)
    }
}

/// A complex spectrogram, frame-major: `bins[t * n_bins + f]` is `X[f, t]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ComplexSpectrogram {
    /// `n_frames * n_bins` values, frame after frame.
    pub bins: Vec<Complex<f32>>,
    /// Frequency bins per frame, `1 + n_fft / 2`.
    pub n_bins: usize,
    /// Frames.
    pub n_frames: usize,
}

impl ComplexSpectrogram {
    /// `|X|`, frame-major like [`Self::bins`].
    pub fn magnitude(&self) -> Vec<f32> {
        self.bins.iter().map(|c| c.norm()).collect()
    }
}

/// The centred complex STFT and its inverse (`torch.stft` / `torch.istft` with a periodic
/// Hann window, `center=True`, reflect padding, `onesided=True`, not normalised), the
/// analysis-synthesis pair of Open-Unmix's front end.
///
/// The inverse is the least-squares overlap-add of Griffin & Lim (1984): each inverse FFT frame
/// is windowed again, summed, and divided by the summed squared window, so
/// `inverse(forward(y), y.len())` gives back `y` to rounding wherever the squared windows
/// overlap (every sample when `hop <= n_fft / 2`).
pub struct ComplexStft {
    n_fft: usize,
    hop_length: usize,
    window: Vec<f32>,
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn realfft::ComplexToReal<f32>>,
}

impl ComplexStft {
    /// Plans the pair. `n_fft >= 2` and `1 <= hop_length <= n_fft` are the caller's to check.
    pub fn new(n_fft: usize, hop_length: usize) -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        Self {
            n_fft,
            hop_length,
            window: hann_window(n_fft).into_iter().map(|w| w as f32).collect(),
            forward: planner.plan_fft_forward(n_fft),
            inverse: planner.plan_fft_inverse(n_fft),
        }
    }

    /// Frequency bins, `1 + n_fft / 2`.
    pub fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Hop in samples.
    pub fn hop_length(&self) -> usize {
        self.hop_length
    }

    /// The STFT of `y` ([`n_frames`] frames; an empty `y` gives one all-zero frame).
    pub fn forward(&self, y: &[f32]) -> ComplexSpectrogram {
        let padded = pad_centered(y, self.n_fft, PadMode::Reflect);
        let count = n_frames(y.len(), self.n_fft, self.hop_length);
        let n_bins = self.n_bins();
        let mut bins = Vec::with_capacity(count * n_bins);
        let mut frame = self.forward.make_input_vec();
        let mut spectrum = self.forward.make_output_vec();
        let mut scratch = self.forward.make_scratch_vec();
        for t in 0..count {
            let segment = &padded[t * self.hop_length..t * self.hop_length + self.n_fft];
            for ((out, &w), &x) in frame.iter_mut().zip(&self.window).zip(segment) {
                *out = w * x;
            }
            // Buffer lengths come from the plan, so this cannot fail.
            let planned =
                self.forward
                    .process_with_scratch(&mut frame, &mut spectrum, &mut scratch);
            debug_assert!(planned.is_ok());
            bins.extend_from_slice(&spectrum);
        }
        ComplexSpectrogram {
            bins,
            n_bins,
            n_frames: count,
        }
    }

    /// The signal of `length` samples whose STFT is closest to `spec` (see the type's docs).
    /// Samples no frame covers are 0.
    ///
    /// # Panics
    /// If `spec.n_bins` is not this plan's.
    pub fn inverse(&self, spec: &ComplexSpectrogram, length: usize) -> Vec<f32> {
        assert_eq!(
            spec.n_bins,
            self.n_bins(),
            "ComplexStft::inverse: bin count"
        );
        let pad = self.n_fft / 2;
        let total = (spec.n_frames.saturating_sub(1)) * self.hop_length + self.n_fft;
        let mut sum = vec![0.0_f32; total.max(length + 2 * pad)];
        let mut norm = vec![0.0_f32; sum.len()];
        let mut spectrum = self.inverse.make_input_vec();
        let mut frame = self.inverse.make_output_vec();
        let mut scratch = self.inverse.make_scratch_vec();
        let scale = 1.0 / self.n_fft as f32; // realfft's inverse is unnormalised
        for t in 0..spec.n_frames {
            spectrum.copy_from_slice(&spec.bins[t * spec.n_bins..(t + 1) * spec.n_bins]);
            // A real signal's DC and Nyquist bins are real; drop any imaginary part as
            // torch.istft (irfft) does.
            spectrum[0].im = 0.0;
            if self.n_fft.is_multiple_of(2) {
                spectrum[spec.n_bins - 1].im = 0.0;
            }
            let planned =
                self.inverse
                    .process_with_scratch(&mut spectrum, &mut frame, &mut scratch);
            debug_assert!(planned.is_ok());
            let start = t * self.hop_length;
            for (k, (&x, &w)) in frame.iter().zip(&self.window).enumerate() {
                sum[start + k] += x * scale * w;
                norm[start + k] += w * w;
            }
        }
        (pad..pad + length)
            .map(|i| {
                if norm[i] > 1e-11 {
                    sum[i] / norm[i]
                } else {
                    0.0
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_hann_worked_by_hand() {
        // n = 4: 0.5 - 0.5 cos(pi k / 2) = [0, 0.5, 1, 0.5] (periodic: no trailing zero).
        let w = hann_window(4);
        let expected = [0.0, 0.5, 1.0, 0.5];
        for (a, b) in w.iter().zip(expected) {
            assert!((a - b).abs() < 1e-15, "{w:?}");
        }
    }

    #[test]
    fn frame_count_is_one_plus_n_over_hop() {
        for n in [1_usize, 511, 512, 513, 16_000, 16_001] {
            assert_eq!(n_frames(n, 2048, 512), 1 + n / 512, "n = {n}");
        }
        assert_eq!(n_frames(0, 2048, 512), 1);
    }

    #[test]
    fn reflect_padding_mirrors_without_repeating_the_edge() {
        let y = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(
            pad_centered(&y, 4, PadMode::Reflect),
            vec![3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 2.0]
        );
        assert_eq!(
            pad_centered(&y, 4, PadMode::Constant),
            vec![0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 0.0]
        );
        // Pad longer than the signal: numpy keeps reflecting.
        assert_eq!(
            pad_centered(&[1.0, 2.0], 6, PadMode::Reflect),
            vec![2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0]
        );
    }

    /// Independent oracle: a naive DFT of each windowed frame.
    #[test]
    fn power_matches_a_naive_dft() {
        let n_fft = 64;
        let hop = 16;
        let y: Vec<f32> = (0..300)
            .map(|i| ((i as f32 * 0.37).sin() + 0.3 * (i as f32 * 1.91).cos()) * 0.5)
            .collect();
        let mut plan = StftPlan::new(n_fft, hop, PadMode::Constant);
        let (power, count) = plan.power_spectrogram(&y);
        assert_eq!(count, 1 + 300 / hop);
        let padded = pad_centered(&y, n_fft, PadMode::Constant);
        let window = hann_window(n_fft);
        let mut worst = 0.0_f64;
        for t in 0..count {
            for f in 0..=n_fft / 2 {
                let (mut re, mut im) = (0.0_f64, 0.0_f64);
                for k in 0..n_fft {
                    let x = window[k] * f64::from(padded[t * hop + k]);
                    let phase = -2.0 * std::f64::consts::PI * (f * k) as f64 / n_fft as f64;
                    re += x * phase.cos();
                    im += x * phase.sin();
                }
                let expected = re * re + im * im;
                let got = f64::from(power[f * count + t]);
                worst = worst.max((got - expected).abs() / (expected + 1e-3));
            }
        }
        assert!(worst < 1e-5, "worst relative error {worst}");
    }

    /// A full-scale sine exactly on bin k puts `(n_fft / 4)^2` of power there (Hann's
    /// coherent gain is 1/2, the sine's spectral amplitude n_fft / 2).
    #[test]
    fn sine_on_a_bin_has_the_textbook_power() {
        let n_fft = 256;
        let k = 8;
        let y: Vec<f32> = (0..4096)
            .map(|i| (2.0 * std::f64::consts::PI * (k * i) as f64 / n_fft as f64).cos() as f32)
            .collect();
        let mut plan = StftPlan::new(n_fft, 64, PadMode::Constant);
        let (power, count) = plan.power_spectrogram(&y);
        let middle = count / 2;
        let expected = (n_fft as f32 / 4.0).powi(2);
        let got = power[k * count + middle];
        assert!(
            (got - expected).abs() / expected < 1e-5,
            "{got} vs {expected}"
        );
    }

    #[test]
    fn complex_stft_round_trips() {
        let y: Vec<f32> = (0..5000)
            .map(|i| {
                ((i as f32) * 0.031).sin() * 0.5 + ((i * 7919 % 101) as f32 / 101.0 - 0.5) * 0.1
            })
            .collect();
        for (n_fft, hop) in [(1024, 512), (1024, 256), (64, 16)] {
            let stft = ComplexStft::new(n_fft, hop);
            let spec = stft.forward(&y);
            assert_eq!(spec.n_frames, n_frames(y.len(), n_fft, hop));
            let back = stft.inverse(&spec, y.len());
            let err = y
                .iter()
                .zip(&back)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(err < 1e-5, "n_fft {n_fft} hop {hop}: max error {err}");
        }
    }

    #[test]
    fn complex_stft_magnitude_is_the_square_root_of_the_power() {
        let y: Vec<f32> = (0..3000).map(|i| ((i as f32) * 0.2).cos()).collect();
        let spec = ComplexStft::new(256, 64).forward(&y);
        let (power, frames) = StftPlan::new(256, 64, PadMode::Reflect).power_spectrogram(&y);
        assert_eq!(frames, spec.n_frames);
        let magnitude = spec.magnitude();
        for t in 0..frames {
            for f in 0..spec.n_bins {
                let (a, b) = (magnitude[t * spec.n_bins + f], power[f * frames + t].sqrt());
                assert!(
                    (a - b).abs() <= 1e-4 * b.max(1.0),
                    "t {t} f {f}: {a} vs {b}"
                );
            }
        }
    }
}
