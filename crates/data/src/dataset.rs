//! A dataset: the recordings of a corpus with their singer, album, song and split.
//!
//! Two sources give the same [`Dataset`]: an artist20-style directory tree
//! (`<root>/<artist>/<album>/<song>.<ext>`, see [`crate::tree`]) and a manifest CSV
//! (`path,singer[,album][,song][,split][,tags]`, see [`crate::manifest`]). Recordings are identified by
//! their full relative path, never by file name alone, and are always sorted by it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::DataError;
use crate::split::{Split, SplitName};

/// File extensions read as audio (compared case-insensitively).
pub const AUDIO_EXTENSIONS: [&str; 8] = ["mp3", "wav", "flac", "ogg", "oga", "m4a", "mp4", "aac"];

/// Whether `path` has one of the [`AUDIO_EXTENSIONS`] (case-insensitive).
pub fn is_audio_path(path: &Path) -> bool {
    path.extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| {
            AUDIO_EXTENSIONS
                .iter()
                .any(|known| known.eq_ignore_ascii_case(ext))
        })
}

/// One audio file of a dataset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recording {
    /// Path relative to the dataset's root (the tree's root or the manifest's folder). This is
    /// the recording's identity within the dataset.
    pub path: PathBuf,
    /// Absolute path of the file: the canonical dataset root joined with [`Recording::path`].
    pub abs_path: PathBuf,
    /// The singer (artist20: the artist folder).
    pub singer: String,
    /// The album, when known (artist20: the album folder; MIR-1K's tree puts the song here).
    pub album: Option<String>,
    /// The song (a tree: the file stem; a manifest: its `song` column, else the file stem).
    pub song: String,
    /// The split's name, when the source assigns one (manifests with a `split` column): a
    /// partition role (`train`, `val`, `test`) or any other name (`openset`, ...).
    pub split: Option<SplitName>,
    /// The recording's tags, for multi-label training (a manifest's `tags` column, see
    /// [`crate::manifest`]); empty when it lists none, and for trees.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl Recording {
    /// The partition role of the recording's split: `None` when it has no split or a split
    /// named other than `train`, `val` or `test`.
    pub fn split_role(&self) -> Option<Split> {
        self.split.as_ref().and_then(SplitName::role)
    }
}

/// Where a [`Dataset`] was read from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetSource {
    /// An artist20-style directory tree.
    Tree,
    /// A manifest CSV, with its path.
    Manifest(PathBuf),
}

/// The recordings of a corpus, sorted by relative path, plus the problems met while reading it.
#[derive(Debug)]
pub struct Dataset {
    /// The directory recordings' relative paths start from (absolute).
    pub root: PathBuf,
    /// Where the dataset was read from.
    pub source: DatasetSource,
    /// The recordings, sorted by [`Recording::path`], no path twice.
    pub recordings: Vec<Recording>,
    /// Entries that could not be turned into recordings (unreadable directories, misplaced
    /// audio files, bad manifest rows). They do not stop the rest of the dataset from loading;
    /// a batch job should report and count them as failures.
    pub problems: Vec<DataError>,
}

impl Dataset {
    /// Reads a dataset from a directory tree or, when `path` is a `.csv` file, a manifest.
    ///
    /// # Errors
    /// [`DataError::NotADatasetInput`] when `path` is neither, and the errors of
    /// [`Dataset::from_tree`] and [`Dataset::from_manifest`].
    pub fn open(path: &Path) -> Result<Self, DataError> {
        let metadata = std::fs::metadata(path).map_err(|source| DataError::Access {
            path: path.to_path_buf(),
            source,
        })?;
        let is_csv = path
            .extension()
            .and_then(|ext| ext.to_str())
            .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"));
        if metadata.is_dir() {
            Self::from_tree(path)
        } else if metadata.is_file() && is_csv {
            Self::from_manifest(path)
        } else {
            Err(DataError::NotADatasetInput {
                path: path.to_path_buf(),
            })
        }
    }

    /// Reads an artist20-style tree `<root>/<artist>/<album>/<song>.<ext>`; see [`crate::tree`].
    ///
    /// # Errors
    /// Only when `root` itself cannot be read; everything below it that cannot be read ends up in
    /// [`Dataset::problems`].
    pub fn from_tree(root: &Path) -> Result<Self, DataError> {
        let root = absolute(root)?;
        let scan = crate::tree::scan(&root)?;
        Ok(Self::sorted(
            root,
            DatasetSource::Tree,
            scan.recordings,
            scan.problems,
        ))
    }

    /// Reads a manifest CSV; see [`crate::manifest`].
    ///
    /// # Errors
    /// When the file cannot be read or lacks a `path` or `singer` column; bad rows end up in
    /// [`Dataset::problems`].
    pub fn from_manifest(csv_path: &Path) -> Result<Self, DataError> {
        let csv_path = absolute(csv_path)?;
        let root = csv_path
            .parent()
            .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
        let parsed = crate::manifest::read(&csv_path, &root)?;
        Ok(Self::sorted(
            root,
            DatasetSource::Manifest(csv_path),
            parsed.recordings,
            parsed.problems,
        ))
    }

    fn sorted(
        root: PathBuf,
        source: DatasetSource,
        mut recordings: Vec<Recording>,
        problems: Vec<DataError>,
    ) -> Self {
        recordings.sort_by(|a, b| a.path.cmp(&b.path));
        Self {
            root,
            source,
            recordings,
            problems,
        }
    }

    /// The distinct singers, sorted.
    pub fn singers(&self) -> Vec<&str> {
        let mut singers: Vec<&str> = self.recordings.iter().map(|r| r.singer.as_str()).collect();
        singers.sort_unstable();
        singers.dedup();
        singers
    }

    /// The distinct split names the recordings carry, sorted (empty without a split column).
    pub fn split_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .recordings
            .iter()
            .filter_map(|r| r.split.as_ref().map(SplitName::as_str))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// The recordings whose split is called `name`, in dataset order.
    ///
    /// `name` is normalised as [`SplitName::new`] does, so `validation` selects the `val` rows.
    ///
    /// # Errors
    /// [`DataError::UnknownSplitName`], listing the split names present, when no recording lies in
    /// a split called `name`.
    pub fn recordings_in_split(&self, name: &str) -> Result<Vec<&Recording>, DataError> {
        let wanted = SplitName::new(name).ok();
        let selected: Vec<&Recording> = self
            .recordings
            .iter()
            .filter(|r| wanted.is_some() && r.split == wanted)
            .collect();
        if selected.is_empty() {
            return Err(DataError::UnknownSplitName {
                name: name.to_owned(),
                present: self.split_names().into_iter().map(str::to_owned).collect(),
            });
        }
        Ok(selected)
    }
}

/// `path` made absolute, with `.`, `..` and symbolic links resolved (the dataset root or
/// manifest only; files below the root keep their symbolic links).
pub(crate) fn absolute(path: &Path) -> Result<PathBuf, DataError> {
    std::fs::canonicalize(path).map_err(|source| DataError::Access {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_extensions_are_case_insensitive_and_exclusive() {
        for name in [
            "a.mp3", "a.MP3", "b/c.Flac", "x.oga", "y.M4A", "z.aac", "w.wav",
        ] {
            assert!(is_audio_path(Path::new(name)), "{name}");
        }
        for name in ["a.txt", "a", "mp3", "a.mp3.part", ".mp3x", "metadata.csv"] {
            assert!(!is_audio_path(Path::new(name)), "{name}");
        }
    }

    #[test]
    fn open_rejects_a_plain_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("notes.txt");
        std::fs::write(&file, "hello").expect("write");
        assert!(matches!(
            Dataset::open(&file),
            Err(DataError::NotADatasetInput { .. })
        ));
        assert!(matches!(
            Dataset::open(&dir.path().join("missing")),
            Err(DataError::Access { .. })
        ));
    }
}
