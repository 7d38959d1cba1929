//! The FGNL authors' melody input: an f0 track -> a one-hot `[128, frames]` matrix on the mel
//! frequencies, the second input of the CRNNM models.
//!
//! Kuo, Lee, Chen & Yang (2021), "Positions, Channels, and Layers: Fully Generalized
//! Non-Local Network for Singer Identification", AAAI 2021 (Sec. "Experiments": CRNNM takes
//! a melody contour beside the log-mel). Reference code: `tools/extract_melody.py` of
//! `ian-k-1217/Fully-Generalized-Non-Local-Network` at commit `336e6a9`: the audio loaded at
//! 16 kHz mono (`librosa.load`), `crepe.predict(y, 16000, step_size=32, viterbi=True)` (the
//! CREPE package, `full` model, a 32 ms step = [`MELODY_HOP_LENGTH`] samples, frames centred;
//! see [`super::decode::Decoder::CrepeViterbi`]), then `get_melody_contour`: for every frame
//! the last index `i` of `librosa.mel_frequencies(n_mels=128)` (librosa's defaults: `fmin` 0,
//! `fmax` 11025 Hz, Slaney's mel scale) with `freqs[i] <= f0` is set to 1.
//!
//! The f0 is used as CREPE gives it, voiced or not (no confidence threshold): an unvoiced
//! frame's f0 is whatever its activations say, and 0 Hz (bin 0) only where CREPE's local
//! average is empty. The grid's `fmax` of 11025 Hz is librosa's default for a 22.05 kHz
//! signal, not the 8 kHz Nyquist of the authors' 16 kHz log-mel, so the contour's bins are
//! *not* the log-mel's bands: CREPE's range (31.7-2006 Hz) falls on rows 1-63 of 128 (the
//! authors' one-hot rows above 63 are always empty).
//!
//! Framing: `1 + len / 512` frames, the count of the 16 kHz, hop-512, centred log-mel, so the
//! two inputs line up frame by frame.

use singerid_audio::MelScale;
use singerid_audio::mel::mel_frequencies;

/// Rows of the one-hot contour (`n_mels` of `get_melody_contour`).
pub const MELODY_BINS: usize = 128;
/// Lowest grid frequency: `librosa.mel_frequencies`' default `fmin`.
pub const MELODY_FMIN_HZ: f64 = 0.0;
/// Highest grid frequency: `librosa.mel_frequencies`' default `fmax` (half of librosa's
/// default 22050 Hz rate), not the 16 kHz signal's Nyquist.
pub const MELODY_FMAX_HZ: f64 = 11_025.0;
/// The authors' CREPE step: `int(512 / 16000 * 1000)` = 32 ms.
pub const MELODY_STEP_MS: u32 = 32;
/// The authors' CREPE hop at 16 kHz: 512 samples, the log-mel's hop.
pub const MELODY_HOP_LENGTH: usize = 512;

/// The grid: [`MELODY_BINS`] frequencies evenly spaced on Slaney's mel scale from
/// [`MELODY_FMIN_HZ`] to [`MELODY_FMAX_HZ`] (`librosa.mel_frequencies(n_mels=128)`), in Hz,
/// ascending, the first one 0 Hz.
pub fn melody_frequencies() -> Vec<f64> {
    mel_frequencies(
        MELODY_BINS,
        MELODY_FMIN_HZ,
        MELODY_FMAX_HZ,
        MelScale::Slaney,
    )
}

/// The contour's row for each frame: the last index `i` of [`melody_frequencies`] with
/// `freqs[i] <= f0` (`np.where(freq_bin <= f0)[0][-1]`).
///
/// - `f0_hz`: one f0 per frame, in Hz; 0 (CREPE's "no pitch") and anything below the grid
///   give row 0; above 11025 Hz, row 127. NaN (which the authors' code would fail on; CREPE
///   turns it into 0 before) gives row 0.
pub fn contour_bins(f0_hz: &[f64]) -> Vec<usize> {
    let freqs = melody_frequencies();
    f0_hz
        .iter()
        .map(|&f0| freqs.partition_point(|&f| f <= f0).saturating_sub(1))
        .collect()
}

/// The one-hot matrix of `bins` (e.g. [`contour_bins`]), bins-major: `out[b * frames + t]` is
/// 1 where `bins[t] == b`, else 0 (the authors' `m_contr`, float32).
///
/// # Shapes
/// - output: `[n_mels, bins.len()]`, row-major
///
/// # Panics
/// If a bin is `n_mels` or more.
pub fn one_hot(bins: &[usize], n_mels: usize) -> Vec<f32> {
    let frames = bins.len();
    let mut out = vec![0.0; n_mels * frames];
    for (t, &b) in bins.iter().enumerate() {
        assert!(
            b < n_mels,
            "melody bin {b} at frame {t} is not below {n_mels}"
        );
        out[b * frames + t] = 1.0;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The grid as librosa 0.11 gives it (`librosa.mel_frequencies(n_mels=128)`).
    #[test]
    fn grid_is_librosas_default() {
        let freqs = melody_frequencies();
        assert_eq!(freqs.len(), 128);
        assert_eq!(freqs[0], 0.0);
        assert!((freqs[127] - 11_025.0).abs() < 1e-9);
        // librosa 0.11: 26.1997871287, 78.5993613861, 1853.1674450399, 1956.0649283423.
        for (i, hz) in [
            (1, 26.199_787_128_7),
            (3, 78.599_361_386_1),
            (61, 1_853.167_445_039_9),
            (63, 1_956.064_928_342_3),
        ] {
            assert!((freqs[i] - hz).abs() < 1e-8, "{i}: {}", freqs[i]);
        }
    }

    #[test]
    fn bins_of_grid_points_and_edges() {
        let freqs = melody_frequencies();
        let below = |f: f64| f * (1.0 - 1e-12);
        let f0 = [
            freqs[40],
            below(freqs[40]),
            0.0,
            12_000.0,
            11_025.0,
            -3.0,
            f64::NAN,
            freqs[1],
            below(freqs[1]),
        ];
        assert_eq!(contour_bins(&f0), [40, 39, 0, 127, 127, 0, 0, 1, 0]);
    }

    #[test]
    fn one_hot_is_bins_major() {
        let m = one_hot(&[2, 0, 2], 3);
        #[rustfmt::skip]
        assert_eq!(m, [
            0.0, 1.0, 0.0, // bin 0
            0.0, 0.0, 0.0, // bin 1
            1.0, 0.0, 1.0, // bin 2
        ]);
        for t in 0..3 {
            assert_eq!((0..3).map(|b| m[b * 3 + t]).sum::<f32>(), 1.0);
        }
    }
}
