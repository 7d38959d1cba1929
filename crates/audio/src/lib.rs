//! The audio front end of singerid: from an audio file to a log-mel matrix, matching librosa.
//!
//! Data flows `decode` -> channel selection -> `resample` -> `stft` -> `mel` -> `db`:
//! [`load`] returns a mono [`Signal`] at the configured rate, [`log_mel`] turns it into a
//! [`LogMel`], and [`features_from_file`] does both. A [`FeatureConfig`] (usually from a
//! [`Preset`]) determines every step.
//!
//! API CONTRACT (fixed; the implementation fills it in):
//! - `Signal { samples: Vec<f32>, sample_rate_hz: u32 }`
//! - `LogMel { n_mels: usize, n_frames: usize, data: Vec<f32> }`, mel-major: `data[m * n_frames + t]`
//! - `load(path: &Path, config: &FeatureConfig) -> Result<Signal, AudioError>`
//! - `log_mel(signal: &Signal, config: &FeatureConfig) -> Result<LogMel, AudioError>`
//! - `features_from_file(path: &Path, config: &FeatureConfig) -> Result<LogMel, AudioError>`
//! - `FeatureConfig::validate(&self) -> Result<(), AudioError>`
//! - `FEATURE_ALGORITHM_VERSION: u32` (bump when any output changes, to invalidate caches)
//! - `AudioError`: thiserror enum; every file-related variant carries the path; Display is one line.

pub mod preset;

pub use preset::{Channel, DbScale, FeatureConfig, MelNorm, MelScale, PadMode, Preset};
