//! A stratified, song-disjoint hold-out of a fraction of each singer's songs (see the
//! [`super`] overview for how it differs from scikit-learn's).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::Split;
use super::listing::csv_into_string;
use super::python_random::PythonRandom;
use crate::error::DataError;

/// The fraction of songs the authors held out in their song split
/// (`test_split_size = 0.1`, and again `validation_split_size = 0.1` of the rest).
pub const PAPER_SONG_FRACTION: f64 = 0.1;

/// One song and the side it lies on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SongAssignment {
    /// The singer (class).
    pub singer: String,
    /// The song key (the unit that is never split).
    pub song: String,
    /// Where the song goes.
    pub split: Split,
}

/// A song-level split, sorted by singer, then song key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SongSplit {
    /// The seed the split was drawn with.
    pub seed: u64,
    /// Every song with its side.
    pub songs: Vec<SongAssignment>,
}

impl SongSplit {
    /// The side of a song key, or `None` when the split does not list it.
    pub fn split_of(&self, song: &str) -> Option<Split> {
        self.songs.iter().find(|s| s.song == song).map(|s| s.split)
    }

    /// The songs on one side, in the split's order.
    pub fn songs_in(&self, split: Split) -> impl Iterator<Item = &SongAssignment> {
        self.songs.iter().filter(move |s| s.split == split)
    }

    /// The song list as CSV with the header `singer,song,split`.
    ///
    /// # Errors
    ///
    /// [`DataError::SplitCsv`] if the CSV writer fails (it writes to memory, so in
    /// practice it does not).
    pub fn to_csv(&self) -> Result<String, DataError> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(["singer", "song", "split"])?;
        for s in &self.songs {
            writer.write_record([s.singer.as_str(), s.song.as_str(), s.split.as_str()])?;
        }
        csv_into_string(writer)
    }
}

/// A stratified, song-disjoint hold-out: per singer, a `fraction` of the songs
/// goes to [`Split::Test`], the rest to [`Split::Train`].
///
/// Per singer (singers and songs visited in code-point order, one generator
/// seeded once with `seed` as in [`album_split`]): the sorted song keys are
/// shuffled and the first `k` are held out, where for `n` songs
/// `k = clamp(round(fraction * n), 1, n - 1)` if `n >= 2` and `k = 0` if
/// `n == 1` (a singer with one song keeps it for training). So every singer
/// with at least two songs has at least one song on each side. `round` rounds
/// halves away from zero.
///
/// This is deterministic for a seed, but it is not scikit-learn's
/// `train_test_split(test_size=fraction, stratify=y)` that the authors used:
/// the songs held out (and, by a song or so per singer, their number) differ.
///
/// # Parameters
///
/// - `songs`: `(singer, song key)` pairs, one per song, any order.
/// - `fraction`: the held-out share, strictly between 0 and 1; the authors
///   used 0.1 ([`PAPER_SONG_FRACTION`]).
/// - `seed`: any value; the same seed gives the same split.
///
/// # Errors
///
/// - [`DataError::InvalidFraction`] unless `0 < fraction < 1`.
/// - [`DataError::NothingToSplit`] if `songs` is empty.
/// - [`DataError::DuplicateSong`] if a song key occurs twice.
pub fn song_split(
    songs: &[(String, String)],
    fraction: f64,
    seed: u64,
) -> Result<SongSplit, DataError> {
    let by_singer = songs_by_singer(songs, fraction)?;
    let mut rng = PythonRandom::seed(seed);
    let mut held_out = BTreeSet::new();
    draw_held_out(&by_singer, fraction, &mut rng, &mut held_out);
    Ok(assemble_song_split(&by_singer, seed, |song| {
        if held_out.contains(song) {
            Split::Test
        } else {
            Split::Train
        }
    }))
}

/// A three-way stratified song split in the authors' manner: first
/// `test_fraction` of each singer's songs to [`Split::Test`], then
/// `val_fraction` of each singer's remaining songs to [`Split::Val`], the
/// rest to [`Split::Train`].
///
/// Both draws follow the rule of [`song_split`] and come from one generator
/// seeded once with `seed`. A singer needs 3 songs to appear on all three
/// sides; with 2 songs it has a test and a training song.
///
/// # Parameters
///
/// - `songs`: `(singer, song key)` pairs, one per song.
/// - `test_fraction`, `val_fraction`: strictly between 0 and 1 each; the
///   authors used 0.1 and 0.1 ([`PAPER_SONG_FRACTION`]).
/// - `seed`: any value.
///
/// # Errors
///
/// As [`song_split`], for either fraction.
pub fn song_split_with_validation(
    songs: &[(String, String)],
    test_fraction: f64,
    val_fraction: f64,
    seed: u64,
) -> Result<SongSplit, DataError> {
    if !(val_fraction > 0.0 && val_fraction < 1.0) {
        return Err(DataError::InvalidFraction {
            fraction: val_fraction,
        });
    }
    let by_singer = songs_by_singer(songs, test_fraction)?;
    let mut rng = PythonRandom::seed(seed);
    let mut test = BTreeSet::new();
    draw_held_out(&by_singer, test_fraction, &mut rng, &mut test);
    let remaining: BTreeMap<&str, Vec<&str>> = by_singer
        .iter()
        .map(|(singer, keys)| {
            let kept = keys.iter().copied().filter(|k| !test.contains(k)).collect();
            (*singer, kept)
        })
        .collect();
    let mut val = BTreeSet::new();
    draw_held_out(&remaining, val_fraction, &mut rng, &mut val);
    Ok(assemble_song_split(&by_singer, seed, |song| {
        if test.contains(song) {
            Split::Test
        } else if val.contains(song) {
            Split::Val
        } else {
            Split::Train
        }
    }))
}

/// Validates the song list and groups the sorted song keys by singer.
fn songs_by_singer(
    songs: &[(String, String)],
    fraction: f64,
) -> Result<BTreeMap<&str, Vec<&str>>, DataError> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(DataError::InvalidFraction { fraction });
    }
    if songs.is_empty() {
        return Err(DataError::NothingToSplit { what: "songs" });
    }
    let mut singer_of: BTreeMap<&str, &str> = BTreeMap::new();
    for (singer, song) in songs {
        if let Some(first) = singer_of.insert(song.as_str(), singer.as_str()) {
            return Err(DataError::DuplicateSong {
                song: song.clone(),
                first_singer: first.to_owned(),
                second_singer: singer.clone(),
            });
        }
    }
    let mut by_singer: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    // `singer_of` iterates in song-key order, so each singer's list is sorted.
    for (song, singer) in singer_of {
        by_singer.entry(singer).or_default().push(song);
    }
    Ok(by_singer)
}

/// Per singer, shuffles the (sorted) keys and moves the first `k` into `out`.
fn draw_held_out<'a>(
    by_singer: &BTreeMap<&str, Vec<&'a str>>,
    fraction: f64,
    rng: &mut PythonRandom,
    out: &mut BTreeSet<&'a str>,
) {
    for keys in by_singer.values() {
        let n = keys.len();
        if n < 2 {
            continue;
        }
        // `fraction * n` is in (0, n), so the rounded value fits a usize.
        let k = ((fraction * n as f64).round() as usize).clamp(1, n - 1);
        let mut shuffled = keys.clone();
        rng.shuffle(&mut shuffled);
        out.extend(shuffled.into_iter().take(k));
    }
}

fn assemble_song_split(
    by_singer: &BTreeMap<&str, Vec<&str>>,
    seed: u64,
    side: impl Fn(&str) -> Split,
) -> SongSplit {
    let songs = by_singer
        .iter()
        .flat_map(|(singer, keys)| {
            keys.iter().map(|song| SongAssignment {
                singer: (*singer).to_owned(),
                song: (*song).to_owned(),
                split: side(song),
            })
        })
        .collect();
    SongSplit { seed, songs }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn songs(per_singer: &[(&str, usize)]) -> Vec<(String, String)> {
        per_singer
            .iter()
            .flat_map(|(singer, n)| {
                (0..*n).map(move |i| ((*singer).to_owned(), format!("{singer}_{i:02}")))
            })
            .collect()
    }

    #[test]
    fn song_split_is_stratified_disjoint_and_deterministic() {
        let list = songs(&[
            ("amy", 20),
            ("leon", 9),
            ("tammy", 1),
            ("duo", 2),
            ("trio", 3),
        ]);
        for seed in [0, 21, 42, 7_000_000_000] {
            let split = song_split(&list, 0.1, seed).expect("valid");
            assert_eq!(
                split,
                song_split(&list, 0.1, seed).expect("valid"),
                "deterministic"
            );
            assert_eq!(split.songs.len(), list.len(), "every song once");
            let held = |singer: &str| {
                split
                    .songs
                    .iter()
                    .filter(|s| s.singer == singer && s.split == Split::Test)
                    .count()
            };
            // round(0.1 * n) clamped to [1, n - 1]; a lone song stays in training.
            assert_eq!(held("amy"), 2);
            assert_eq!(held("leon"), 1);
            assert_eq!(held("tammy"), 0);
            assert_eq!(held("duo"), 1);
            assert_eq!(held("trio"), 1);
            assert!(split.songs.iter().all(|s| s.split != Split::Val));
        }
        let a = song_split(&list, 0.1, 0).expect("valid");
        let b = song_split(&list, 0.1, 1).expect("valid");
        assert_ne!(a, b, "different seeds draw different songs");
    }

    #[test]
    fn song_split_ignores_input_order() {
        let list = songs(&[("amy", 12), ("leon", 7)]);
        let mut reversed = list.clone();
        reversed.reverse();
        assert_eq!(
            song_split(&list, 0.25, 3).expect("valid"),
            song_split(&reversed, 0.25, 3).expect("valid")
        );
    }

    #[test]
    fn song_split_with_validation_gives_three_disjoint_sides() {
        let list = songs(&[("amy", 30), ("leon", 10), ("duo", 2), ("trio", 3)]);
        let split = song_split_with_validation(&list, 0.1, 0.1, 42).expect("valid");
        let count = |singer: &str, side: Split| {
            split
                .songs
                .iter()
                .filter(|s| s.singer == singer && s.split == side)
                .count()
        };
        // amy: 3 test of 30, then round(0.1 * 27) = 3 val; leon: 1, then round(0.9) = 1.
        assert_eq!(
            (count("amy", Split::Test), count("amy", Split::Val)),
            (3, 3)
        );
        assert_eq!(
            (count("leon", Split::Test), count("leon", Split::Val)),
            (1, 1)
        );
        // duo: one test, then a single song left, which stays in training.
        assert_eq!(
            (count("duo", Split::Test), count("duo", Split::Val)),
            (1, 0)
        );
        assert_eq!(
            (count("trio", Split::Test), count("trio", Split::Val)),
            (1, 1)
        );
        assert_eq!(split.songs.len(), list.len());
        let csv = split.to_csv().expect("csv");
        assert!(csv.starts_with("singer,song,split\n"));
        assert_eq!(csv.lines().filter(|l| l.ends_with(",val")).count(), 5);
    }

    #[test]
    fn song_split_rejects_bad_input() {
        let list = songs(&[("amy", 4)]);
        for fraction in [0.0, 1.0, -0.1, 1.5, f64::NAN] {
            let err = song_split(&list, fraction, 0).expect_err("bad fraction");
            assert!(
                matches!(err, DataError::InvalidFraction { .. }),
                "{fraction}"
            );
        }
        let err = song_split_with_validation(&list, 0.1, 0.0, 0).expect_err("bad val fraction");
        assert!(matches!(err, DataError::InvalidFraction { .. }));
        let err = song_split(&[], 0.1, 0).expect_err("empty");
        assert!(matches!(err, DataError::NothingToSplit { what: "songs" }));
        let mut dup = list.clone();
        dup.push(("leon".into(), "amy_01".into()));
        let err = song_split(&dup, 0.1, 0).expect_err("duplicate");
        assert!(
            matches!(&err, DataError::DuplicateSong { song, first_singer, second_singer }
                if song == "amy_01" && first_singer == "amy" && second_singer == "leon"),
            "{err:?}"
        );
    }
}
