//! The cache's index: which recording has which feature file, as JSON lines.
//!
//! `index.jsonl` holds one [`IndexEntry`] per line. During a run each finished recording is
//! appended as one complete line with a single `write` (so a killed run keeps every entry
//! already written), and at the end of a run the whole index is rewritten atomically (temporary
//! file + rename), deduplicated and sorted. A reader tolerates a torn last line (a kill during
//! the append, or a crash of the machine) by skipping it with a warning, and the next run's
//! rewrite removes it. Later lines win over earlier ones for the same (config, source file).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cache::feature_file::write_atomic;
use crate::error::DataError;

/// One recording's feature file under one config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// The config id the features were computed with.
    pub config_id: String,
    /// Absolute path of the audio file.
    pub source_path: String,
    /// Path of the recording relative to its dataset's root.
    pub path: String,
    /// The recording's singer.
    pub singer: String,
    /// The feature key.
    pub key: String,
    /// The feature file, relative to the cache folder.
    pub file: String,
    /// blake3 of the audio file's bytes.
    pub content_blake3: String,
    /// Mel bands.
    pub n_mels: usize,
    /// Frames.
    pub n_frames: usize,
    /// Audio duration estimated from the frame count: `(n_frames - 1) * hop_length / sample_rate`
    /// (exact to within one hop).
    pub duration_s: f64,
}

/// The index in memory plus the file it is appended to.
#[derive(Debug)]
pub struct Index {
    path: PathBuf,
    entries: BTreeMap<(String, String), IndexEntry>,
    appender: Option<File>,
    /// Whether the file holds torn or superseded lines that a rewrite would drop.
    dirty: bool,
}

impl Index {
    /// Loads the index at `path`; a missing file is an empty index.
    ///
    /// # Errors
    /// [`DataError::Read`] when the file exists but cannot be read.
    pub fn load(path: &Path) -> Result<Self, DataError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(DataError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let mut entries = BTreeMap::new();
        let mut dirty = false;
        for (number, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<IndexEntry>(line) {
                Ok(entry) => {
                    let id = (entry.config_id.clone(), entry.source_path.clone());
                    dirty |= entries.insert(id, entry).is_some();
                }
                Err(err) => {
                    tracing::warn!(
                        index = %path.display(),
                        line = number + 1,
                        "skipping an unreadable index line ({err}); it is rebuilt on the next run"
                    );
                    dirty = true;
                }
            }
        }
        // A last line without its newline was cut off mid-append.
        dirty |= !text.is_empty() && !text.ends_with('\n');
        Ok(Self {
            path: path.to_path_buf(),
            entries,
            appender: None,
            dirty,
        })
    }

    /// The entry for `source_path` (absolute) under `config_id`.
    pub fn get(&self, config_id: &str, source_path: &str) -> Option<&IndexEntry> {
        self.entries
            .get(&(config_id.to_owned(), source_path.to_owned()))
    }

    /// All entries, sorted by config id then source path.
    pub fn entries(&self) -> impl Iterator<Item = &IndexEntry> {
        self.entries.values()
    }

    /// Records `entry`, appending it to the file at once unless an equal entry is there.
    ///
    /// # Errors
    /// [`DataError::Write`] when the line cannot be appended.
    pub fn insert(&mut self, entry: IndexEntry) -> Result<(), DataError> {
        let id = (entry.config_id.clone(), entry.source_path.clone());
        if self.entries.get(&id) == Some(&entry) {
            return Ok(());
        }
        let path = self.path.clone();
        let write_error = |source| DataError::Write {
            path: path.clone(),
            source,
        };
        let mut line = serde_json::to_string(&entry).map_err(|source| DataError::Json {
            path: self.path.clone(),
            source,
        })?;
        line.push('\n');
        if self.appender.is_none() {
            // A torn last line must not swallow the next entry: start on a fresh line.
            if self.dirty {
                self.rewrite()?;
            }
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(write_error)?;
            self.appender = Some(file);
        }
        if let Some(file) = self.appender.as_mut() {
            file.write_all(line.as_bytes()).map_err(write_error)?;
        }
        self.dirty |= self.entries.insert(id, entry).is_some();
        Ok(())
    }

    /// Rewrites the file atomically with the current entries (sorted, one per recording), when it
    /// holds anything else.
    ///
    /// # Errors
    /// [`DataError::Write`] when the new file cannot be written.
    pub fn compact(&mut self) -> Result<(), DataError> {
        if self.dirty {
            self.rewrite()?;
        }
        Ok(())
    }

    fn rewrite(&mut self) -> Result<(), DataError> {
        let mut text = String::new();
        for entry in self.entries.values() {
            let line = serde_json::to_string(entry).map_err(|source| DataError::Json {
                path: self.path.clone(),
                source,
            })?;
            text.push_str(&line);
            text.push('\n');
        }
        // The open appender refers to the replaced file; reopen on the next insert.
        self.appender = None;
        write_atomic(&self.path, text.as_bytes())?;
        self.dirty = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(source: &str, key: &str) -> IndexEntry {
        IndexEntry {
            config_id: "cfg".to_owned(),
            source_path: source.to_owned(),
            path: source.trim_start_matches('/').to_owned(),
            singer: "s".to_owned(),
            key: key.to_owned(),
            file: format!("features/{key}.safetensors"),
            content_blake3: "c".to_owned(),
            n_mels: 128,
            n_frames: 10,
            duration_s: 0.288,
        }
    }

    #[test]
    fn entries_survive_without_compaction_as_after_a_kill() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("index.jsonl");
        {
            let mut index = Index::load(&path).expect("load");
            index.insert(entry("/b", "k1")).expect("insert");
            index.insert(entry("/a", "k2")).expect("insert");
            // Dropped without compact(), like a run killed now.
        }
        let index = Index::load(&path).expect("reload");
        assert_eq!(index.entries().count(), 2);
        assert_eq!(index.get("cfg", "/b").map(|e| e.key.as_str()), Some("k1"));
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_repaired() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("index.jsonl");
        let good = serde_json::to_string(&entry("/a", "k1")).expect("json");
        let torn = &serde_json::to_string(&entry("/b", "k2")).expect("json")[..20];
        std::fs::write(&path, format!("{good}\n{torn}")).expect("write");

        let mut index = Index::load(&path).expect("load");
        assert_eq!(index.entries().count(), 1);
        index.insert(entry("/c", "k3")).expect("insert");
        let reloaded = Index::load(&path).expect("reload");
        assert_eq!(reloaded.entries().count(), 2);
        assert!(
            !reloaded.dirty,
            "the torn line was removed before appending"
        );
    }

    #[test]
    fn later_entries_win_and_compaction_keeps_one_line_each() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("index.jsonl");
        let mut index = Index::load(&path).expect("load");
        index.insert(entry("/a", "old")).expect("insert");
        index.insert(entry("/a", "new")).expect("insert");
        index
            .insert(entry("/a", "new"))
            .expect("insert again is a no-op");
        assert_eq!(
            std::fs::read_to_string(&path)
                .expect("read")
                .lines()
                .count(),
            2
        );
        index.compact().expect("compact");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.lines().count(), 1);
        assert!(text.contains("\"new\""));
        // Appending after a compaction goes to the new file.
        index.insert(entry("/b", "k")).expect("insert");
        assert_eq!(Index::load(&path).expect("reload").entries().count(), 2);
    }
}
