//! The crate's one error type.

use std::path::PathBuf;

use crate::preset::Channel;

/// Everything that can go wrong between an audio file and its log-mel features.
///
/// Every variant about a file carries its path; `Display` is a single line that names the
/// file, the problem and, where there is one, a hint.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file is empty (0 bytes).
    #[error("{} is empty (0 bytes)", path.display())]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },
    /// No demuxer or decoder recognises the file (not audio, or a format not built in).
    #[error(
        "{} is not a supported audio file ({reason}); supported: WAV, FLAC, MP3, Ogg Vorbis, AAC/M4A",
        path.display()
    )]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What symphonia said.
        reason: String,
    },
    /// The container was recognised but the audio stream is malformed.
    #[error("cannot decode {}: {reason}", path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The stream ends before the length its header announces.
    #[error(
        "{} is truncated: decoded {decoded} of the {expected} frames its header announces",
        path.display()
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Frames (samples per channel) decoded.
        decoded: u64,
        /// Frames the container header announces.
        expected: u64,
    },
    /// The file decodes to zero samples.
    #[error("{} contains no audio samples", path.display())]
    NoSamples {
        /// The file.
        path: PathBuf,
    },
    /// The requested channel does not exist in this file.
    #[error(
        "{} has {channels} channel(s), so channel `{channel}` is unavailable (use `mix` for mono files)",
        path.display()
    )]
    ChannelUnavailable {
        /// The file.
        path: PathBuf,
        /// The requested channel.
        channel: Channel,
        /// The file's channel count.
        channels: usize,
    },
    /// The resampler failed.
    #[error(
        "resampling {} from {from_hz} Hz to {to_hz} Hz failed: {reason}",
        path.display()
    )]
    Resample {
        /// The file.
        path: PathBuf,
        /// The file's sample rate.
        from_hz: u32,
        /// The configured sample rate.
        to_hz: u32,
        /// What rubato said.
        reason: String,
    },
    /// A [`FeatureConfig`](crate::FeatureConfig) field is out of range.
    #[error("invalid feature config: {field} = {value}: {reason}")]
    InvalidConfig {
        /// The field name (librosa's parameter name where there is one).
        field: &'static str,
        /// The offending value.
        value: String,
        /// The valid range, or why the value is rejected.
        reason: String,
    },
    /// A signal with no samples was given to [`log_mel`](crate::log_mel).
    #[error("the signal has no samples: nothing to analyse")]
    EmptySignal,
    /// A signal's rate differs from the configured rate.
    #[error(
        "the signal is at {found_hz} Hz but the config expects {expected_hz} Hz (resample it with `load`)"
    )]
    SampleRateMismatch {
        /// The configured rate.
        expected_hz: u32,
        /// The signal's rate.
        found_hz: u32,
    },
    /// A signal contains NaN or an infinity.
    #[error("the signal has a non-finite sample ({value}) at index {index}")]
    NonFiniteSample {
        /// Index of the first bad sample.
        index: usize,
        /// The sample.
        value: f32,
    },
}
