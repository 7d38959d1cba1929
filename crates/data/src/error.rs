//! The one error type of this crate.
//!
//! Every variant that concerns a file carries its path, and every `Display` is a single line,
//! so a batch job can print `error: {err}` per bad file and carry on.

use std::path::PathBuf;

use singerid_audio::AudioError;

/// Everything that can go wrong while reading datasets or using the feature cache.
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
            | DataError::UnknownSplitName { .. } => None,
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
