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
