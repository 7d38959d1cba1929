//! The one error type of this crate.
//!
//! Every variant that concerns a file carries its path, and every `Display` is a single line,
//! so a batch job can print `error: {err}` per bad file and carry on.

use std::path::PathBuf;

use crate::split::Split;

use singerid_audio::AudioError;

/// Everything that can go wrong while reading datasets, splitting and partitioning them, slicing
/// clips or using the feature cache.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The dataset input is neither a directory nor a `.csv` manifest.
    #[error(
        "{path} is neither a directory (an `<artist>/<album>/<song>.<ext>` tree) nor a `.csv` manifest"
    )]
    NotADatasetInput { path: PathBuf },

    /// A directory could not be listed.
    #[error("cannot read directory {path}: {source}")]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A directory entry could not be examined (for example a dangling symbolic link).
    #[error("cannot access {path}: {source}")]
    Access {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A symbolic link whose target cannot be reached (dangling, or a loop of links).
    #[error("cannot follow the symbolic link {path}: {source}")]
    BrokenSymlink {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A file or directory could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A path with an audio extension is not a regular file (a FIFO, a socket, a device).
    #[error("{path} is not a regular file")]
    NotRegularFile { path: PathBuf },

    /// A path component is not valid UTF-8, so it cannot name a singer, album or song.
    #[error("{path}: file name is not valid UTF-8; rename it")]
    NonUtf8Path { path: PathBuf },

    /// An audio file sits less than three levels below the tree's root.
    #[error(
        "{path}: audio file is not at `<artist>/<album>/<song>.<ext>` below the root {root}; \
         move it into an album folder or list it in a manifest CSV"
    )]
    MisplacedAudio { path: PathBuf, root: PathBuf },

    /// A symbolic link leads back into a directory already being walked.
    #[error("{path}: symbolic link loop (the directory is already being walked), skipped")]
    SymlinkLoop { path: PathBuf },

    /// The manifest CSV is malformed as a whole (for example a required column is missing).
    #[error("manifest {path}: {message}")]
    Manifest { path: PathBuf, message: String },

    /// One row of the manifest CSV is unusable; the other rows are still used.
    #[error("manifest {path}, line {line}: {message}")]
    ManifestRow {
        path: PathBuf,
        line: u64,
        message: String,
    },

    /// The audio front end failed on a file (undecodable, empty, truncated, ...). The audio
    /// error already names the file, so it is displayed as is.
    #[error("{error}")]
    Audio { path: PathBuf, error: AudioError },

    /// The feature configuration is invalid.
    #[error(transparent)]
    InvalidConfig(AudioError),

    /// The audio front end returned features that must not be stored.
    #[error("{path}: {reason}")]
    BadFeatures { path: PathBuf, reason: String },

    /// Another process is writing the feature folder.
    #[error(
        "{path} is in use by another `singerid features` run (it holds {path}/.lock); \
         wait for it or use another --out"
    )]
    Locked { path: PathBuf },

    /// The cache was opened for reading ([`crate::FeatureCache::open`]) but asked to write.
    #[error("{path} was opened read-only; open it with FeatureCache::create to compute features")]
    ReadOnly { path: PathBuf },

    /// A stored feature file exists but cannot be used.
    #[error("feature file {path} is unusable: {reason}; delete it and rerun `singerid features`")]
    CorruptFeatureFile { path: PathBuf, reason: String },

    /// The audio file's bytes changed between hashing and decoding, so the features cannot be
    /// stored under the hashed key.
    #[error("{path} changed while its features were being computed; rerun `singerid features`")]
    ChangedDuringRead { path: PathBuf },

    /// A JSON file (config or index) could not be written or parsed.
    #[error("{path}: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },

    /// A split name that is empty or only whitespace.
    #[error("a split name must not be empty")]
    EmptySplitName,

    /// No recording of the dataset lies in the split asked for.
    #[error("no recordings in split {name:?}; {}", names_present(.present))]
    UnknownSplitName {
        /// The name asked for.
        name: String,
        /// The split names the dataset's recordings carry, sorted.
        present: Vec<String>,
    },

    // Splits (`split`).
    /// An artist has too few albums for one test, one validation and at least
    /// one training album.
    #[error(
        "artist {artist:?} has {found} album(s); the album split needs at least 3 \
         (one for test, one for validation, the rest for training)"
    )]
    TooFewAlbums {
        /// The artist.
        artist: String,
        /// How many distinct albums it has.
        found: usize,
    },
    /// The same album name appears twice under one artist.
    #[error("artist {artist:?} lists album {album:?} more than once")]
    DuplicateAlbum {
        /// The artist.
        artist: String,
        /// The repeated album.
        album: String,
    },
    /// The catalogue handed to a split function is empty.
    #[error("nothing to split: the list of {what} is empty")]
    NothingToSplit {
        /// `"artists"` or `"songs"`.
        what: &'static str,
    },
    /// A song key occurs more than once in the song list.
    #[error(
        "song {song:?} is listed more than once (singers {first_singer:?} and {second_singer:?}); \
         song keys must be unique so that a song lies on one side of the split only"
    )]
    DuplicateSong {
        /// The repeated song key.
        song: String,
        /// The singer of its first occurrence.
        first_singer: String,
        /// The singer of the repeated occurrence.
        second_singer: String,
    },
    /// The hold-out fraction is not strictly between 0 and 1.
    #[error("the hold-out fraction must lie strictly between 0 and 1, got {fraction}")]
    InvalidFraction {
        /// The value given.
        fraction: f64,
    },
    /// A manifest's split column holds a value that is not a split name.
    #[error("unknown split {value:?}: expected one of train, val, validation, test")]
    UnknownSplit {
        /// The value found (before trimming).
        value: String,
    },
    /// Writing a split list as CSV failed.
    #[error("writing the split list as CSV: {0}")]
    SplitCsv(#[from] csv::Error),

    // Partitions (`partition`).
    /// The dataset has no recordings.
    #[error("the dataset has no recordings to partition")]
    EmptyDataset,
    /// Manifest mode, but some recordings have no split.
    #[error(
        "{missing} of {total} recordings have no `split` value (first: {first}); \
         fill the manifest's split column or choose the album or song split"
    )]
    MissingSplit {
        /// How many recordings lack a split.
        missing: usize,
        /// How many recordings there are.
        total: usize,
        /// The first such recording's relative path.
        first: String,
    },
    /// Album mode, but some recordings have no album.
    #[error(
        "{missing} of {total} recordings have no album (first: {first}); the album split needs \
         an `album` column or an `<artist>/<album>/<song>` tree; use the song split instead"
    )]
    MissingAlbum {
        /// How many recordings lack an album.
        missing: usize,
        /// How many recordings there are.
        total: usize,
        /// The first such recording's relative path.
        first: String,
    },
    /// The manifest puts clips of one song on two sides.
    #[error(
        "song {song:?} has recordings in {first} ({first_path}) and in {second} ({second_path}); \
         a song must lie on one side of the split only"
    )]
    SongOnTwoSides {
        /// The song key.
        song: String,
        /// One side.
        first: Split,
        /// A recording on that side.
        first_path: String,
        /// The other side.
        second: Split,
        /// A recording on the other side.
        second_path: String,
    },

    // Clips (`clip`).
    /// A clip length of zero frames.
    #[error("a clip must be at least one frame long")]
    ZeroClipLength,
    /// A clip duration that is not a positive, finite number of seconds.
    #[error("clip duration must be a positive, finite number of seconds, got {seconds}")]
    InvalidClipSeconds {
        /// The value given.
        seconds: f64,
    },
    /// A zero sample rate or hop length.
    #[error("sample rate ({sample_rate_hz} Hz) and hop length ({hop_length}) must be positive")]
    InvalidFraming {
        /// The sample rate given, in Hz.
        sample_rate_hz: u32,
        /// The hop length given, in samples.
        hop_length: usize,
    },
    /// The feature matrix does not hold `n_mels * n_frames` values, or has no mel bands.
    #[error(
        "feature matrix has {len} values, expected n_mels x n_frames = {n_mels} x {n_frames} \
         (n_mels must be positive)"
    )]
    ClipShapeMismatch {
        /// Values found.
        len: usize,
        /// Mel bands claimed.
        n_mels: usize,
        /// Frames claimed.
        n_frames: usize,
    },
    /// An output buffer of the wrong size.
    #[error("clip buffer holds {found} values, expected n_mels x clip frames = {expected}")]
    ClipBufferSize {
        /// Values needed.
        expected: usize,
        /// Values found.
        found: usize,
    },

    /// Processing one file panicked; the panic was caught and the batch went on.
    #[error("{path}: internal error (panic) while processing: {message}")]
    Panic { path: PathBuf, message: String },
}

impl DataError {
    /// The file or directory this error is about, when there is one.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            DataError::NotADatasetInput { path }
            | DataError::ReadDir { path, .. }
            | DataError::Access { path, .. }
            | DataError::BrokenSymlink { path, .. }
            | DataError::Read { path, .. }
            | DataError::Write { path, .. }
            | DataError::NotRegularFile { path }
            | DataError::NonUtf8Path { path }
            | DataError::MisplacedAudio { path, .. }
            | DataError::SymlinkLoop { path }
            | DataError::Manifest { path, .. }
            | DataError::ManifestRow { path, .. }
            | DataError::Audio { path, .. }
            | DataError::BadFeatures { path, .. }
            | DataError::CorruptFeatureFile { path, .. }
            | DataError::ChangedDuringRead { path }
            | DataError::Locked { path }
            | DataError::ReadOnly { path }
            | DataError::Json { path, .. }
            | DataError::Panic { path, .. } => Some(path),
            DataError::InvalidConfig(_)
            | DataError::EmptySplitName
            | DataError::UnknownSplitName { .. }
            | DataError::TooFewAlbums { .. }
            | DataError::DuplicateAlbum { .. }
            | DataError::NothingToSplit { .. }
            | DataError::DuplicateSong { .. }
            | DataError::InvalidFraction { .. }
            | DataError::UnknownSplit { .. }
            | DataError::SplitCsv(_)
            | DataError::EmptyDataset
            | DataError::MissingSplit { .. }
            | DataError::MissingAlbum { .. }
            | DataError::SongOnTwoSides { .. }
            | DataError::ZeroClipLength
            | DataError::InvalidClipSeconds { .. }
            | DataError::InvalidFraming { .. }
            | DataError::ClipShapeMismatch { .. }
            | DataError::ClipBufferSize { .. } => None,
        }
    }
}

/// The sentence of [`DataError::UnknownSplitName`] that lists the split names present.
fn names_present(present: &[String]) -> String {
    if present.is_empty() {
        "the dataset has no split column (a manifest's `split` column names the splits)".to_owned()
    } else {
        format!("the dataset's split names are: {}", present.join(", "))
    }
}
