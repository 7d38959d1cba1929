//! The content-addressed feature cache.
//!
//! A cache folder holds, for any number of feature configs:
//!
//! ```text
//! <dir>/
//!   config.json                       the config of the latest `create` (written before work)
//!   configs/<config_id>.json          every config ever used here, by id
//!   index.jsonl                       recording -> feature file, one JSON line each (see index)
//!   features/<k[..2]>/<key>.safetensors
//!   .lock                             held by the writer (`create`)
//! ```
//!
//! A feature file's key hashes the audio bytes, the canonical config JSON and the feature
//! algorithm version (see [`key`]), so configs can share a folder, a rerun skips every file it
//! already has, and a changed config or changed audio is never served stale features. Feature
//! files and the index are written atomically (see [`feature_file::write_atomic`] and
//! [`index`]), so an interrupted run resumes where it stopped.
//!
//! [`FeatureCache::create`] opens a folder for writing and holds an exclusive lock on
//! `<dir>/.lock` until it is dropped, so two runs never write one folder at once (and temporary
//! files left by a killed run can be removed safely); [`FeatureCache::extract`] then fills the
//! cache for a list of recordings, in parallel. [`FeatureCache::open`] opens a folder for
//! reading, without the lock; [`FeatureCache::get`] loads one recording's features (what
//! training uses).

pub mod extract;
pub mod feature_file;
pub mod fill;
pub mod index;
pub mod key;

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use singerid_audio::{FeatureConfig, LogMel};

use crate::dataset::Recording;
use crate::error::DataError;

pub use extract::{Outcome, RecordingOutcome};
pub use feature_file::FeatureFileMeta;
pub use fill::{CacheOptions, fill};
pub use index::IndexEntry;
pub use key::{ConfigIdentity, ContentHash, FeatureKey};

/// File name of the resolved config in a cache folder.
pub const CONFIG_FILE: &str = "config.json";
/// Folder of the configs by id.
pub const CONFIGS_DIR: &str = "configs";
/// File name of the index.
pub const INDEX_FILE: &str = "index.jsonl";
/// Folder of the feature files.
pub const FEATURES_DIR: &str = "features";
/// The lock file a writer holds.
pub const LOCK_FILE: &str = ".lock";
/// Prefix and suffix of the temporary files of atomic writes.
pub(crate) use crate::atomic::{TEMP_PREFIX, TEMP_SUFFIX};

/// A feature cache folder, opened for one feature config.
#[derive(Debug)]
pub struct FeatureCache {
    dir: PathBuf,
    identity: ConfigIdentity,
    index: Mutex<index::Index>,
    /// The locked `.lock` file when opened for writing; released on drop.
    writer_lock: Option<File>,
}

impl FeatureCache {
    /// Opens the folder for writing: creates it if needed, takes the writer lock, removes
    /// temporary files a killed run left, and writes the config (`config.json` and
    /// `configs/<config_id>.json`) before any feature is computed.
    ///
    /// # Errors
    /// [`DataError::InvalidConfig`] for an invalid config, [`DataError::Locked`] when another
    /// writer holds the folder, [`DataError::Write`] when the folder or the config cannot be
    /// written, [`DataError::Read`] when an existing index is unreadable.
    pub fn create(dir: &Path, config: &FeatureConfig) -> Result<Self, DataError> {
        let identity = ConfigIdentity::new(config)?;
        std::fs::create_dir_all(dir).map_err(|source| DataError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
        let lock = lock_for_writing(dir)?;
        remove_stale_temp_files(dir);
        let pretty = pretty_json(&identity.canonical_json, dir)?;
        feature_file::write_atomic(&dir.join(CONFIG_FILE), pretty.as_bytes())?;
        let by_id = dir.join(CONFIGS_DIR).join(format!("{}.json", identity.id));
        feature_file::write_atomic(&by_id, pretty.as_bytes())?;
        let mut cache = Self::with_identity(dir, identity)?;
        cache.writer_lock = Some(lock);
        Ok(cache)
    }

    /// Opens an existing cache folder to read features computed with `config`.
    ///
    /// # Errors
    /// [`DataError::InvalidConfig`] for an invalid config, [`DataError::ReadDir`] when `dir` is
    /// not a readable folder, [`DataError::Read`] when its index is unreadable.
    pub fn open(dir: &Path, config: &FeatureConfig) -> Result<Self, DataError> {
        let identity = ConfigIdentity::new(config)?;
        std::fs::read_dir(dir).map_err(|source| DataError::ReadDir {
            path: dir.to_path_buf(),
            source,
        })?;
        Self::with_identity(dir, identity)
    }

    fn with_identity(dir: &Path, identity: ConfigIdentity) -> Result<Self, DataError> {
        let index = index::Index::load(&dir.join(INDEX_FILE))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            identity,
            index: Mutex::new(index),
            writer_lock: None,
        })
    }

    /// Whether this cache was opened with [`FeatureCache::create`] (and may be written).
    pub fn is_writable(&self) -> bool {
        self.writer_lock.is_some()
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The feature config this cache was opened with.
    pub fn config(&self) -> &FeatureConfig {
        &self.identity.config
    }

    /// The config's id, canonical JSON and hashing.
    pub fn identity(&self) -> &ConfigIdentity {
        &self.identity
    }

    /// Where the feature file for `key` lives (whether or not it exists).
    pub fn feature_path(&self, key: &FeatureKey) -> PathBuf {
        self.dir.join(self.feature_file_name(key))
    }

    /// The feature file for `key`, relative to the cache folder.
    fn feature_file_name(&self, key: &FeatureKey) -> PathBuf {
        let hex = key.as_str();
        Path::new(FEATURES_DIR)
            .join(hex.get(..2).unwrap_or(hex))
            .join(format!("{hex}.safetensors"))
    }

    /// The key the features of the audio file at `audio_path` have under this config; this reads
    /// and hashes the whole file.
    ///
    /// # Errors
    /// [`DataError::Read`] when the file cannot be read.
    pub fn key_of(&self, audio_path: &Path) -> Result<FeatureKey, DataError> {
        Ok(self
            .identity
            .feature_key(&ContentHash::of_file(audio_path)?))
    }

    /// The cached features of `recording`, or `None` when they have not been computed (with this
    /// config, for the file's current content).
    ///
    /// # Errors
    /// [`DataError::Read`] when the audio or feature file cannot be read,
    /// [`DataError::CorruptFeatureFile`] when the feature file is not what its name promises.
    pub fn get(&self, recording: &Recording) -> Result<Option<LogMel>, DataError> {
        let key = self.key_of(&recording.abs_path)?;
        Ok(self.load(&key)?.map(|(mel, _)| mel))
    }

    /// The feature file stored under `key`, with its metadata, or `None` when there is none.
    ///
    /// # Errors
    /// As [`FeatureCache::get`].
    pub fn load(&self, key: &FeatureKey) -> Result<Option<(LogMel, FeatureFileMeta)>, DataError> {
        let path = self.feature_path(key);
        if !path.exists() {
            return Ok(None);
        }
        let (mel, meta) = feature_file::read(&path)?;
        let corrupt = |reason: String| DataError::CorruptFeatureFile {
            path: path.clone(),
            reason,
        };
        if meta.key != key.as_str() || meta.config_id != self.identity.id {
            return Err(corrupt(format!(
                "its metadata names key {} / config {}",
                meta.key, meta.config_id
            )));
        }
        if mel.n_mels != self.identity.config.n_mels {
            return Err(corrupt(format!(
                "{} mel bands where the config has {}",
                mel.n_mels, self.identity.config.n_mels
            )));
        }
        Ok(Some((mel, meta)))
    }

    /// The index entries of this cache's config, sorted by source path.
    pub fn entries(&self) -> Vec<IndexEntry> {
        self.lock_index()
            .entries()
            .filter(|entry| entry.config_id == self.identity.id)
            .cloned()
            .collect()
    }

    fn lock_index(&self) -> MutexGuard<'_, index::Index> {
        // The index is only touched in short, non-panicking sections; a poisoned lock still
        // holds a consistent map.
        self.index.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Takes the exclusive lock on `<dir>/.lock` (released when the returned file is dropped, or
/// by the operating system when the process dies).
fn lock_for_writing(dir: &Path) -> Result<File, DataError> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| DataError::Write {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(DataError::Locked {
            path: dir.to_path_buf(),
        }),
        Err(TryLockError::Error(source)) => Err(DataError::Write { path, source }),
    }
}

/// Removes the temporary files of atomic writes that a killed run left in `dir` and in the
/// feature shards. Only called with the writer lock held, so none of them is in use.
fn remove_stale_temp_files(dir: &Path) {
    let shards = std::fs::read_dir(dir.join(FEATURES_DIR))
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path());
    for folder in std::iter::once(dir.to_path_buf()).chain(shards) {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX) {
                let path = entry.path();
                match std::fs::remove_file(&path) {
                    Ok(()) => {
                        tracing::info!(path = %path.display(), "removed a leftover temporary file")
                    }
                    Err(err) => {
                        tracing::warn!(path = %path.display(), "cannot remove a leftover temporary file: {err}")
                    }
                }
            }
        }
    }
}

fn pretty_json(canonical: &str, dir: &Path) -> Result<String, DataError> {
    let json_error = |source| DataError::Json {
        path: dir.join(CONFIG_FILE),
        source,
    };
    let value: serde_json::Value = serde_json::from_str(canonical).map_err(json_error)?;
    let mut pretty = serde_json::to_string_pretty(&value).map_err(json_error)?;
    pretty.push('\n');
    Ok(pretty)
}
