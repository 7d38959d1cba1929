//! Crash-safe file and folder replacement, the one implementation every crate uses: a reader
//! (or a later run after a kill) sees the old file or folder or the complete new one, never a
//! part.

use std::io::Write;
use std::path::Path;

/// Prefix of the temporary files [`write_atomic`] leaves behind only when killed mid-write.
pub const TEMP_PREFIX: &str = ".tmp-";
/// Suffix of those temporary files (a cache sweep removes `.tmp-*.part`).
pub const TEMP_SUFFIX: &str = ".part";

/// Writes `bytes` to `path` atomically: a temporary file in the same folder (created if
/// missing), flushed to disk, then renamed over `path`.
///
/// # Errors
/// The I/O error of the step that failed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|err| err.error)?;
    Ok(())
}

/// Moves the complete folder `from` to `to`, replacing `to` if it exists: the old folder is
/// first renamed to `aside`, the new one renamed into place, then `aside` removed. A kill
/// between the two renames leaves `aside` and `from` both complete, so a caller that finds `to`
/// missing can recover from either.
///
/// # Errors
/// The I/O error of the step that failed.
pub fn replace_dir(from: &Path, to: &Path, aside: &Path) -> std::io::Result<()> {
    if aside.exists() {
        std::fs::remove_dir_all(aside)?;
    }
    if to.exists() {
        std::fs::rename(to, aside)?;
    }
    std::fs::rename(from, to)?;
    if aside.exists() {
        std::fs::remove_dir_all(aside)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_the_whole_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub").join("a.json");
        write_atomic(&path, b"first, longer content").expect("write");
        write_atomic(&path, b"second").expect("rewrite");
        assert_eq!(std::fs::read(&path).expect("read"), b"second");
        let names: Vec<_> = std::fs::read_dir(path.parent().expect("parent"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.json")]);
    }

    #[test]
    fn replace_dir_swaps_folders_and_removes_the_old_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (from, to, aside) = (
            dir.path().join("new"),
            dir.path().join("best"),
            dir.path().join("best.old"),
        );
        for (folder, text) in [(&to, "old"), (&from, "new")] {
            std::fs::create_dir_all(folder).expect("mkdir");
            std::fs::write(folder.join("f"), text).expect("write");
        }
        replace_dir(&from, &to, &aside).expect("replace");
        assert_eq!(std::fs::read_to_string(to.join("f")).expect("read"), "new");
        assert!(!from.exists() && !aside.exists());
    }
}
