//! `load`: decode, select the channel, resample (librosa `load(path, sr=..., mono=True)`).

use std::path::Path;

use crate::decode::decode_mono;
use crate::error::AudioError;
use crate::preset::FeatureConfig;
use crate::resample::resample;

/// A mono signal at a known rate.
#[derive(Clone, Debug, PartialEq)]
pub struct Signal {
    /// Samples, nominally in `-1.0..=1.0`.
    pub samples: Vec<f32>,
    /// Sample rate, in Hz.
    pub sample_rate_hz: u32,
}

impl Signal {
    /// Duration in seconds.
    pub fn duration_s(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate_hz.max(1))
    }

    /// How loud the signal is where it is loud: the 90th percentile of the RMS level of its
    /// 100 ms blocks, in dB relative to full scale (-inf for digital silence or an empty
    /// signal). A singing voice sits tens of dB above the floor of quiet passages; a separated
    /// voice of music without singing stays near that floor.
    pub fn active_level_db(&self) -> f32 {
        let block = (self.sample_rate_hz as usize / 10).max(1);
        let mut levels: Vec<f32> = self
            .samples
            .chunks(block)
            .map(|b| {
                let power = b.iter().map(|x| x * x).sum::<f32>() / b.len() as f32;
                10.0 * power.log10()
            })
            .collect();
        if levels.is_empty() {
            return f32::NEG_INFINITY;
        }
        levels.sort_by(f32::total_cmp);
        levels[(levels.len() * 9 / 10).min(levels.len() - 1)]
    }

    /// How noise-like the signal is: the median over 64 ms frames (hop 32 ms) of the spectral
    /// flatness (geometric over arithmetic mean of the power spectrum, Johnston 1988) between
    /// 100 Hz and 4 kHz, ignoring frames 60 dB or more below the loudest. White noise gives about
    /// 0.56 with a Hann window; a voice, whose energy sits in harmonics, gives values near 0.01.
    /// `None` when no frame is loud enough (or the band is empty).
    pub fn median_flatness(&self) -> Option<f32> {
        let rate = self.sample_rate_hz as usize;
        let n_fft = (rate * 64 / 1000).next_power_of_two().max(64);
        let hop = n_fft / 2;
        let (lo, hi) = (
            100 * n_fft / rate.max(1),
            (4000 * n_fft / rate.max(1)).min(n_fft / 2),
        );
        if hi <= lo + 1 {
            return None;
        }
        let mut plan = crate::stft::StftPlan::new(n_fft, hop, crate::preset::PadMode::Constant);
        let mut frames: Vec<(f32, f32)> = Vec::new(); // (band power, flatness)
        plan.for_each_power_frame(&self.samples, |_, power| {
            let band = &power[lo..hi];
            let mean = band.iter().map(|&p| f64::from(p)).sum::<f64>() / band.len() as f64;
            if mean <= 0.0 {
                return;
            }
            let log_mean = band
                .iter()
                .map(|&p| f64::from(p).max(1e-20).ln())
                .sum::<f64>()
                / band.len() as f64;
            frames.push((mean as f32, (log_mean.exp() / mean) as f32));
        });
        let loudest = frames.iter().map(|f| f.0).fold(0.0, f32::max);
        let mut flatness: Vec<f32> = frames
            .into_iter()
            .filter(|f| f.0 > loudest * 1e-6)
            .map(|f| f.1)
            .collect();
        if flatness.is_empty() {
            return None;
        }
        flatness.sort_by(f32::total_cmp);
        Some(flatness[flatness.len() / 2])
    }
}

/// Loads `path` as the mono signal that features are made from: decodes it, applies
/// `config.channel` and resamples to `config.sample_rate_hz` (librosa
/// `load(path, sr=sample_rate_hz, mono=True, res_type="soxr_hq")`, with rubato in place of
/// soxr; see [`crate::resample`]).
///
/// Only `channel` and `sample_rate_hz` of `config` are used.
///
/// # Errors
///
/// Everything [`decode`](crate::decode::decode) returns, [`AudioError::ChannelUnavailable`],
/// [`AudioError::InvalidConfig`] if `config` is invalid, and [`AudioError::Resample`].
pub fn load(path: &Path, config: &FeatureConfig) -> Result<Signal, AudioError> {
    config.validate()?;
    let Signal {
        samples: mono,
        sample_rate_hz: from_hz,
    } = decode_mono(path, config.channel)?;
    let to_hz = config.sample_rate_hz;
    if from_hz < to_hz {
        tracing::warn!(
            path = %path.display(),
            from_hz,
            to_hz,
            "upsampling: the file has no content above {} Hz, so the upper mel bands will be \
             near-empty; use a preset whose sample rate is at most the file's",
            from_hz / 2
        );
    }
    let samples = if from_hz == to_hz {
        mono
    } else {
        resample(&mono, from_hz, to_hz).map_err(|reason| AudioError::Resample {
            path: path.to_path_buf(),
            from_hz,
            to_hz,
            reason,
        })?
    };
    Ok(Signal {
        samples,
        sample_rate_hz: to_hz,
    })
}

#[cfg(test)]
mod level_tests {
    use super::Signal;

    #[test]
    fn active_level_of_a_full_scale_sine_is_minus_3_db() {
        let samples: Vec<f32> = (0..16_000)
            .map(|i| (i as f32 * 2.0 * std::f32::consts::PI * 440.0 / 16_000.0).sin())
            .collect();
        let level = Signal {
            samples,
            sample_rate_hz: 16_000,
        }
        .active_level_db();
        assert!((level + 3.01).abs() < 0.05, "{level}");
        let silence = Signal {
            samples: vec![0.0; 16_000],
            sample_rate_hz: 16_000,
        };
        assert_eq!(silence.active_level_db(), f32::NEG_INFINITY);
        assert_eq!(silence.median_flatness(), None);
    }

    /// A harmonic tone (200 Hz and 20 harmonics) is far from flat; uniform white noise is
    /// near the Hann-windowed noise floor of about 0.56.
    #[test]
    fn flatness_separates_harmonics_from_noise() {
        let tone: Vec<f32> = (0..32_000)
            .map(|i| {
                (1..=20)
                    .map(|h| {
                        let f = 200.0 * h as f32;
                        (i as f32 * 2.0 * std::f32::consts::PI * f / 16_000.0).sin() / h as f32
                    })
                    .sum::<f32>()
            })
            .collect();
        let tone = Signal {
            samples: tone,
            sample_rate_hz: 16_000,
        }
        .median_flatness();
        assert!(tone.is_some_and(|f| f < 0.05), "{tone:?}");
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let noise: Vec<f32> = (0..32_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        let noise = Signal {
            samples: noise,
            sample_rate_hz: 16_000,
        }
        .median_flatness();
        assert!(noise.is_some_and(|f| f > 0.4), "{noise:?}");
    }
}
