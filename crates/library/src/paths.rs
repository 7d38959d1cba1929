//! Where singerid keeps its files by default: the platform's data folder for the library
//! database and its cache folder for features and separated stems (XDG on Linux:
//! `~/.local/share/singerid/`, `~/.cache/singerid/`), through the `directories` crate.

use std::path::PathBuf;

/// The database file's name in the data folder.
pub const DB_FILE: &str = "library.sqlite";

fn dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "singerid")
}

/// The default library database: `<data dir>/library.sqlite`
/// (`~/.local/share/singerid/library.sqlite` on Linux); `./singerid-library.sqlite` when the
/// platform has no home folder.
pub fn default_db() -> PathBuf {
    dirs().map_or_else(
        || PathBuf::from("singerid-library.sqlite"),
        |d| d.data_dir().join(DB_FILE),
    )
}

/// The default cache folder for features and stems: `<cache dir>/features`
/// (`~/.cache/singerid/features` on Linux); `./singerid-features` without a home folder.
pub fn default_cache() -> PathBuf {
    dirs().map_or_else(
        || PathBuf::from("singerid-features"),
        |d| d.cache_dir().join("features"),
    )
}
