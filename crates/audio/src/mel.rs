//! The mel filterbank, as `librosa.filters.mel`, and its application to a power spectrogram.
//!
//! librosa builds the triangles in `float64` but stores them in a `float32` array, then
//! multiplies by the Slaney area norm in `float64` and rounds again (`weights *= enorm` on
//! a `float32` array). [`mel_filterbank`] rounds at the same two points, so its weights are
//! bit-identical to librosa's in all but the rarest ties.
//!
//! # References
//!
//! - M. Slaney, "Auditory Toolbox", Technical Report 1998-010, Interval Research, 1998
//!   (the mel scale linear below 1 kHz and logarithmic above, and the area normalisation).
//! - S. Young et al., "The HTK Book" (the `2595 log10(1 + f / 700)` mel scale).
//! - librosa 0.11 `librosa.filters.mel`, `librosa.mel_frequencies`, `librosa.hz_to_mel`.

use crate::preset::{MelNorm, MelScale};

/// Slaney scale: Hz per mel in the linear region (`f_sp = 200 / 3`).
const SLANEY_HZ_PER_MEL: f64 = 200.0 / 3.0;
/// Slaney scale: where the logarithmic region starts, in Hz.
const SLANEY_MIN_LOG_HZ: f64 = 1000.0;

fn slaney_log_step() -> f64 {
    6.4_f64.ln() / 27.0
}

/// Converts Hz to mels (librosa `hz_to_mel(frequencies, htk=...)`).
///
/// Slaney: `f / (200/3)` below 1 kHz, `15 + ln(f / 1000) / (ln(6.4) / 27)` above.
/// HTK: `2595 * log10(1 + f / 700)`.
pub fn hz_to_mel(hz: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 2595.0 * (1.0 + hz / 700.0).log10(),
        MelScale::Slaney => {
            let min_log_mel = SLANEY_MIN_LOG_HZ / SLANEY_HZ_PER_MEL;
            if hz >= SLANEY_MIN_LOG_HZ {
                min_log_mel + (hz / SLANEY_MIN_LOG_HZ).ln() / slaney_log_step()
            } else {
                hz / SLANEY_HZ_PER_MEL
            }
        }
    }
}

/// Converts mels to Hz, the inverse of [`hz_to_mel`] (librosa `mel_to_hz`).
pub fn mel_to_hz(mel: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 700.0 * (10.0_f64.powf(mel / 2595.0) - 1.0),
        MelScale::Slaney => {
            let min_log_mel = SLANEY_MIN_LOG_HZ / SLANEY_HZ_PER_MEL;
            if mel >= min_log_mel {
                SLANEY_MIN_LOG_HZ * (slaney_log_step() * (mel - min_log_mel)).exp()
            } else {
                SLANEY_HZ_PER_MEL * mel
            }
        }
    }
}

/// `n` frequencies in Hz evenly spaced on the mel scale from `fmin` to `fmax` inclusive
/// (librosa `mel_frequencies(n_mels=n, fmin, fmax, htk)`; spacing as `np.linspace`).
pub fn mel_frequencies(n: usize, fmin_hz: f64, fmax_hz: f64, scale: MelScale) -> Vec<f64> {
    let min_mel = hz_to_mel(fmin_hz, scale);
    let max_mel = hz_to_mel(fmax_hz, scale);
    let mut mels: Vec<f64> = if n > 1 {
        let step = (max_mel - min_mel) / (n - 1) as f64;
        (0..n).map(|i| i as f64 * step + min_mel).collect()
    } else {
        vec![min_mel; n]
    };
    if let Some(last) = mels.last_mut().filter(|_| n > 1) {
        *last = max_mel;
    }
    mels.into_iter().map(|m| mel_to_hz(m, scale)).collect()
}

/// Centre frequency in Hz of each STFT bin: `f * sr / n_fft` for `f` in `0..=n_fft/2`
/// (librosa `fft_frequencies`, computed as `np.fft.rfftfreq(n_fft, 1 / sr)`).
pub fn fft_frequencies(sample_rate_hz: u32, n_fft: usize) -> Vec<f64> {
    let spacing = 1.0 / f64::from(sample_rate_hz);
    let val = 1.0 / (n_fft as f64 * spacing);
    (0..=n_fft / 2).map(|f| f as f64 * val).collect()
}

/// A mel filterbank: dense `f32` weights plus, per band, the range of bins where it is
/// non-zero, so that applying it touches only those bins.
#[derive(Clone, Debug, PartialEq)]
pub struct MelFilterbank {
    /// Number of mel bands (rows).
    pub n_mels: usize,
    /// Number of STFT bins (columns), `1 + n_fft / 2`.
    pub n_freqs: usize,
    /// Row-major weights, `weights[m * n_freqs + f]` (librosa's `(n_mels, 1 + n_fft/2)` array).
    pub weights: Vec<f32>,
    /// Per band, the half-open range of bins with non-zero weight (empty for an empty filter).
    pub support: Vec<std::ops::Range<usize>>,
}

impl MelFilterbank {
    /// Multiplies one power frame by the filterbank: `out[m] = sum_f weights[m, f] * power[f]`
    /// (librosa `melspectrogram`'s `einsum("ft,mf->mt")`), accumulating in `f64`.
    ///
    /// `power.len()` must be `n_freqs` and `out.len()` `n_mels`.
    pub fn apply_frame(&self, power: &[f32], out: &mut [f32]) {
        debug_assert_eq!(power.len(), self.n_freqs);
        for (m, (o, range)) in out.iter_mut().zip(&self.support).enumerate() {
            let row = &self.weights[m * self.n_freqs..(m + 1) * self.n_freqs];
            let mut acc = 0.0_f64;
            for (w, p) in row[range.clone()].iter().zip(&power[range.clone()]) {
                acc += f64::from(*w) * f64::from(*p);
            }
            *o = acc as f32;
        }
    }
}

/// Builds the mel filterbank (librosa `filters.mel(sr, n_fft, n_mels, fmin, fmax, htk, norm)`,
/// `dtype=float32`).
///
/// - `sample_rate_hz`: librosa `sr`, in Hz.
/// - `n_fft`: FFT size; the bank has `1 + n_fft / 2` columns.
/// - `n_mels`: number of bands (librosa default 128).
/// - `fmin_hz`: lower edge of the first band (librosa default 0 Hz).
/// - `fmax_hz`: upper edge of the last band; librosa's `fmax=None` is `sr / 2`.
/// - `scale`: [`MelScale::Slaney`] (librosa `htk=False`, default) or [`MelScale::Htk`].
/// - `norm`: [`MelNorm::Slaney`] scales band `m` by `2 / (f[m+2] - f[m])` so each triangle
///   has unit area in Hz (librosa default); [`MelNorm::None`] keeps unit-peak triangles.
///
/// Band `m` is the triangle rising from mel point `m` to `m + 1` and falling to `m + 2`, with
/// `n_mels + 2` points from [`mel_frequencies`].
///
/// Emits a `tracing::warn!` (as librosa warns) when a band above 0 Hz catches no bin: too many
/// mels for the FFT resolution, or `fmax` above Nyquist.
///
/// Parameters are not validated here; [`FeatureConfig::validate`](crate::FeatureConfig::validate)
/// does that at the boundary.
pub fn mel_filterbank(
    sample_rate_hz: u32,
    n_fft: usize,
    n_mels: usize,
    fmin_hz: f64,
    fmax_hz: f64,
    scale: MelScale,
    norm: MelNorm,
) -> MelFilterbank {
    let n_freqs = 1 + n_fft / 2;
    let fft_freqs = fft_frequencies(sample_rate_hz, n_fft);
    let mel_f = mel_frequencies(n_mels + 2, fmin_hz, fmax_hz, scale);
    let mut weights = vec![0.0_f32; n_mels * n_freqs];
    let mut support = Vec::with_capacity(n_mels);
    let mut empty_bands = 0_usize;
    for m in 0..n_mels {
        let lower_diff = mel_f[m + 1] - mel_f[m];
        let upper_diff = mel_f[m + 2] - mel_f[m + 1];
        let enorm = match norm {
            MelNorm::Slaney => Some(2.0 / (mel_f[m + 2] - mel_f[m])),
            MelNorm::None => None,
        };
        let row = &mut weights[m * n_freqs..(m + 1) * n_freqs];
        let (mut first, mut last) = (usize::MAX, 0);
        for (f, (w, &freq)) in row.iter_mut().zip(&fft_freqs).enumerate() {
            let lower = -(mel_f[m] - freq) / lower_diff;
            let upper = (mel_f[m + 2] - freq) / upper_diff;
            // librosa: float64 triangle, stored to float32, then `*= enorm` in float64.
            let triangle = 0.0_f64.max(lower.min(upper)) as f32;
            *w = match enorm {
                Some(e) => (f64::from(triangle) * e) as f32,
                None => triangle,
            };
            if *w > 0.0 {
                first = first.min(f);
                last = f;
            }
        }
        if first == usize::MAX {
            support.push(0..0);
            if mel_f[m] != 0.0 {
                empty_bands += 1;
            }
        } else {
            support.push(first..last + 1);
        }
    }
    if empty_bands > 0 {
        tracing::warn!(
            empty_bands,
            n_mels,
            n_fft,
            sample_rate_hz,
            "empty filters in the mel filterbank: some bands will always be zero; \
             increase the sample rate (and fmax) or n_fft, or reduce n_mels"
        );
    }
    MelFilterbank {
        n_mels,
        n_freqs,
        weights,
        support,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_scale_known_values() {
        // Linear part: 1000 Hz = 15 mels; log part: 6.4 kHz is 27 log-steps above 1 kHz.
        assert!((hz_to_mel(1000.0, MelScale::Slaney) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(6400.0, MelScale::Slaney) - 42.0).abs() < 1e-12);
        assert!((hz_to_mel(500.0, MelScale::Slaney) - 7.5).abs() < 1e-12);
        // HTK: 700 Hz = 2595 log10(2).
        assert!((hz_to_mel(700.0, MelScale::Htk) - 2595.0 * 2.0_f64.log10()).abs() < 1e-9);
        for scale in [MelScale::Slaney, MelScale::Htk] {
            for hz in [0.0, 123.4, 999.9, 1000.0, 4321.0, 11_025.0] {
                let back = mel_to_hz(hz_to_mel(hz, scale), scale);
                assert!(
                    (back - hz).abs() < 1e-9 * (1.0 + hz),
                    "{scale:?} {hz} -> {back}"
                );
            }
        }
    }

    /// librosa's property test (`test_melfb`): shape, non-negativity, and each filter's
    /// peak within one bin of its mel centre, over a grid of settings.
    #[test]
    fn filterbank_properties_over_a_grid() {
        for (sr, n_fft, n_mels) in [
            (16_000, 2048, 128),
            (12_000, 512, 96),
            (22_050, 2048, 96),
            (8_000, 1024, 40),
        ] {
            for scale in [MelScale::Slaney, MelScale::Htk] {
                for norm in [MelNorm::Slaney, MelNorm::None] {
                    let fmax = f64::from(sr) / 2.0;
                    let bank = mel_filterbank(sr, n_fft, n_mels, 0.0, fmax, scale, norm);
                    assert_eq!(bank.weights.len(), n_mels * (1 + n_fft / 2));
                    assert!(bank.weights.iter().all(|&w| w >= 0.0 && w.is_finite()));
                    let centres = mel_frequencies(n_mels + 2, 0.0, fmax, scale);
                    let bin_hz = f64::from(sr) / n_fft as f64;
                    for m in 0..n_mels {
                        let row = &bank.weights[m * bank.n_freqs..(m + 1) * bank.n_freqs];
                        let peak = row.iter().enumerate().fold((0, f32::MIN), |best, (f, &w)| {
                            if w > best.1 { (f, w) } else { best }
                        });
                        if peak.1 == 0.0 {
                            continue; // an empty band (too narrow for the FFT grid)
                        }
                        let peak_hz = peak.0 as f64 * bin_hz;
                        assert!(
                            (peak_hz - centres[m + 1]).abs() <= bin_hz + 1e-9,
                            "sr {sr} n_fft {n_fft} band {m}: peak {peak_hz} Hz, centre {} Hz",
                            centres[m + 1]
                        );
                        if norm == MelNorm::None {
                            assert!(peak.1 <= 1.0);
                        }
                    }
                }
            }
        }
    }

    /// With Slaney norm, each triangle has unit area in Hz (up to discretisation), i.e. the
    /// weights of a band, times the bin spacing, sum to about 1 for bands many bins wide.
    #[test]
    fn slaney_norm_gives_unit_area() {
        let bank = mel_filterbank(
            16_000,
            8192,
            40,
            0.0,
            8000.0,
            MelScale::Slaney,
            MelNorm::Slaney,
        );
        let bin_hz = 16_000.0 / 8192.0;
        for m in 10..40 {
            let row = &bank.weights[m * bank.n_freqs..(m + 1) * bank.n_freqs];
            let area: f64 = row.iter().map(|&w| f64::from(w) * bin_hz).sum::<f64>();
            assert!((area - 1.0).abs() < 0.01, "band {m}: area {area}");
        }
    }

    #[test]
    fn apply_frame_equals_dense_product() {
        let bank = mel_filterbank(
            16_000,
            512,
            20,
            0.0,
            8000.0,
            MelScale::Slaney,
            MelNorm::Slaney,
        );
        let power: Vec<f32> = (0..bank.n_freqs).map(|f| 1.0 + (f % 7) as f32).collect();
        let mut out = vec![0.0_f32; 20];
        bank.apply_frame(&power, &mut out);
        for (m, &got) in out.iter().enumerate() {
            let row = &bank.weights[m * bank.n_freqs..(m + 1) * bank.n_freqs];
            let dense: f64 = row
                .iter()
                .zip(&power)
                .map(|(w, p)| f64::from(*w) * f64::from(*p))
                .sum();
            assert!((f64::from(got) - dense).abs() <= 1e-6 * dense.abs().max(1e-12));
        }
    }
}
