//! The error type of `singerid-library`.

use std::path::{Path, PathBuf};

/// Errors of the library database and its commands. Per-file problems of a scan are not errors:
/// they are listed in its summary and the scan goes on.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// A file or folder that cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An SQLite error on the database.
    #[error("library database {path}: {source}")]
    Sql {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A file that is not an SQLite database.
    #[error("{0} is not a singerid library database (not SQLite); pass another --db")]
    NotADatabase(PathBuf),
    /// A database written by a newer singerid.
    #[error(
        "{path} has schema version {version}, newer than this singerid's {supported}; upgrade \
         singerid to open it"
    )]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Its version.
        version: i64,
        /// What this build reads.
        supported: i64,
    },
    /// A request that cannot be carried out (unknown singer, bad name, nothing enrolled ...).
    #[error("{0}")]
    Invalid(String),
    /// From identification and evaluation.
    #[error(transparent)]
    Infer(#[from] singerid_infer::Error),
    /// From the metrics.
    #[error(transparent)]
    Eval(#[from] singerid_eval::Error),
}

impl LibraryError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn sql(path: &Path, source: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, _) = &source
            && f.code == rusqlite::ErrorCode::NotADatabase
        {
            return Self::NotADatabase(path.to_path_buf());
        }
        Self::Sql {
            path: path.to_path_buf(),
            source,
        }
    }
}
