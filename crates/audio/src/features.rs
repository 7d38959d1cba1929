//! From a [`Signal`] to log-mel features: power STFT, mel filterbank, dB
//! (librosa `melspectrogram` followed by the configured dB convention).

use std::path::Path;

use crate::db::apply_db;
use crate::error::AudioError;
use crate::load::{Signal, load};
use crate::mel::{MelFilterbank, mel_filterbank};
use crate::preset::FeatureConfig;
use crate::stft::StftPlan;

/// Version of the feature algorithm. Bump it whenever any output of [`log_mel`] or
/// [`features_from_file`] changes for the same file and config, so feature caches that key
/// on it are invalidated.
pub const FEATURE_ALGORITHM_VERSION: u32 = 1;

/// A mel spectrogram, mel-major: `data[m * n_frames + t]` is band `m` at frame `t`.
///
/// From [`melspectrogram`] it holds power; from [`log_mel`] it holds dB values.
#[derive(Clone, Debug, PartialEq)]
pub struct LogMel {
    /// Number of mel bands (`n_mels`).
    pub n_mels: usize,
    /// Number of frames, `1 + n_samples / hop_length` for even `n_fft`.
    pub n_frames: usize,
    /// `n_mels * n_frames` values, mel-major.
    pub data: Vec<f32>,
}

impl LogMel {
    /// Band `m` over all frames.
    ///
    /// # Panics
    ///
    /// If `m >= n_mels`.
    pub fn band(&self, m: usize) -> &[f32] {
        &self.data[m * self.n_frames..(m + 1) * self.n_frames]
    }

    /// The value of band `m` at frame `t`, or `None` out of range.
    pub fn get(&self, m: usize, t: usize) -> Option<f32> {
        (m < self.n_mels && t < self.n_frames).then(|| self.data[m * self.n_frames + t])
    }
}

/// The mel filterbank `config` describes (librosa `filters.mel` with `sr`, `n_fft`, `n_mels`,
/// `fmin`, `fmax`, `htk`, `norm`).
pub fn filterbank_for(config: &FeatureConfig) -> MelFilterbank {
    mel_filterbank(
        config.sample_rate_hz,
        config.n_fft,
        config.n_mels,
        f64::from(config.fmin_hz),
        config.fmax_or_nyquist_hz(),
        config.mel_scale,
        config.mel_norm,
    )
}

fn check_signal(signal: &Signal, config: &FeatureConfig) -> Result<(), AudioError> {
    config.validate()?;
    if signal.sample_rate_hz != config.sample_rate_hz {
        return Err(AudioError::SampleRateMismatch {
            expected_hz: config.sample_rate_hz,
            found_hz: signal.sample_rate_hz,
        });
    }
    if signal.samples.is_empty() {
        return Err(AudioError::EmptySignal);
    }
    if let Some((index, &value)) = signal
        .samples
        .iter()
        .enumerate()
        .find(|(_, x)| !x.is_finite())
    {
        return Err(AudioError::NonFiniteSample { index, value });
    }
    Ok(())
}

/// The mel power spectrogram of `signal` (librosa
/// `feature.melspectrogram(y, sr, n_fft, hop_length, window="hann", center=True,
/// pad_mode, power=2.0, n_mels, fmin, fmax, htk, norm)`), mel-major, before any dB.
///
/// # Errors
///
/// [`AudioError::InvalidConfig`], [`AudioError::SampleRateMismatch`] if the signal is not at
/// `config.sample_rate_hz`, [`AudioError::EmptySignal`], [`AudioError::NonFiniteSample`].
pub fn melspectrogram(signal: &Signal, config: &FeatureConfig) -> Result<LogMel, AudioError> {
    check_signal(signal, config)?;
    let bank = filterbank_for(config);
    let mut plan = StftPlan::new(config.n_fft, config.hop_length, config.pad_mode);
    let n_frames = crate::stft::n_frames(signal.samples.len(), config.n_fft, config.hop_length);
    let n_mels = config.n_mels;
    let mut data = vec![0.0_f32; n_mels * n_frames];
    let mut frame_mel = vec![0.0_f32; n_mels];
    plan.for_each_power_frame(&signal.samples, |t, power| {
        bank.apply_frame(power, &mut frame_mel);
        for (m, &v) in frame_mel.iter().enumerate() {
            data[m * n_frames + t] = v;
        }
    });
    Ok(LogMel {
        n_mels,
        n_frames,
        data,
    })
}

/// The log-mel features of `signal`: [`melspectrogram`] followed by `config.db` with
/// `config.top_db`, the clip taken relative to the maximum of the whole signal.
///
/// Silence gives finite values (the `amin` floor), never NaN or -inf.
///
/// # Errors
///
/// As [`melspectrogram`].
pub fn log_mel(signal: &Signal, config: &FeatureConfig) -> Result<LogMel, AudioError> {
    let mut mel = melspectrogram(signal, config)?;
    apply_db(&mut mel.data, config.db, config.top_db);
    Ok(mel)
}

/// [`load`] then [`log_mel`]: the features of an audio file under `config`.
///
/// # Errors
///
/// As [`load`] and [`log_mel`]; file errors carry the path.
pub fn features_from_file(path: &Path, config: &FeatureConfig) -> Result<LogMel, AudioError> {
    let signal = load(path, config)?;
    log_mel(&signal, config)
}
