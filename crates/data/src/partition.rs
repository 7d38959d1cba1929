//! Assigning every recording of a [`Dataset`] to train, validation or test.
//!
//! Three modes ([`PartitionMode`]):
//!
//! - [`PartitionMode::Manifest`]: the manifest's `split` column, as written. Every recording must
//!   carry one, and a song must not lie on two sides. Rows whose split has another name than
//!   `train`, `val` or `test` (`openset`, `enrol`, ...) stay out of the three sides and are kept in
//!   [`Partition::other`] by name.
//! - [`PartitionMode::Album`]: the papers' album split ([`album_split`]) for a seed, with
//!   singers as artists and [`Recording::album`] as albums (one test and one validation album
//!   per singer, the rest for training). Every recording must have an album.
//! - [`PartitionMode::Song`]: a stratified song split ([`song_split_with_validation`]),
//!   10 % of each singer's songs to test, then 10 % of the rest to validation, seeded.
//!
//! Songs are keyed by [`song_key`]: singer, album (when known) and song column joined with `/`,
//! never by file name alone, so two songs that share a title stay apart and all clips of one
//! song always land on the same side. The result carries the three recording lists and a CSV
//! listing (album or song -> split) for the run folder (`split.csv`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, Recording};
use crate::error::DataError;
use crate::split::{
    PAPER_SONG_FRACTION, Split, SplitName, album_split, song_split_with_validation,
};

/// How recordings are assigned to train / validation / test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartitionMode {
    /// The manifest's `split` column.
    Manifest,
    /// The papers' album split (one test and one validation album per singer).
    Album,
    /// A stratified, seeded song split: 10 % test, then 10 % of the rest validation.
    Song,
}

impl PartitionMode {
    /// `"manifest"`, `"album"` or `"song"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Manifest => "manifest",
            Self::Album => "album",
            Self::Song => "song",
        }
    }
}

/// The recordings of a dataset, divided into train, validation and test.
#[derive(Debug, Clone)]
pub struct Partition {
    /// The mode used.
    pub mode: PartitionMode,
    /// The seed (ignored by [`PartitionMode::Manifest`]).
    pub seed: u64,
    /// Training recordings, in dataset order.
    pub train: Vec<Recording>,
    /// Validation recordings, in dataset order.
    pub val: Vec<Recording>,
    /// Test recordings, in dataset order (empty when the manifest has no test rows).
    pub test: Vec<Recording>,
    /// Recordings of the manifest's other split names (not train, val or test) by name, in
    /// dataset order; empty for the album and song splits, which use every recording.
    pub other: BTreeMap<SplitName, Vec<Recording>>,
    /// CSV listing of the units assigned (`artist,album,split` for the album split,
    /// `singer,song,split` otherwise), one line per album or song, for a run's `split.csv`.
    pub listing_csv: String,
}

impl Partition {
    /// The recordings of one side.
    pub fn part(&self, split: Split) -> &[Recording] {
        match split {
            Split::Train => &self.train,
            Split::Val => &self.val,
            Split::Test => &self.test,
        }
    }

    /// The number of distinct songs ([`song_key`]) on one side.
    pub fn song_count(&self, split: Split) -> usize {
        self.part(split)
            .iter()
            .map(song_key)
            .collect::<BTreeSet<_>>()
            .len()
    }
}

/// The key that identifies a recording's song: `singer/album/song` when the album is known,
/// `singer/song` otherwise (`song` is the manifest's `song` column, or the file stem).
///
/// For an `<artist>/<album>/<song>.<ext>` tree this is the relative path without extension; for
/// the MIR-1K manifest (`song` column, no album) it is e.g. `Ani/Ani_1`.
pub fn song_key(recording: &Recording) -> String {
    match &recording.album {
        Some(album) => format!("{}/{}/{}", recording.singer, album, recording.song),
        None => format!("{}/{}", recording.singer, recording.song),
    }
}

/// Divides `dataset`'s recordings into train, validation and test.
///
/// # Parameters
/// - `mode`: see [`PartitionMode`].
/// - `seed`: the seed of the album or song split (the paper used 0, 21 and 42); unused by the
///   manifest mode.
///
/// # Errors
/// [`DataError::EmptyDataset`] for an empty dataset; [`DataError::MissingSplit`],
/// [`DataError::SongOnTwoSides`] (manifest mode), [`DataError::MissingAlbum`] (album
/// mode), and the split routines' errors (e.g. [`DataError::TooFewAlbums`] for a singer with fewer
/// than three albums).
pub fn partition(
    dataset: &Dataset,
    mode: PartitionMode,
    seed: u64,
) -> Result<Partition, DataError> {
    let recordings = &dataset.recordings;
    if recordings.is_empty() {
        return Err(DataError::EmptyDataset);
    }
    let (sides, listing_csv): (Vec<Option<Split>>, String) = match mode {
        PartitionMode::Manifest => manifest_sides(recordings)?,
        PartitionMode::Album => every_side(album_sides(recordings, seed)?),
        PartitionMode::Song => every_side(song_sides(recordings, seed)?),
    };
    let mut out = Partition {
        mode,
        seed,
        train: Vec::new(),
        val: Vec::new(),
        test: Vec::new(),
        other: BTreeMap::new(),
        listing_csv,
    };
    for (recording, side) in recordings.iter().zip(sides) {
        match (side, &recording.split) {
            (Some(Split::Train), _) => out.train.push(recording.clone()),
            (Some(Split::Val), _) => out.val.push(recording.clone()),
            (Some(Split::Test), _) => out.test.push(recording.clone()),
            (None, Some(name)) => out
                .other
                .entry(name.clone())
                .or_default()
                .push(recording.clone()),
            // `manifest_sides` gives `None` only to recordings with a split name.
            (None, None) => {}
        }
    }
    Ok(out)
}

/// The album and song splits put every recording on a side.
fn every_side((sides, csv): (Vec<Split>, String)) -> (Vec<Option<Split>>, String) {
    (sides.into_iter().map(Some).collect(), csv)
}

/// The side of each recording by its split name; `None` for names other than the three roles.
fn manifest_sides(recordings: &[Recording]) -> Result<(Vec<Option<Split>>, String), DataError> {
    let missing: Vec<&Recording> = recordings.iter().filter(|r| r.split.is_none()).collect();
    if let Some(first) = missing.first() {
        return Err(DataError::MissingSplit {
            missing: missing.len(),
            total: recordings.len(),
            first: first.path.display().to_string(),
        });
    }
    // song key -> (singer, side, a path on that side)
    let mut songs: BTreeMap<String, (String, Split, String)> = BTreeMap::new();
    let mut sides = Vec::with_capacity(recordings.len());
    for recording in recordings {
        let Some(side) = recording.split_role() else {
            sides.push(None);
            continue;
        };
        let key = song_key(recording);
        let path = recording.path.display().to_string();
        if let Some((_, first, first_path)) = songs.get(&key) {
            if *first != side {
                return Err(DataError::SongOnTwoSides {
                    song: key,
                    first: *first,
                    first_path: first_path.clone(),
                    second: side,
                    second_path: path,
                });
            }
        } else {
            songs.insert(key, (recording.singer.clone(), side, path));
        }
        sides.push(Some(side));
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(["singer", "song", "split"])
        .map_err(DataError::from)?;
    for (key, (singer, side, _)) in &songs {
        writer
            .write_record([singer.as_str(), key.as_str(), side.as_str()])
            .map_err(DataError::from)?;
    }
    Ok((sides, csv_string(writer)?))
}

fn album_sides(recordings: &[Recording], seed: u64) -> Result<(Vec<Split>, String), DataError> {
    let missing: Vec<&Recording> = recordings.iter().filter(|r| r.album.is_none()).collect();
    if let Some(first) = missing.first() {
        return Err(DataError::MissingAlbum {
            missing: missing.len(),
            total: recordings.len(),
            first: first.path.display().to_string(),
        });
    }
    let mut artists: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for recording in recordings {
        if let Some(album) = &recording.album {
            artists
                .entry(recording.singer.clone())
                .or_default()
                .insert(album.clone());
        }
    }
    let artists: BTreeMap<String, Vec<String>> = artists
        .into_iter()
        .map(|(artist, albums)| (artist, albums.into_iter().collect()))
        .collect();
    let split = album_split(&artists, seed)?;
    let sides = recordings
        .iter()
        .map(|r| {
            r.album
                .as_deref()
                .and_then(|album| split.split_of(&r.singer, album))
                .unwrap_or(Split::Train)
        })
        .collect();
    Ok((sides, split.to_csv()?))
}

fn song_sides(recordings: &[Recording], seed: u64) -> Result<(Vec<Split>, String), DataError> {
    let songs: BTreeSet<(String, String)> = recordings
        .iter()
        .map(|r| (r.singer.clone(), song_key(r)))
        .collect();
    let songs: Vec<(String, String)> = songs.into_iter().collect();
    let split = song_split_with_validation(&songs, PAPER_SONG_FRACTION, PAPER_SONG_FRACTION, seed)?;
    let by_key: BTreeMap<&str, Split> = split
        .songs
        .iter()
        .map(|s| (s.song.as_str(), s.split))
        .collect();
    let sides = recordings
        .iter()
        .map(|r| {
            by_key
                .get(song_key(r).as_str())
                .copied()
                .unwrap_or(Split::Train)
        })
        .collect();
    Ok((sides, split.to_csv()?))
}

fn csv_string(writer: csv::Writer<Vec<u8>>) -> Result<String, DataError> {
    let bytes = writer
        .into_inner()
        .map_err(|e| DataError::SplitCsv(e.into_error().into()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn rec(path: &str, singer: &str, album: Option<&str>, song: &str) -> Recording {
        Recording {
            path: PathBuf::from(path),
            abs_path: PathBuf::from("/data").join(path),
            singer: singer.into(),
            album: album.map(str::to_owned),
            song: song.into(),
            split: None,
            tags: Vec::new(),
        }
    }

    #[test]
    fn song_keys_include_singer_and_album() {
        assert_eq!(song_key(&rec("a/b/c.mp3", "a", Some("b"), "c")), "a/b/c");
        assert_eq!(song_key(&rec("x.mp3", "a", None, "Ani_1")), "a/Ani_1");
    }
}
