//! Reading an artist20-style directory tree: `<root>/<artist>/<album>/<song>.<ext>`.
//!
//! The walk is recursive and deterministic (entries sorted by name) and follows symbolic links.
//! Each audio file (see [`crate::AUDIO_EXTENSIONS`]) at least three levels below the root
//! becomes a [`Recording`] whose singer, album and song are its last three path components:
//! `<artist>/<album>/<song>.<ext>`. So pointing at a folder *above* the tree also works
//! (`mir1k-mini/audio/<singer>/<song>/<clip>.mp3`, `artist20/mp3s-32k/<artist>/<album>/...`),
//! and the recording keeps its full relative path as its identity.
//!
//! Hidden entries (names starting with `.`) are ignored, other non-audio files are skipped with
//! a debug log. Nothing below the root stops the walk: an unreadable directory, a dangling
//! symbolic link, a symbolic-link loop, an audio file too close to the root or a non-UTF-8 name
//! becomes a [`DataError`] in [`TreeScan::problems`].

use std::fs;
use std::path::{Path, PathBuf};

use crate::dataset::{Recording, is_audio_path};
use crate::error::DataError;

/// Directories nested deeper than this below the root are not walked (a guard against
/// pathological trees; artist20 needs three levels).
const MAX_DEPTH: usize = 32;

/// The result of walking a tree.
#[derive(Debug, Default)]
pub struct TreeScan {
    /// Recordings in walk order (sorted by path, since each directory is read sorted).
    pub recordings: Vec<Recording>,
    /// Entries that could not be read or placed.
    pub problems: Vec<DataError>,
}

/// Walks the tree under `root` (which should be absolute; [`crate::Dataset::from_tree`] makes
/// it so).
///
/// # Errors
/// [`DataError::ReadDir`] when `root` itself cannot be listed. Everything below the root that
/// fails is collected in [`TreeScan::problems`] instead.
pub fn scan(root: &Path) -> Result<TreeScan, DataError> {
    let found = walk(root)?;
    let mut scan = TreeScan {
        recordings: Vec::new(),
        problems: found.problems,
    };
    for file in found.files {
        match file.relative.as_slice() {
            [.., singer, album] => {
                let recording = recording(root, &file, singer, album);
                scan.recordings.push(recording);
            }
            _ => scan.problems.push(DataError::MisplacedAudio {
                path: file.path,
                root: root.to_path_buf(),
            }),
        }
    }
    Ok(scan)
}

/// An audio file found by [`walk`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundFile {
    /// The file (the root joined with the folders below it and the file name).
    pub path: PathBuf,
    /// The folder names from the root down to the file's folder.
    pub relative: Vec<String>,
    /// The file name.
    pub name: String,
}

/// The audio files below one root, in sorted walk order, and what could not be read.
#[derive(Debug, Default)]
pub struct Walk {
    /// Audio files (see [`crate::AUDIO_EXTENSIONS`]), sorted by path.
    pub files: Vec<FoundFile>,
    /// Entries that could not be read.
    pub problems: Vec<DataError>,
}

/// Walks every folder below `root` (sorted, following symbolic links, skipping hidden entries)
/// and collects the audio files at any depth. The one folder walk of singerid: datasets
/// ([`scan`]) and `identify`'s folders ([`audio_files`]) both use it.
///
/// # Errors
/// [`DataError::ReadDir`] when `root` itself cannot be listed. Everything below the root that
/// fails is collected in [`Walk::problems`] instead.
pub fn walk(root: &Path) -> Result<Walk, DataError> {
    let entries = read_dir_sorted(root)?;
    let mut found = Walk::default();
    let canonical_root = fs::canonicalize(root).map_err(|source| DataError::ReadDir {
        path: root.to_path_buf(),
        source,
    })?;
    let mut ancestors = vec![canonical_root];
    let mut relative = Vec::new();
    walk_entries(entries, &mut relative, &mut ancestors, &mut found);
    Ok(found)
}

/// The audio files named by `inputs`: a file as given (whatever its extension, so that a format
/// the decoder does not know is reported for that file), a folder's audio files at any depth
/// (sorted). Inputs that do not exist and folders that cannot be read become problems.
pub fn audio_files(inputs: &[PathBuf]) -> (Vec<PathBuf>, Vec<DataError>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for input in inputs {
        if input.is_dir() {
            match walk(input) {
                Ok(found) => {
                    files.extend(found.files.into_iter().map(|f| f.path));
                    problems.extend(found.problems);
                }
                Err(problem) => problems.push(problem),
            }
        } else if input.exists() {
            files.push(input.clone());
        } else {
            problems.push(DataError::Access {
                path: input.clone(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
            });
        }
    }
    (files, problems)
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let read_dir_error = |source| DataError::ReadDir {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = fs::read_dir(dir)
        .map_err(read_dir_error)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(read_dir_error)?;
    entries.sort();
    Ok(entries)
}

/// Handles the (sorted) entries of one directory; `relative` holds the components from the
/// root down to that directory, `ancestors` their canonical paths (for loop detection).
fn walk_entries(
    entries: Vec<PathBuf>,
    relative: &mut Vec<String>,
    ancestors: &mut Vec<PathBuf>,
    scan: &mut Walk,
) {
    for path in entries {
        let Some(name) = path.file_name() else {
            continue;
        };
        let Some(name) = name.to_str().map(str::to_owned) else {
            scan.problems.push(DataError::NonUtf8Path { path });
            continue;
        };
        if name.starts_with('.') {
            tracing::debug!(path = %path.display(), "ignoring hidden entry");
            continue;
        }
        // `metadata` follows symbolic links: a dangling link or a loop fails here.
        let metadata = match fs::metadata(&path) {
            Ok(metadata) => metadata,
            Err(source) => {
                let is_link = fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
                scan.problems.push(if is_link {
                    DataError::BrokenSymlink { path, source }
                } else {
                    DataError::Access { path, source }
                });
                continue;
            }
        };
        if metadata.is_dir() {
            visit_dir(path, &name, relative, ancestors, scan);
        } else if !is_audio_path(&path) {
            tracing::debug!(path = %path.display(), "skipping non-audio file");
        } else if !metadata.is_file() {
            scan.problems.push(DataError::NotRegularFile { path });
        } else {
            scan.files.push(FoundFile {
                path,
                relative: relative.clone(),
                name,
            });
        }
    }
}

fn visit_dir(
    path: PathBuf,
    name: &str,
    relative: &mut Vec<String>,
    ancestors: &mut Vec<PathBuf>,
    scan: &mut Walk,
) {
    if relative.len() >= MAX_DEPTH {
        tracing::warn!(
            path = %path.display(),
            "not descending: more than {MAX_DEPTH} levels below the dataset root"
        );
        return;
    }
    let canonical = match fs::canonicalize(&path) {
        Ok(canonical) => canonical,
        Err(source) => {
            scan.problems.push(DataError::Access { path, source });
            return;
        }
    };
    if ancestors.contains(&canonical) {
        scan.problems.push(DataError::SymlinkLoop { path });
        return;
    }
    let entries = match read_dir_sorted(&path) {
        Ok(entries) => entries,
        Err(problem) => {
            scan.problems.push(problem);
            return;
        }
    };
    relative.push(name.to_owned());
    ancestors.push(canonical);
    walk_entries(entries, relative, ancestors, scan);
    ancestors.pop();
    relative.pop();
}

/// The recording for the audio file `file` found below `root` whose last two folders are
/// `singer` and `album`.
fn recording(root: &Path, file: &FoundFile, singer: &str, album: &str) -> Recording {
    let path: PathBuf = file
        .relative
        .iter()
        .map(String::as_str)
        .chain([file.name.as_str()])
        .collect();
    debug_assert_eq!(file.path, root.join(&path));
    let song = Path::new(&file.name)
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or(&file.name)
        .to_owned();
    Recording {
        path,
        abs_path: file.path.clone(),
        singer: singer.to_owned(),
        album: Some(album.to_owned()),
        song,
        split: None,
        tags: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create_dir_all");
        }
        fs::write(path, b"x").expect("write");
    }

    #[test]
    fn reads_artist_album_song_sorted_and_skips_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        touch(&root.join("b_artist/album1/02 song.MP3"));
        touch(&root.join("b_artist/album1/01 song.flac"));
        touch(&root.join("a_artist/x/track.wav"));
        touch(&root.join("a_artist/x/cover.jpg"));
        touch(&root.join("a_artist/x/.hidden.mp3"));
        touch(&root.join(".git/a/b.mp3"));
        touch(&root.join("README.txt"));

        let scan = scan(root).expect("scan");
        assert!(scan.problems.is_empty(), "{:?}", scan.problems);
        let paths: Vec<_> = scan.recordings.iter().map(|r| r.path.clone()).collect();
        assert_eq!(
            paths,
            [
                PathBuf::from("a_artist/x/track.wav"),
                PathBuf::from("b_artist/album1/01 song.flac"),
                PathBuf::from("b_artist/album1/02 song.MP3"),
            ]
        );
        let first = &scan.recordings[1];
        assert_eq!(first.singer, "b_artist");
        assert_eq!(first.album.as_deref(), Some("album1"));
        assert_eq!(first.song, "01 song");
        assert_eq!(first.abs_path, root.join("b_artist/album1/01 song.flac"));
    }

    #[test]
    fn deeper_trees_use_the_last_three_components_and_keep_the_full_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        touch(&dir.path().join("audio/amy/amy_1/amy_1_01.mp3"));
        // The same file name under another song is a different recording.
        touch(&dir.path().join("audio/amy/amy_2/amy_1_01.mp3"));
        let scan = scan(dir.path()).expect("scan");
        assert_eq!(scan.recordings.len(), 2);
        let r = &scan.recordings[0];
        assert_eq!(r.path, PathBuf::from("audio/amy/amy_1/amy_1_01.mp3"));
        assert_eq!(
            (r.singer.as_str(), r.album.as_deref(), r.song.as_str()),
            ("amy", Some("amy_1"), "amy_1_01")
        );
        assert_ne!(scan.recordings[0].path, scan.recordings[1].path);
    }

    #[test]
    fn misplaced_audio_is_a_problem_not_a_recording() {
        let dir = tempfile::tempdir().expect("tempdir");
        touch(&dir.path().join("loose.mp3"));
        touch(&dir.path().join("artist/loose.wav"));
        touch(&dir.path().join("artist/album/ok.wav"));
        let scan = scan(dir.path()).expect("scan");
        assert_eq!(scan.recordings.len(), 1);
        assert_eq!(scan.problems.len(), 2);
        assert!(
            scan.problems
                .iter()
                .all(|p| matches!(p, DataError::MisplacedAudio { .. }))
        );
    }

    /// Running as root, permissions cannot make a directory unreadable, so the unreadable
    /// entries here are a dangling symbolic link (its target does not exist), a symbolic link
    /// to itself (`ELOOP` on every access) and a link back to an ancestor (a walk loop).
    #[cfg(unix)]
    #[test]
    fn unreadable_entries_are_problems_and_the_walk_goes_on() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        touch(&root.join("good/album/song.mp3"));
        symlink(root.join("does-not-exist"), root.join("dangling")).expect("symlink");
        symlink(root.join("selfloop"), root.join("selfloop")).expect("symlink");
        symlink(root, root.join("good/album/back-to-root")).expect("symlink");
        touch(&root.join("zzz/album/last.wav"));

        let scan = scan(root).expect("scan");
        let paths: Vec<_> = scan.recordings.iter().map(|r| r.path.clone()).collect();
        assert_eq!(
            paths,
            [
                PathBuf::from("good/album/song.mp3"),
                PathBuf::from("zzz/album/last.wav")
            ]
        );
        assert_eq!(scan.problems.len(), 3, "{:?}", scan.problems);
        let messages: Vec<String> = scan.problems.iter().map(ToString::to_string).collect();
        assert!(
            scan.problems.iter().any(|p| matches!(
                p,
                DataError::BrokenSymlink { path, .. } if path.ends_with("dangling")
            )),
            "{messages:?}"
        );
        assert!(
            scan.problems.iter().any(|p| matches!(
                p,
                DataError::BrokenSymlink { path, .. } if path.ends_with("selfloop")
            )),
            "{messages:?}"
        );
        assert!(
            scan.problems
                .iter()
                .any(|p| matches!(p, DataError::SymlinkLoop { .. }))
        );
        for message in &messages {
            assert!(!message.contains('\n'), "one line: {message}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn an_audio_named_fifo_is_not_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let album = dir.path().join("a/b");
        fs::create_dir_all(&album).expect("mkdir");
        let status = std::process::Command::new("mkfifo")
            .arg(album.join("pipe.mp3"))
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("mkfifo unavailable; skipping");
            return;
        }
        let scan = scan(dir.path()).expect("scan");
        assert!(scan.recordings.is_empty());
        assert!(matches!(
            scan.problems.as_slice(),
            [DataError::NotRegularFile { .. }]
        ));
    }

    #[test]
    fn an_unreadable_root_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(matches!(
            scan(&dir.path().join("missing")),
            Err(DataError::ReadDir { .. })
        ));
    }
}
