//! Feature configurations and the named presets of the papers.
//!
//! A [`FeatureConfig`] fully determines the features made from an audio file: two files
//! with equal content and equal configs give identical features, which is what the
//! feature cache keys on.

use serde::{Deserialize, Serialize};

use crate::error::AudioError;

/// How a multi-channel recording becomes the mono signal that features are made from.
///
/// MIR-1K stores accompaniment on the LEFT channel and the singing voice on the RIGHT,
/// so [`Channel::Mix`] is the *mixture* setting and [`Channel::Right`] the *vocal-only*
/// setting. A mono file gives its one channel for [`Channel::Mix`] and [`Channel::Mid`];
/// requesting `left`/`right`/`side` on a mono file is an error
/// ([`AudioError::ChannelUnavailable`]) rather than a
/// silent fallback. With more than two channels, `left`/`right` are the first two channels,
/// `mix` averages all of them, and `mid`/`side` are an error.
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

impl Channel {
    /// Every choice, in the order they are listed to users.
    pub const ALL: [Channel; 5] = [
        Channel::Mix,
        Channel::Left,
        Channel::Right,
        Channel::Mid,
        Channel::Side,
    ];

    /// The name as users type it (`mix`, `left`, `right`, `mid`, `side`).
    pub fn name(self) -> &'static str {
        match self {
            Channel::Mix => "mix",
            Channel::Left => "left",
            Channel::Right => "right",
            Channel::Mid => "mid",
            Channel::Side => "side",
        }
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
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
    /// Power dB clipped below -60 dB and offset into `0..=60` (ICLR 2018 singer-embedding submission).
    Iclr2018Db,
}

/// The named presets. Every field of the resulting [`FeatureConfig`] can be overridden.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// FGNL (Kuo, Wei & Lin): 16 kHz, n_fft 2048, hop 512, 128 Slaney mels, `fgnl_db`. Default.
    #[default]
    Fgnl,
    /// Nasrullah & Zhao's CRNN: as `fgnl` but `power_db`.
    Nasrullah,
    /// Choi et al.'s CRNN: 12 kHz, n_fft 512, hop 256, 96 mels, `fgnl_db` (Choi squared the power
    /// mel before `10 * log10`, the same doubling).
    Choi,
    /// ICLR 2018 singer-embedding submission: 22.05 kHz, n_fft 2048, hop 512, 96 mels, `iclr2018_db`.
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

/// Lowest accepted [`FeatureConfig::sample_rate_hz`].
pub const MIN_SAMPLE_RATE_HZ: u32 = 1_000;
/// Highest accepted [`FeatureConfig::sample_rate_hz`].
pub const MAX_SAMPLE_RATE_HZ: u32 = 384_000;
/// Smallest accepted [`FeatureConfig::n_fft`].
pub const MIN_N_FFT: usize = 16;

impl FeatureConfig {
    /// The upper filter edge in Hz: `fmax_hz`, or the Nyquist frequency when it is `None`.
    pub fn fmax_or_nyquist_hz(&self) -> f64 {
        self.fmax_hz
            .map_or(f64::from(self.sample_rate_hz) / 2.0, f64::from)
    }

    /// Number of STFT frequency bins, `1 + n_fft / 2`.
    pub fn n_freqs(&self) -> usize {
        1 + self.n_fft / 2
    }

    /// Checks every field against its valid range (see the field docs).
    ///
    /// Settings that are legal but probably a mistake (`fmax` above Nyquist, so some filters
    /// are empty) pass with a `tracing::warn!` when the filterbank is built.
    ///
    /// # Errors
    ///
    /// [`AudioError::InvalidConfig`] naming the first offending field, its value and the valid
    /// range.
    pub fn validate(&self) -> Result<(), AudioError> {
        let invalid = |field: &'static str, value: String, reason: String| {
            Err(AudioError::InvalidConfig {
                field,
                value,
                reason,
            })
        };
        if !(MIN_SAMPLE_RATE_HZ..=MAX_SAMPLE_RATE_HZ).contains(&self.sample_rate_hz) {
            return invalid(
                "sample_rate_hz",
                self.sample_rate_hz.to_string(),
                format!("must be in {MIN_SAMPLE_RATE_HZ}..={MAX_SAMPLE_RATE_HZ}"),
            );
        }
        if self.n_fft < MIN_N_FFT {
            return invalid(
                "n_fft",
                self.n_fft.to_string(),
                format!("must be >= {MIN_N_FFT}"),
            );
        }
        if self.hop_length == 0 || self.hop_length > self.n_fft {
            return invalid(
                "hop_length",
                self.hop_length.to_string(),
                format!("must be in 1..=n_fft ({})", self.n_fft),
            );
        }
        if self.n_mels == 0 {
            return invalid("n_mels", "0".into(), "must be >= 1".into());
        }
        if !self.fmin_hz.is_finite() || self.fmin_hz < 0.0 {
            return invalid(
                "fmin",
                self.fmin_hz.to_string(),
                "must be finite and >= 0 Hz".into(),
            );
        }
        if let Some(fmax) = self.fmax_hz {
            if !fmax.is_finite() || fmax <= self.fmin_hz {
                return invalid(
                    "fmax",
                    fmax.to_string(),
                    format!("must be finite and > fmin ({} Hz)", self.fmin_hz),
                );
            }
        } else if f64::from(self.fmin_hz) >= self.fmax_or_nyquist_hz() {
            return invalid(
                "fmin",
                self.fmin_hz.to_string(),
                format!(
                    "must be below fmax, here the Nyquist frequency {} Hz",
                    self.fmax_or_nyquist_hz()
                ),
            );
        }
        if let Some(top_db) = self.top_db
            && (!top_db.is_finite() || top_db < 0.0)
        {
            return invalid(
                "top_db",
                top_db.to_string(),
                "must be finite and >= 0 dB (None keeps the full range)".into(),
            );
        }
        Ok(())
    }
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Preset::default().config()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_valid() {
        for preset in Preset::ALL {
            assert_eq!(
                preset.config().validate().ok(),
                Some(()),
                "{}",
                preset.name()
            );
        }
    }

    #[test]
    fn presets_match_the_papers() {
        let fgnl = Preset::Fgnl.config();
        assert_eq!(
            (
                fgnl.sample_rate_hz,
                fgnl.n_fft,
                fgnl.hop_length,
                fgnl.n_mels
            ),
            (16_000, 2048, 512, 128)
        );
        assert_eq!(fgnl.db, DbScale::FgnlDb);
        assert_eq!(Preset::Nasrullah.config().db, DbScale::PowerDb);
        let choi = Preset::Choi.config();
        assert_eq!(
            (
                choi.sample_rate_hz,
                choi.n_fft,
                choi.hop_length,
                choi.n_mels
            ),
            (12_000, 512, 256, 96)
        );
        let iclr = Preset::Iclr2018.config();
        assert_eq!(
            (
                iclr.sample_rate_hz,
                iclr.n_fft,
                iclr.hop_length,
                iclr.n_mels,
                iclr.db
            ),
            (22_050, 2048, 512, 96, DbScale::Iclr2018Db)
        );
    }

    #[test]
    fn validate_rejects_each_bad_field() {
        let base = FeatureConfig::default();
        let cases: [(FeatureConfig, &str); 9] = [
            (
                FeatureConfig {
                    sample_rate_hz: 0,
                    ..base
                },
                "sample_rate_hz",
            ),
            (FeatureConfig { n_fft: 8, ..base }, "n_fft"),
            (
                FeatureConfig {
                    hop_length: 0,
                    ..base
                },
                "hop_length",
            ),
            (
                FeatureConfig {
                    hop_length: 4096,
                    ..base
                },
                "hop_length",
            ),
            (FeatureConfig { n_mels: 0, ..base }, "n_mels"),
            (
                FeatureConfig {
                    fmin_hz: -1.0,
                    ..base
                },
                "fmin",
            ),
            (
                FeatureConfig {
                    fmin_hz: 9000.0,
                    ..base
                },
                "fmin",
            ),
            (
                FeatureConfig {
                    fmax_hz: Some(f32::NAN),
                    ..base
                },
                "fmax",
            ),
            (
                FeatureConfig {
                    top_db: Some(-1.0),
                    ..base
                },
                "top_db",
            ),
        ];
        for (config, expected) in cases {
            match config.validate() {
                Err(AudioError::InvalidConfig { field, .. }) => assert_eq!(field, expected),
                other => panic!("{expected}: expected InvalidConfig, got {other:?}"),
            }
        }
    }

    #[test]
    fn config_json_round_trip_and_unknown_fields_rejected() {
        let config = Preset::Choi.config();
        let json = serde_json::to_string(&config).expect("serialise");
        let back: FeatureConfig = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, config);
        let bad = json.replacen('{', "{\"window\":\"hamming\",", 1);
        assert!(serde_json::from_str::<FeatureConfig>(&bad).is_err());
    }
}
