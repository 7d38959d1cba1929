//! Feature configurations and the named presets of the papers.
//!
//! A [`FeatureConfig`] fully determines the features made from an audio file: two files
//! with equal content and equal configs give identical features, which is what the
//! feature cache keys on.

use serde::{Deserialize, Serialize};

/// How a multi-channel recording becomes the mono signal that features are made from.
///
/// MIR-1K stores accompaniment on the LEFT channel and the singing voice on the RIGHT,
/// so [`Channel::Mix`] is the *mixture* setting and [`Channel::Right`] the *vocal-only*
/// setting. A mono file gives the same signal for every choice except [`Channel::Side`]
/// (which is then all zeros) — requesting `left`/`right`/`side` on a mono file is an
/// error rather than a silent fallback.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Mean of all channels (librosa's `to_mono`). The default.
    #[default]
    Mix,
    /// The first channel only.
    Left,
    /// The second channel only.
    Right,
    /// `(L + R) / 2` of a stereo file (equal to `Mix` for stereo).
    Mid,
    /// `(L - R) / 2` of a stereo file.
    Side,
}

/// Frequency scale of the mel filterbank (librosa `htk=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MelScale {
    /// Slaney's Auditory Toolbox scale: linear below 1 kHz, logarithmic above (librosa default).
    #[default]
    Slaney,
    /// The HTK formula `2595 * log10(1 + f / 700)`.
    Htk,
}

/// Normalisation of the mel filters (librosa `norm=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MelNorm {
    /// Slaney area normalisation: each triangle is scaled by `2 / (f_right - f_left)` (librosa default).
    #[default]
    Slaney,
    /// Unit-peak triangles.
    None,
}

/// How the signal is padded at both ends when `center = true` (librosa `pad_mode=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PadMode {
    /// Zeros (librosa >= 0.10 default).
    #[default]
    Constant,
    /// Mirror without repeating the edge sample (numpy `reflect`, librosa < 0.10 default).
    Reflect,
}

/// The decibel convention applied to the mel power spectrogram. The papers differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DbScale {
    /// librosa `power_to_db`: `10 * log10(max(P, 1e-10))`, then clipped to `top_db` below the
    /// recording's maximum (Nasrullah's CRNN).
    PowerDb,
    /// librosa `amplitude_to_db` applied to the *power* mel: `20 * log10(max(P, 1e-5))`, clipped to
    /// `top_db` below the recording's maximum. What the FGNL and Hsieh code actually ran.
    #[default]
    FgnlDb,
    /// Power dB clipped below -60 dB and offset into `0..=60` (Lee et al., ICLR 2018 workshop).
    Iclr2018Db,
}

/// The named presets. Every field of the resulting [`FeatureConfig`] can be overridden.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// FGNL (Zhang et al.): 16 kHz, n_fft 2048, hop 512, 128 Slaney mels, `fgnl_db`. The project default.
    #[default]
    Fgnl,
    /// Nasrullah & Zhao's CRNN: as `fgnl` but `power_db`.
    Nasrullah,
    /// Choi et al.'s CRNN: 12 kHz, n_fft 512, hop 256, 96 mels, `fgnl_db` (Choi squared the power
    /// mel before `10 * log10`, the same doubling).
    Choi,
    /// Lee et al. (ICLR 2018 workshop): 22.05 kHz, n_fft 2048, hop 512, 96 mels, `iclr2018_db`.
    Iclr2018,
}

impl Preset {
    /// Every preset, in the order they are listed to users.
    pub const ALL: [Preset; 4] = [
        Preset::Fgnl,
        Preset::Nasrullah,
        Preset::Choi,
        Preset::Iclr2018,
    ];

    /// The preset's name as users type it (`fgnl`, `nasrullah`, `choi`, `iclr2018`).
    pub fn name(self) -> &'static str {
        match self {
            Preset::Fgnl => "fgnl",
            Preset::Nasrullah => "nasrullah",
            Preset::Choi => "choi",
            Preset::Iclr2018 => "iclr2018",
        }
    }

    /// The full configuration of this preset (channel `mix`).
    pub fn config(self) -> FeatureConfig {
        let fgnl = FeatureConfig {
            sample_rate_hz: 16_000,
            n_fft: 2048,
            hop_length: 512,
            n_mels: 128,
            fmin_hz: 0.0,
            fmax_hz: None,
            pad_mode: PadMode::Constant,
            mel_scale: MelScale::Slaney,
            mel_norm: MelNorm::Slaney,
            db: DbScale::FgnlDb,
            top_db: Some(80.0),
            channel: Channel::Mix,
        };
        match self {
            Preset::Fgnl => fgnl,
            Preset::Nasrullah => FeatureConfig {
                db: DbScale::PowerDb,
                ..fgnl
            },
            Preset::Choi => FeatureConfig {
                sample_rate_hz: 12_000,
                n_fft: 512,
                hop_length: 256,
                n_mels: 96,
                ..fgnl
            },
            Preset::Iclr2018 => FeatureConfig {
                sample_rate_hz: 22_050,
                n_fft: 2048,
                hop_length: 512,
                n_mels: 96,
                db: DbScale::Iclr2018Db,
                top_db: None,
                ..fgnl
            },
        }
    }
}

/// Everything that determines a log-mel feature matrix.
///
/// Field names follow librosa (`n_fft`, `hop_length`, `n_mels`, `fmin`, `fmax`, `top_db`), with
/// units in the name where librosa leaves them implicit. The window is always the periodic Hann
/// window of length `n_fft` (librosa `window="hann"`), `center` is always true and the power is 2.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureConfig {
    /// Sample rate the audio is resampled to before the STFT, in Hz. Valid: 1000..=384000.
    pub sample_rate_hz: u32,
    /// FFT size and window length, in samples. Valid: >= 16.
    pub n_fft: usize,
    /// Hop between frames, in samples. Valid: 1..=n_fft.
    pub hop_length: usize,
    /// Number of mel bands. Valid: >= 1.
    pub n_mels: usize,
    /// Lowest filter edge, in Hz (librosa `fmin`, default 0).
    pub fmin_hz: f32,
    /// Highest filter edge, in Hz; `None` means `sample_rate_hz / 2` (librosa `fmax=None`).
    pub fmax_hz: Option<f32>,
    /// Padding at both ends for the centred STFT.
    pub pad_mode: PadMode,
    /// Mel frequency scale.
    pub mel_scale: MelScale,
    /// Mel filter normalisation.
    pub mel_norm: MelNorm,
    /// dB convention.
    pub db: DbScale,
    /// Dynamic range kept below the recording's maximum, in dB; `None` keeps everything.
    /// Ignored by [`DbScale::Iclr2018Db`], which has its own fixed -60 dB floor.
    pub top_db: Option<f32>,
    /// Channel selection / downmix.
    pub channel: Channel,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Preset::default().config()
    }
}
