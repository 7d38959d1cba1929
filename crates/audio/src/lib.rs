//! The audio front end of singerid: from an audio file to a log-mel matrix, matching librosa.
//!
//! Data flows through one module per pipeline stage:
//!
//! ```text
//! decode (symphonia) -> channel (mix/left/right/mid/side) -> resample (rubato)
//!     -> stft (centred, periodic Hann, power 2) -> mel (Slaney/HTK filterbank) -> db
//! ```
//!
//! [`load()`] returns a mono [`Signal`] at the configured rate (librosa `load`), [`log_mel`]
//! turns it into a [`LogMel`] (librosa `feature.melspectrogram` followed by the configured
//! dB convention), and [`features_from_file`] does both. A [`FeatureConfig`], usually from a
//! [`Preset`] (`fgnl`, `nasrullah`, `choi`, `iclr2018`), determines every step; two equal
//! files under equal configs give identical features, and [`FEATURE_ALGORITHM_VERSION`]
//! changes whenever the algorithm's output does, so caches can key on both.
//!
//! [`LogMel`] is mel-major: `data[m * n_frames + t]`, with `n_frames = 1 + n / hop_length`
//! for `n` samples (even `n_fft`). Every fallible function returns [`AudioError`], whose
//! file-related variants carry the path.
//!
//! Parity: at the target rate, mel power agrees with librosa 0.11 to within 1e-4 relative and
//! the dB features to within 0.01 dB (measured: 4e-7 and 1e-4); the filterbank is
//! bit-identical. Resampling uses rubato instead of libsoxr, which moves the features by a
//! measured, bounded amount. Details and measurements: `docs/audio.md`; the tests in
//! `tests/librosa_parity.rs` check each stage against `tools/librosa_reference.py`.

pub mod channel;
pub mod db;
pub mod decode;
pub mod error;
pub mod features;
pub mod load;
pub mod mel;
pub mod preset;
pub mod resample;
pub mod stft;
pub mod wav;

pub use error::AudioError;
pub use features::{
    FEATURE_ALGORITHM_VERSION, LogMel, features_from_file, log_mel, melspectrogram,
};
pub use load::{Signal, load};
pub use preset::{Channel, DbScale, FeatureConfig, MelNorm, MelScale, PadMode, Preset};
