//! Reading a manifest CSV: `path,singer[,album][,song][,split][,tags]`.
//!
//! The header row names the columns (case-insensitive, surrounding spaces ignored, any order);
//! `path` and `singer` are required, `album`, `song`, `split` and `tags` optional, other columns
//! are ignored (MIR-1K's `metadata.csv` is `path,singer,song,clip,duration_s,split`). Paths are
//! relative to the manifest's folder. A missing `song` column or an empty `song` cell makes the
//! file stem the song; an empty `split` cell means no split. A split may have any name
//! ([`SplitName`]): `train`, `val` (or `validation`) and `test` are the partition's roles, other
//! names (`openset`, `enrol`, ...) are kept for a caller to select. The `tags` cell lists the
//! recording's tags for multi-label training (`rock; female vocal`): `;`-separated names, each
//! trimmed of surrounding spaces, kept in the cell's order; an empty cell means no tag (a negative
//! for every tag, not a missing label). Rows that cannot be used (an empty path or singer, a
//! path listed twice, a malformed CSV record, a `tags` cell with an empty name such as `rock;;pop`
//! or a trailing `;`, or one tag twice) are reported as
//! problems and the other rows are still read. Whether the listed files exist is not checked
//! here: a missing file fails when it is processed, like a file that vanishes mid-run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::dataset::Recording;
use crate::error::DataError;
use crate::split::SplitName;

/// The rows of a manifest that became recordings, and those that did not.
#[derive(Debug, Default)]
pub struct ManifestRows {
    /// Recordings in file order.
    pub recordings: Vec<Recording>,
    /// Rows that could not be used.
    pub problems: Vec<DataError>,
}

/// Column positions found in the header.
struct Columns {
    path: usize,
    singer: usize,
    album: Option<usize>,
    song: Option<usize>,
    split: Option<usize>,
    tags: Option<usize>,
}

impl Columns {
    fn from_header(header: &csv::StringRecord, manifest: &Path) -> Result<Self, DataError> {
        let find = |name: &str| {
            header
                .iter()
                .position(|column| column.trim().eq_ignore_ascii_case(name))
        };
        let required = |name: &str| {
            find(name).ok_or_else(|| DataError::Manifest {
                path: manifest.to_path_buf(),
                message: format!(
                    "no `{name}` column in the header ({}); expected `path,singer[,album][,song][,split][,tags]`",
                    header.iter().collect::<Vec<_>>().join(",")
                ),
            })
        };
        Ok(Self {
            path: required("path")?,
            singer: required("singer")?,
            album: find("album"),
            song: find("song"),
            split: find("split"),
            tags: find("tags"),
        })
    }
}

/// Reads the manifest at `manifest`, resolving its paths against `root` (its folder).
///
/// # Errors
/// [`DataError::Read`] when the file cannot be read, [`DataError::Manifest`] when the header
/// lacks a `path` or `singer` column. Row-level trouble is returned in
/// [`ManifestRows::problems`].
pub fn read(manifest: &Path, root: &Path) -> Result<ManifestRows, DataError> {
    let bytes = std::fs::read(manifest).map_err(|source| DataError::Read {
        path: manifest.to_path_buf(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes.as_slice());
    let header = reader.headers().map_err(|err| DataError::Manifest {
        path: manifest.to_path_buf(),
        message: format!("cannot read the header row: {err}"),
    })?;
    let columns = Columns::from_header(header, manifest)?;

    let mut rows = ManifestRows::default();
    let mut first_line_of: HashMap<PathBuf, u64> = HashMap::new();
    for (index, record) in reader.records().enumerate() {
        // Header is line 1; without position info fall back to counting records.
        let fallback_line = index as u64 + 2;
        let row_problem = |line: u64, message: String| DataError::ManifestRow {
            path: manifest.to_path_buf(),
            line,
            message,
        };
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err
                    .position()
                    .map_or(fallback_line, |position| position.line());
                rows.problems.push(row_problem(line, err.to_string()));
                continue;
            }
        };
        let line = record
            .position()
            .map_or(fallback_line, |position| position.line());
        match parse_row(&record, &columns, root) {
            Ok(recording) => {
                if let Some(first) = first_line_of.get(&recording.path) {
                    rows.problems.push(row_problem(
                        line,
                        format!(
                            "{} is already listed on line {first}; each recording once",
                            recording.path.display()
                        ),
                    ));
                } else {
                    first_line_of.insert(recording.path.clone(), line);
                    rows.recordings.push(recording);
                }
            }
            Err(message) => rows.problems.push(row_problem(line, message)),
        }
    }
    Ok(rows)
}

fn parse_row(
    record: &csv::StringRecord,
    columns: &Columns,
    root: &Path,
) -> Result<Recording, String> {
    let cell = |index: usize| record.get(index).map(str::trim).unwrap_or("");
    let optional = |index: Option<usize>| index.map(cell).filter(|value| !value.is_empty());

    let path_cell = cell(columns.path);
    if path_cell.is_empty() {
        return Err("empty `path`".to_owned());
    }
    let singer = cell(columns.singer);
    if singer.is_empty() {
        return Err(format!("empty `singer` for {path_cell}"));
    }
    let path = PathBuf::from(path_cell);
    let song = match optional(columns.song) {
        Some(song) => song.to_owned(),
        None => path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .ok_or_else(|| format!("{path_cell} has no file name"))?
            .to_owned(),
    };
    let split = optional(columns.split)
        .map(SplitName::new)
        .transpose()
        .map_err(|err| format!("{err} for {path_cell}"))?;
    let tags = match optional(columns.tags) {
        Some(cell) => parse_tags(cell).map_err(|err| format!("{err} for {path_cell}"))?,
        None => Vec::new(),
    };
    Ok(Recording {
        abs_path: root.join(&path),
        path,
        singer: singer.to_owned(),
        album: optional(columns.album).map(str::to_owned),
        song,
        split,
        tags,
    })
}

/// The separator between the tags of a `tags` cell.
pub const TAG_SEPARATOR: char = ';';

/// Parses a non-empty `tags` cell: `;`-separated names, each trimmed of surrounding white space,
/// in the cell's order.
///
/// # Errors
/// A message naming the cell when a name is empty (`rock;;pop`, `rock;`, `; pop`) or listed
/// twice.
pub fn parse_tags(cell: &str) -> Result<Vec<String>, String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in cell.split(TAG_SEPARATOR).map(str::trim) {
        if tag.is_empty() {
            return Err(format!(
                "the tags {cell:?} hold an empty name (tags are `{TAG_SEPARATOR}`-separated names; \
                 leave the cell empty for no tag)"
            ));
        }
        if tags.iter().any(|known| known == tag) {
            return Err(format!("the tags {cell:?} list {tag:?} twice"));
        }
        tags.push(tag.to_owned());
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(text: &str) -> Result<ManifestRows, DataError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let manifest = dir.path().join("m.csv");
        std::fs::write(&manifest, text).expect("write");
        read(&manifest, dir.path())
    }

    #[test]
    fn reads_mir1k_style_columns_and_ignores_extras() {
        let rows = read_str(
            "path,singer,song,clip,duration_s,split\n\
             audio/Ani/Ani_1/Ani_1_01.mp3,Ani,Ani_1,1,8.8,train\n\
             audio/amy/amy_2/amy_2_03.mp3,amy,amy_2,3,7.1,val\n",
        )
        .expect("read");
        assert!(rows.problems.is_empty(), "{:?}", rows.problems);
        let r = &rows.recordings[1];
        assert_eq!(r.path, PathBuf::from("audio/amy/amy_2/amy_2_03.mp3"));
        assert_eq!(r.singer, "amy");
        assert_eq!(r.song, "amy_2");
        assert_eq!(r.album, None);
        assert_eq!(r.split_role(), Some(crate::Split::Val));
        assert!(r.abs_path.ends_with("audio/amy/amy_2/amy_2_03.mp3"));
        assert!(r.abs_path.is_absolute());
    }

    #[test]
    fn optional_columns_default_sensibly() {
        let rows = read_str(" Singer , PATH ,album\nbob,a/b/c.wav,\nbob,d/e.flac,best of\n")
            .expect("read");
        assert!(rows.problems.is_empty(), "{:?}", rows.problems);
        assert_eq!(rows.recordings[0].song, "c");
        assert_eq!(rows.recordings[0].album, None);
        assert_eq!(rows.recordings[0].split, None);
        assert_eq!(rows.recordings[1].album.as_deref(), Some("best of"));
    }

    #[test]
    fn a_missing_required_column_is_fatal() {
        let err = read_str("file,singer\na.mp3,x\n").expect_err("no path column");
        assert!(err.to_string().contains("`path`"), "{err}");
        let err = read_str("path,artist\na.mp3,x\n").expect_err("no singer column");
        assert!(err.to_string().contains("`singer`"), "{err}");
    }

    #[test]
    fn bad_rows_are_problems_with_line_numbers() {
        let rows = read_str(
            "path,singer,split\n\
             a/b/one.mp3,x,train\n\
             ,x,train\n\
             a/b/two.mp3,,train\n\
             a/b/three.mp3,x,holdout\n\
             a/b/one.mp3,y,val\n\
             a/b/four.mp3,x,\n",
        )
        .expect("read");
        let paths: Vec<_> = rows.recordings.iter().map(|r| r.path.clone()).collect();
        assert_eq!(
            paths,
            [
                PathBuf::from("a/b/one.mp3"),
                PathBuf::from("a/b/three.mp3"),
                PathBuf::from("a/b/four.mp3")
            ]
        );
        // Any split name is a split: `holdout` is kept as written.
        assert_eq!(
            rows.recordings[1].split.as_ref().map(SplitName::as_str),
            Some("holdout")
        );
        let lines: Vec<u64> = rows
            .problems
            .iter()
            .map(|p| match p {
                DataError::ManifestRow { line, .. } => *line,
                other => panic!("unexpected {other}"),
            })
            .collect();
        assert_eq!(lines, [3, 4, 6]);
        assert!(rows.problems[2].to_string().contains("line 2"));
    }

    #[test]
    fn without_a_tags_column_recordings_have_no_tags() {
        let rows = read_str("path,singer\na.mp3,x\n").expect("read");
        assert!(rows.problems.is_empty(), "{:?}", rows.problems);
        assert!(rows.recordings[0].tags.is_empty());
    }

    #[test]
    fn tags_are_split_on_semicolons_and_trimmed() {
        let rows = read_str(
            "path,singer, Tags ,split\n\
             a.mp3,x, rock ;female vocal;  slow,train\n\
             b.mp3,x,,train\n\
             c.mp3,y,\"jazz;  \",val\n\
             d.mp3,y,   ,val\n\
             e.mp3,y,pop,val\n",
        )
        .expect("read");
        let tags: Vec<Vec<String>> = rows.recordings.iter().map(|r| r.tags.clone()).collect();
        assert_eq!(
            tags,
            [
                vec![
                    "rock".to_owned(),
                    "female vocal".to_owned(),
                    "slow".to_owned()
                ],
                vec![],
                vec![],
                vec!["pop".to_owned()],
            ]
        );
        // The trailing `;` of `jazz;` leaves an empty name: a problem, not a silent drop.
        assert_eq!(rows.problems.len(), 1, "{:?}", rows.problems);
        let message = rows.problems[0].to_string();
        assert!(
            message.contains("line 4") && message.contains("empty name"),
            "{message}"
        );
        assert!(message.contains("c.mp3"), "{message}");
    }

    #[test]
    fn malformed_tags_are_row_problems() {
        let rows = read_str(
            "path,singer,tags\n\
             a.mp3,x,rock;;pop\n\
             b.mp3,x,;pop\n\
             c.mp3,x,rock; rock\n\
             d.mp3,x,rock\n",
        )
        .expect("read");
        assert_eq!(rows.recordings.len(), 1);
        assert_eq!(rows.recordings[0].tags, ["rock"]);
        let messages: Vec<String> = rows.problems.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].contains("empty name"), "{}", messages[0]);
        assert!(messages[1].contains("empty name"), "{}", messages[1]);
        assert!(messages[2].contains("\"rock\" twice"), "{}", messages[2]);
    }

    #[test]
    fn parse_tags_keeps_order_and_inner_spaces() {
        assert_eq!(
            parse_tags(" b ; a  c ").expect("valid"),
            ["b".to_owned(), "a  c".to_owned()]
        );
        assert!(parse_tags(";").is_err());
    }
}
