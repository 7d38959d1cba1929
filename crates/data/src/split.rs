//! Train / validation / test splits: the papers' album split, a stratified song
//! split, and the typed split column of a manifest.
//!
//! - [`album_split`] reproduces the album split of Nasrullah & Zhao (2019),
//!   "Music Artist Classification with Convolutional Recurrent Neural
//!   Networks" (IJCNN), which the FGNL authors (Kuo, Wei and Lin, AAAI 2021)
//!   reused unchanged: `load_dataset_album_split` in `src/utility.py` of
//!   `ZainNasrullah/music-artist-classification-crnn` (commit `2c7bcc8`) and
//!   of `ian-k-1217/Fully-Generalized-Non-Local-Network` (`CRNN_FGNL/`,
//!   commit `39b7dd7`). That code calls `random.seed(seed)` once, then for
//!   every artist folder `random.shuffle(albums)`, pops the first album to
//!   test, the next to validation and keeps the rest for training. Every
//!   artist folder takes part in the draws (the class selection by
//!   `RandomState.choice` comes later, and with 20 of artist20's 20 artists
//!   keeps them all). The FGNL runs used the seeds 0, 21 and 42
//!   ([`PAPER_SEEDS`]). singerid runs the same generator (CPython's Mersenne
//!   Twister and `shuffle`, the private `python_random` module below, checked
//!   against CPython) over the same draws, so for the same artist and album
//!   order the albums are the authors'. What nobody can reproduce is their
//!   order: they listed folders with `os.listdir`, whose order depends on the
//!   file system. singerid sorts both levels ([`ListingOrder::CodePoint`],
//!   Python's `sorted()`), or case-folds them ([`ListingOrder::CaseFolded`],
//!   the order NTFS keeps ASCII names in, which is what `os.listdir` returns
//!   on Windows, where the FGNL authors appear to have run: their `main.py`
//!   writes to `.\\result\\`). Either way the split is the authors' routine
//!   under a stated order, not a guaranteed copy of their albums.
//! - [`song_split`] is a stratified, song-disjoint hold-out of a fraction of
//!   each singer's songs. It is deterministic for a seed but it is *not*
//!   scikit-learn's `train_test_split(stratify=...)`, which the authors used
//!   for their song split: the songs held out differ.
//! - [`Split`] is the value of a manifest's `split` column.
//!
//! Every result is a plain list that serialises to JSON (serde) and to a CSV a
//! person can read ([`AlbumSplit::to_csv`], [`SongSplit::to_csv`]).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The seeds of the FGNL paper's three independent runs (`random_state_list` in
/// the authors' `main.py`).
pub const PAPER_SEEDS: [u64; 3] = [0, 21, 42];

/// The fraction of songs the authors held out in their song split
/// (`test_split_size = 0.1`, and again `validation_split_size = 0.1` of the rest).
pub const PAPER_SONG_FRACTION: f64 = 0.1;

/// Errors from building or parsing a split.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    /// An artist has too few albums for one test, one validation and at least
    /// one training album.
    #[error(
        "artist {artist:?} has {found} album(s); the album split needs at least 3 \
         (one for test, one for validation, the rest for training)"
    )]
    TooFewAlbums {
        /// The artist.
        artist: String,
        /// How many distinct albums it has.
        found: usize,
    },
    /// The same album name appears twice under one artist.
    #[error("artist {artist:?} lists album {album:?} more than once")]
    DuplicateAlbum {
        /// The artist.
        artist: String,
        /// The repeated album.
        album: String,
    },
    /// The catalogue handed to a split function is empty.
    #[error("nothing to split: the list of {what} is empty")]
    Empty {
        /// `"artists"` or `"songs"`.
        what: &'static str,
    },
    /// A song key occurs more than once in the song list.
    #[error(
        "song {song:?} is listed more than once (singers {first_singer:?} and {second_singer:?}); \
         song keys must be unique so that a song lies on one side of the split only"
    )]
    DuplicateSong {
        /// The repeated song key.
        song: String,
        /// The singer of its first occurrence.
        first_singer: String,
        /// The singer of the repeated occurrence.
        second_singer: String,
    },
    /// The hold-out fraction is not strictly between 0 and 1.
    #[error("the hold-out fraction must lie strictly between 0 and 1, got {fraction}")]
    InvalidFraction {
        /// The value given.
        fraction: f64,
    },
    /// A manifest's split column holds a value that is not a split name.
    #[error("unknown split {value:?}: expected one of train, val, validation, test")]
    UnknownSplit {
        /// The value found (before trimming).
        value: String,
    },
    /// Writing a split list as CSV failed.
    #[error("writing the split list as CSV")]
    Csv(#[from] csv::Error),
}

/// Which side of the train / validation / test split an item lies on.
///
/// Serialised as `train`, `val` and `test`; `validation` is read as [`Split::Val`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Training data.
    Train,
    /// Validation data (model selection, early stopping).
    #[serde(alias = "validation")]
    Val,
    /// Held-out test data.
    Test,
}

impl Split {
    /// The canonical name: `"train"`, `"val"` or `"test"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Val => "val",
            Self::Test => "test",
        }
    }

    /// Parses the `split` column of a manifest.
    ///
    /// Accepts `train`, `val`, `validation` and `test`, ignoring ASCII case and
    /// surrounding whitespace.
    ///
    /// # Errors
    ///
    /// [`SplitError::UnknownSplit`] for any other value, the empty string included.
    pub fn parse_column(value: &str) -> Result<Self, SplitError> {
        let name = value.trim();
        [
            ("train", Self::Train),
            ("val", Self::Val),
            ("validation", Self::Val),
            ("test", Self::Test),
        ]
        .into_iter()
        .find(|(known, _)| name.eq_ignore_ascii_case(known))
        .map(|(_, split)| split)
        .ok_or_else(|| SplitError::UnknownSplit {
            value: value.to_owned(),
        })
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Split {
    type Err = SplitError;

    /// Same as [`Split::parse_column`].
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse_column(value)
    }
}

/// The order in which artists and albums are visited before the shuffle.
///
/// The generator's stream runs on from one artist to the next, so this order
/// decides every album's side, not just the order of the output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingOrder {
    /// By Unicode code point, as Python's `sorted()` and Rust's `str` ordering:
    /// digits, then upper case, then `_`, then lower case.
    #[default]
    CodePoint,
    /// ASCII letters compared as upper case, ties broken by code point:
    /// Python's `sorted(names, key=lambda s: (s.upper(), s))` for ASCII names.
    /// This is the order NTFS stores a folder in, so the order `os.listdir`
    /// returns on Windows (`_` sorts after the letters).
    CaseFolded,
}

impl ListingOrder {
    fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            Self::CodePoint => a.cmp(b),
            Self::CaseFolded => a
                .chars()
                .map(|c| c.to_ascii_uppercase())
                .cmp(b.chars().map(|c| c.to_ascii_uppercase()))
                .then_with(|| a.cmp(b)),
        }
    }

    fn sort(self, names: &mut [&str]) {
        names.sort_by(|a, b| self.compare(a, b));
    }
}

/// One album and the side it lies on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlbumAssignment {
    /// The artist (singer) folder name.
    pub artist: String,
    /// The album folder name.
    pub album: String,
    /// Where the album's songs go.
    pub split: Split,
}

/// The album split of a catalogue for one seed.
///
/// `albums` lists every album once: per artist (in the listing order) the test
/// album, the validation album, then the training albums in shuffled order,
/// exactly the order in which the authors' code popped them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlbumSplit {
    /// The seed given to [`album_split`].
    pub seed: u64,
    /// The order artists and albums were visited in.
    pub order: ListingOrder,
    /// Every album with its side.
    pub albums: Vec<AlbumAssignment>,
}

impl AlbumSplit {
    /// The side of `album` by `artist`, or `None` when the split does not list it.
    pub fn split_of(&self, artist: &str, album: &str) -> Option<Split> {
        self.albums
            .iter()
            .find(|a| a.artist == artist && a.album == album)
            .map(|a| a.split)
    }

    /// The albums on one side, in the split's order.
    pub fn albums_in(&self, split: Split) -> impl Iterator<Item = &AlbumAssignment> {
        self.albums.iter().filter(move |a| a.split == split)
    }

    /// The album list as CSV with the header `artist,album,split`, one album a
    /// line, in the split's order.
    ///
    /// # Errors
    ///
    /// [`SplitError::Csv`] if the CSV writer fails (it writes to memory, so in
    /// practice it does not).
    pub fn to_csv(&self) -> Result<String, SplitError> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(["artist", "album", "split"])?;
        for a in &self.albums {
            writer.write_record([a.artist.as_str(), a.album.as_str(), a.split.as_str()])?;
        }
        csv_into_string(writer)
    }
}

/// The paper's album split with artists and albums in code-point order.
///
/// Same as [`album_split_with_order`] with [`ListingOrder::CodePoint`].
///
/// # Errors
///
/// As [`album_split_with_order`].
pub fn album_split(
    artists: &BTreeMap<String, Vec<String>>,
    seed: u64,
) -> Result<AlbumSplit, SplitError> {
    album_split_with_order(artists, seed, ListingOrder::CodePoint)
}

/// The paper's album split: one album per artist to test, one to validation,
/// the rest to training.
///
/// Seeds CPython's `random` with `seed` once, then for every artist in `order`:
/// sorts its album names in `order`, shuffles them with `random.shuffle`'s
/// algorithm, and assigns the first to [`Split::Test`], the second to
/// [`Split::Val`] and the rest to [`Split::Train`]. The generator runs on
/// across artists, as in the authors' loop, so adding or removing an artist
/// changes the albums drawn for the artists after it.
///
/// # Parameters
///
/// - `artists`: artist name -> album names (any order; each album once).
///   Every artist present takes part in the split.
/// - `seed`: the seed of `random.seed(seed)`; the paper used 0, 21 and 42
///   ([`PAPER_SEEDS`]).
/// - `order`: the listing order of artists and albums (see [`ListingOrder`]).
///
/// # Errors
///
/// - [`SplitError::Empty`] if `artists` is empty.
/// - [`SplitError::DuplicateAlbum`] if an artist lists an album twice.
/// - [`SplitError::TooFewAlbums`] naming the first artist (in `order`) with
///   fewer than 3 albums.
pub fn album_split_with_order(
    artists: &BTreeMap<String, Vec<String>>,
    seed: u64,
    order: ListingOrder,
) -> Result<AlbumSplit, SplitError> {
    if artists.is_empty() {
        return Err(SplitError::Empty { what: "artists" });
    }
    let mut artist_names: Vec<&str> = artists.keys().map(String::as_str).collect();
    order.sort(&mut artist_names);

    let mut rng = python_random::PythonRandom::seed(seed);
    let mut assignments = Vec::new();
    for artist in artist_names {
        let albums = artists.get(artist).map(Vec::as_slice).unwrap_or_default();
        let mut names: Vec<&str> = albums.iter().map(String::as_str).collect();
        order.sort(&mut names);
        if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(SplitError::DuplicateAlbum {
                artist: artist.to_owned(),
                album: pair[0].to_owned(),
            });
        }
        if names.len() < 3 {
            return Err(SplitError::TooFewAlbums {
                artist: artist.to_owned(),
                found: names.len(),
            });
        }
        rng.shuffle(&mut names);
        for (position, album) in names.into_iter().enumerate() {
            let split = match position {
                0 => Split::Test,
                1 => Split::Val,
                _ => Split::Train,
            };
            assignments.push(AlbumAssignment {
                artist: artist.to_owned(),
                album: album.to_owned(),
                split,
            });
        }
    }
    Ok(AlbumSplit {
        seed,
        order,
        albums: assignments,
    })
}

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
    /// [`SplitError::Csv`] if the CSV writer fails (it writes to memory, so in
    /// practice it does not).
    pub fn to_csv(&self) -> Result<String, SplitError> {
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
/// - [`SplitError::InvalidFraction`] unless `0 < fraction < 1`.
/// - [`SplitError::Empty`] if `songs` is empty.
/// - [`SplitError::DuplicateSong`] if a song key occurs twice.
pub fn song_split(
    songs: &[(String, String)],
    fraction: f64,
    seed: u64,
) -> Result<SongSplit, SplitError> {
    let by_singer = songs_by_singer(songs, fraction)?;
    let mut rng = python_random::PythonRandom::seed(seed);
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
) -> Result<SongSplit, SplitError> {
    if !(val_fraction > 0.0 && val_fraction < 1.0) {
        return Err(SplitError::InvalidFraction {
            fraction: val_fraction,
        });
    }
    let by_singer = songs_by_singer(songs, test_fraction)?;
    let mut rng = python_random::PythonRandom::seed(seed);
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
) -> Result<BTreeMap<&str, Vec<&str>>, SplitError> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(SplitError::InvalidFraction { fraction });
    }
    if songs.is_empty() {
        return Err(SplitError::Empty { what: "songs" });
    }
    let mut singer_of: BTreeMap<&str, &str> = BTreeMap::new();
    for (singer, song) in songs {
        if let Some(first) = singer_of.insert(song.as_str(), singer.as_str()) {
            return Err(SplitError::DuplicateSong {
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
    rng: &mut python_random::PythonRandom,
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

fn csv_into_string(writer: csv::Writer<Vec<u8>>) -> Result<String, SplitError> {
    let bytes = writer
        .into_inner()
        .map_err(|e| SplitError::Csv(csv::Error::from(e.into_error())))?;
    // Every field written is a `&str`, so the bytes are UTF-8.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// CPython's `random` module, the parts the authors' split used: `seed(int)`,
/// `getrandbits` and `shuffle` (unchanged since Python 3.2).
///
/// The generator is MT19937 (M. Matsumoto and T. Nishimura, "Mersenne Twister:
/// a 623-dimensionally equidistributed uniform pseudo-random number
/// generator", ACM TOMACS 8(1), 1998), seeded with `init_by_array` over the
/// 32-bit words of the seed, least significant first, as CPython's
/// `random_seed` does for an integer. Verified against CPython 3.11 by the
/// tests below (`tools/split_reference.py`).
mod python_random {
    const N: usize = 624;
    const M: usize = 397;
    const MATRIX_A: u32 = 0x9908_b0df;
    const UPPER_MASK: u32 = 0x8000_0000;
    const LOWER_MASK: u32 = 0x7fff_ffff;

    pub(super) struct PythonRandom {
        state: [u32; N],
        index: usize,
    }

    impl PythonRandom {
        /// `random.seed(seed)` for a non-negative integer seed.
        pub(super) fn seed(seed: u64) -> Self {
            let low = seed as u32; // the low 32-bit word, truncation intended
            let high = (seed >> 32) as u32;
            // CPython uses as many words as the integer needs, and one for 0.
            if high == 0 {
                Self::from_key(&[low])
            } else {
                Self::from_key(&[low, high])
            }
        }

        /// MT19937 `init_genrand`.
        fn from_u32(s: u32) -> Self {
            let mut state = [0_u32; N];
            state[0] = s;
            for i in 1..N {
                let prev = state[i - 1];
                state[i] = 1_812_433_253_u32
                    .wrapping_mul(prev ^ (prev >> 30))
                    .wrapping_add(i as u32);
            }
            Self { state, index: N }
        }

        /// MT19937 `init_by_array`; `key` is never empty.
        fn from_key(key: &[u32]) -> Self {
            let mut g = Self::from_u32(19_650_218);
            let mt = &mut g.state;
            let mut i = 1_usize;
            let mut j = 0_usize;
            for _ in 0..N.max(key.len()) {
                let prev = mt[i - 1];
                mt[i] = (mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_664_525))
                    .wrapping_add(key[j])
                    .wrapping_add(j as u32);
                i += 1;
                j += 1;
                if i >= N {
                    mt[0] = mt[N - 1];
                    i = 1;
                }
                if j >= key.len() {
                    j = 0;
                }
            }
            for _ in 0..N - 1 {
                let prev = mt[i - 1];
                mt[i] = (mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_566_083_941))
                    .wrapping_sub(i as u32);
                i += 1;
                if i >= N {
                    mt[0] = mt[N - 1];
                    i = 1;
                }
            }
            mt[0] = UPPER_MASK; // non-zero initial state is assured
            g
        }

        /// The next raw 32-bit output (`genrand_uint32`).
        pub(super) fn next_u32(&mut self) -> u32 {
            if self.index >= N {
                self.twist();
            }
            let mut y = self.state[self.index];
            self.index += 1;
            y ^= y >> 11;
            y ^= (y << 7) & 0x9d2c_5680;
            y ^= (y << 15) & 0xefc6_0000;
            y ^ (y >> 18)
        }

        fn twist(&mut self) {
            let mt = &mut self.state;
            for k in 0..N {
                let y = (mt[k] & UPPER_MASK) | (mt[(k + 1) % N] & LOWER_MASK);
                let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
                mt[k] = mt[(k + M) % N] ^ (y >> 1) ^ mag;
            }
            self.index = 0;
        }

        /// `random.getrandbits(k)` for `1 <= k <= 64`: 32-bit words, least
        /// significant first, the last one cut to the remaining bits.
        pub(super) fn getrandbits(&mut self, k: u32) -> u64 {
            debug_assert!((1..=64).contains(&k));
            if k <= 32 {
                return u64::from(self.next_u32() >> (32 - k));
            }
            let low = u64::from(self.next_u32());
            let high = u64::from(self.next_u32() >> (64 - k));
            low | (high << 32)
        }

        /// `random._randbelow(n)` for `n >= 1`: rejection sampling on
        /// `getrandbits(n.bit_length())`.
        pub(super) fn randbelow(&mut self, n: u64) -> u64 {
            let k = u64::BITS - n.leading_zeros();
            loop {
                let r = self.getrandbits(k);
                if r < n {
                    return r;
                }
            }
        }

        /// `random.shuffle(x)`: Fisher-Yates from the end,
        /// `for i in reversed(range(1, len(x))): j = randbelow(i + 1); swap`.
        pub(super) fn shuffle<T>(&mut self, x: &mut [T]) {
            for i in (1..x.len()).rev() {
                // `i + 1 <= x.len()`, far below 2^64; `j <= i`.
                let j = self.randbelow(i as u64 + 1) as usize;
                x.swap(i, j);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Reference values: `python3 tools/split_reference.py` (CPython 3.11.7).

    use super::python_random::PythonRandom;
    use super::*;

    fn catalogue() -> BTreeMap<String, Vec<String>> {
        // The synthetic catalogue of tools/split_reference.py.
        let raw: [(&str, &[&str]); 7] = [
            (
                "u2",
                &[
                    "The_Joshua_Tree",
                    "Achtung_Baby",
                    "Boy",
                    "October",
                    "War",
                    "Zooropa",
                ],
            ),
            (
                "aerosmith",
                &[
                    "Pump",
                    "Get_A_Grip",
                    "Aerosmith",
                    "Toys_in_the_Attic",
                    "Rocks",
                    "Nine_Lives",
                ],
            ),
            (
                "beatles",
                &[
                    "Abbey_Road",
                    "Help_",
                    "Let_It_Be",
                    "Revolver",
                    "Rubber_Soul",
                    "A_Hard_Day_s_Night",
                ],
            ),
            (
                "queen",
                &[
                    "A_Night_at_the_Opera",
                    "A_Kind_of_Magic",
                    "Innuendo",
                    "Jazz",
                    "News_of_the_World",
                    "The_Game",
                ],
            ),
            (
                "tori_amos",
                &[
                    "Little_Earthquakes",
                    "Boys_for_Pele",
                    "from_the_choirgirl_hotel",
                    "To_Venus_and_Back",
                    "Scarlet_s_Walk",
                    "B_sides",
                ],
            ),
            (
                "cure",
                &["Disintegration", "Wish", "Bloodflowers", "Pornography"],
            ),
            ("prince", &["1999", "Purple_Rain", "Sign_O_The_Times"]),
        ];
        raw.iter()
            .map(|(artist, albums)| {
                let albums = albums.iter().map(|a| (*a).to_owned()).collect();
                ((*artist).to_owned(), albums)
            })
            .collect()
    }

    #[test]
    fn mt19937_matches_cpython_getrandbits_32() {
        let expected: [(u64, [u32; 8]); 4] = [
            (
                0,
                [
                    3626764237, 1654615998, 3255389356, 3823568514, 1806341205, 173879092,
                    1112038970, 4146640122,
                ],
            ),
            (
                21,
                [
                    708452615, 1795269057, 2962526392, 1795425522, 2727303991, 1207989654,
                    2057720845, 3621853979,
                ],
            ),
            (
                42,
                [
                    2746317213, 478163327, 107420369, 3184935163, 1181241943, 1051802512,
                    958682846, 599310825,
                ],
            ),
            (
                (1 << 40) + 5,
                [
                    2166296868, 2220160828, 1153647273, 2850991874, 3976222944, 117802120,
                    2280452553, 3257480346,
                ],
            ),
        ];
        for (seed, words) in expected {
            let mut rng = PythonRandom::seed(seed);
            let got: Vec<u32> = (0..8).map(|_| rng.next_u32()).collect();
            assert_eq!(got, words, "seed {seed}");
        }
    }

    #[test]
    fn mt19937_twists_past_the_first_624_words() {
        // 2000 draws cross three twists; outputs must stay distinct from the first block.
        let mut rng = PythonRandom::seed(42);
        let words: Vec<u32> = (0..2000).map(|_| rng.next_u32()).collect();
        assert_ne!(words[..624], words[624..1248]);
        assert_eq!(words[0], 2746317213);
    }

    #[test]
    fn shuffle_matches_cpython_random_shuffle() {
        // `random.seed(s)`, then `random.shuffle(list(range(n)))` for n = 0..=12 in turn.
        let expected: [(u64, [&[usize]; 13]); 3] = [
            (
                0,
                [
                    &[],
                    &[0],
                    &[0, 1],
                    &[2, 0, 1],
                    &[0, 1, 3, 2],
                    &[0, 4, 1, 2, 3],
                    &[2, 0, 3, 5, 1, 4],
                    &[1, 5, 3, 2, 4, 0, 6],
                    &[3, 7, 1, 2, 6, 5, 0, 4],
                    &[0, 7, 8, 3, 1, 4, 2, 6, 5],
                    &[4, 1, 2, 6, 3, 5, 7, 9, 8, 0],
                    &[2, 9, 0, 8, 6, 4, 7, 1, 10, 3, 5],
                    &[10, 6, 3, 9, 4, 2, 0, 7, 8, 5, 11, 1],
                ],
            ),
            (
                21,
                [
                    &[],
                    &[0],
                    &[1, 0],
                    &[0, 2, 1],
                    &[3, 0, 1, 2],
                    &[4, 0, 2, 1, 3],
                    &[4, 1, 3, 2, 5, 0],
                    &[3, 6, 2, 4, 5, 1, 0],
                    &[2, 1, 0, 7, 4, 3, 5, 6],
                    &[1, 4, 3, 6, 2, 0, 5, 7, 8],
                    &[5, 8, 6, 3, 2, 4, 9, 7, 0, 1],
                    &[10, 4, 8, 6, 5, 1, 9, 3, 7, 0, 2],
                    &[0, 11, 1, 10, 7, 9, 4, 2, 5, 3, 6, 8],
                ],
            ),
            (
                42,
                [
                    &[],
                    &[0],
                    &[1, 0],
                    &[2, 1, 0],
                    &[3, 2, 0, 1],
                    &[3, 1, 2, 4, 0],
                    &[1, 2, 3, 4, 5, 0],
                    &[5, 3, 2, 1, 0, 6, 4],
                    &[5, 1, 6, 0, 2, 4, 7, 3],
                    &[7, 8, 3, 0, 2, 6, 1, 4, 5],
                    &[9, 6, 7, 3, 0, 2, 4, 8, 5, 1],
                    &[9, 0, 3, 2, 7, 5, 10, 4, 8, 1, 6],
                    &[7, 2, 5, 8, 6, 10, 9, 4, 3, 0, 1, 11],
                ],
            ),
        ];
        for (seed, lists) in expected {
            let mut rng = PythonRandom::seed(seed);
            for (n, want) in lists.iter().enumerate() {
                let mut xs: Vec<usize> = (0..n).collect();
                rng.shuffle(&mut xs);
                assert_eq!(&xs, want, "seed {seed}, n {n}");
            }
        }
    }

    #[test]
    fn getrandbits_wider_than_32_matches_cpython() {
        // random.seed(5); getrandbits(40), getrandbits(64), getrandbits(33).
        let mut rng = PythonRandom::seed(5);
        assert_eq!(rng.getrandbits(40), 281_848_216_645);
        assert_eq!(rng.getrandbits(64), 6_613_812_840_851_947_673);
        assert_eq!(rng.getrandbits(33), 7_710_297_655);
    }

    #[test]
    fn randbelow_never_reaches_its_bound() {
        let mut rng = PythonRandom::seed(7);
        for n in [1_u64, 2, 3, 5, 8, 1000, (1 << 33) + 1] {
            for _ in 0..200 {
                assert!(rng.randbelow(n) < n);
            }
        }
    }

    /// `seed 0 album split, code point order` of tools/split_reference.py.
    const SEED_0_CSV: &str = "artist,album,split\n\
        aerosmith,Rocks,test\n\
        aerosmith,Nine_Lives,val\n\
        aerosmith,Get_A_Grip,train\n\
        aerosmith,Aerosmith,train\n\
        aerosmith,Toys_in_the_Attic,train\n\
        aerosmith,Pump,train\n\
        beatles,Revolver,test\n\
        beatles,A_Hard_Day_s_Night,val\n\
        beatles,Abbey_Road,train\n\
        beatles,Rubber_Soul,train\n\
        beatles,Help_,train\n\
        beatles,Let_It_Be,train\n\
        cure,Pornography,test\n\
        cure,Bloodflowers,val\n\
        cure,Wish,train\n\
        cure,Disintegration,train\n\
        prince,Sign_O_The_Times,test\n\
        prince,Purple_Rain,val\n\
        prince,1999,train\n\
        queen,Innuendo,test\n\
        queen,A_Kind_of_Magic,val\n\
        queen,Jazz,train\n\
        queen,A_Night_at_the_Opera,train\n\
        queen,The_Game,train\n\
        queen,News_of_the_World,train\n\
        tori_amos,Scarlet_s_Walk,test\n\
        tori_amos,To_Venus_and_Back,val\n\
        tori_amos,Boys_for_Pele,train\n\
        tori_amos,Little_Earthquakes,train\n\
        tori_amos,B_sides,train\n\
        tori_amos,from_the_choirgirl_hotel,train\n\
        u2,Boy,test\n\
        u2,Achtung_Baby,val\n\
        u2,War,train\n\
        u2,Zooropa,train\n\
        u2,The_Joshua_Tree,train\n\
        u2,October,train\n";

    /// `seed 21 album split, code point order`.
    const SEED_21_CSV: &str = "artist,album,split\n\
        aerosmith,Aerosmith,test\n\
        aerosmith,Toys_in_the_Attic,val\n\
        aerosmith,Nine_Lives,train\n\
        aerosmith,Rocks,train\n\
        aerosmith,Pump,train\n\
        aerosmith,Get_A_Grip,train\n\
        beatles,Revolver,test\n\
        beatles,A_Hard_Day_s_Night,val\n\
        beatles,Help_,train\n\
        beatles,Rubber_Soul,train\n\
        beatles,Abbey_Road,train\n\
        beatles,Let_It_Be,train\n\
        cure,Wish,test\n\
        cure,Pornography,val\n\
        cure,Bloodflowers,train\n\
        cure,Disintegration,train\n\
        prince,1999,test\n\
        prince,Sign_O_The_Times,val\n\
        prince,Purple_Rain,train\n\
        queen,Jazz,test\n\
        queen,Innuendo,val\n\
        queen,The_Game,train\n\
        queen,News_of_the_World,train\n\
        queen,A_Night_at_the_Opera,train\n\
        queen,A_Kind_of_Magic,train\n\
        tori_amos,Little_Earthquakes,test\n\
        tori_amos,Boys_for_Pele,val\n\
        tori_amos,B_sides,train\n\
        tori_amos,To_Venus_and_Back,train\n\
        tori_amos,from_the_choirgirl_hotel,train\n\
        tori_amos,Scarlet_s_Walk,train\n\
        u2,Zooropa,test\n\
        u2,Boy,val\n\
        u2,October,train\n\
        u2,Achtung_Baby,train\n\
        u2,The_Joshua_Tree,train\n\
        u2,War,train\n";

    /// `seed 42 album split, code point order`.
    const SEED_42_CSV: &str = "artist,album,split\n\
        aerosmith,Pump,test\n\
        aerosmith,Get_A_Grip,val\n\
        aerosmith,Nine_Lives,train\n\
        aerosmith,Rocks,train\n\
        aerosmith,Aerosmith,train\n\
        aerosmith,Toys_in_the_Attic,train\n\
        beatles,Let_It_Be,test\n\
        beatles,A_Hard_Day_s_Night,val\n\
        beatles,Help_,train\n\
        beatles,Revolver,train\n\
        beatles,Rubber_Soul,train\n\
        beatles,Abbey_Road,train\n\
        cure,Wish,test\n\
        cure,Disintegration,val\n\
        cure,Pornography,train\n\
        cure,Bloodflowers,train\n\
        prince,Purple_Rain,test\n\
        prince,Sign_O_The_Times,val\n\
        prince,1999,train\n\
        queen,Jazz,test\n\
        queen,The_Game,val\n\
        queen,Innuendo,train\n\
        queen,News_of_the_World,train\n\
        queen,A_Night_at_the_Opera,train\n\
        queen,A_Kind_of_Magic,train\n\
        tori_amos,Little_Earthquakes,test\n\
        tori_amos,from_the_choirgirl_hotel,val\n\
        tori_amos,B_sides,train\n\
        tori_amos,Scarlet_s_Walk,train\n\
        tori_amos,Boys_for_Pele,train\n\
        tori_amos,To_Venus_and_Back,train\n\
        u2,Zooropa,test\n\
        u2,Boy,val\n\
        u2,The_Joshua_Tree,train\n\
        u2,Achtung_Baby,train\n\
        u2,October,train\n\
        u2,War,train\n";

    /// `seed 42 album split, case-folded order`: only the artists whose albums
    /// sort differently (beatles, tori_amos) change.
    const SEED_42_CASE_FOLDED_CSV: &str = "artist,album,split\n\
        aerosmith,Pump,test\n\
        aerosmith,Get_A_Grip,val\n\
        aerosmith,Nine_Lives,train\n\
        aerosmith,Rocks,train\n\
        aerosmith,Aerosmith,train\n\
        aerosmith,Toys_in_the_Attic,train\n\
        beatles,Let_It_Be,test\n\
        beatles,Abbey_Road,val\n\
        beatles,Help_,train\n\
        beatles,Revolver,train\n\
        beatles,Rubber_Soul,train\n\
        beatles,A_Hard_Day_s_Night,train\n\
        cure,Wish,test\n\
        cure,Disintegration,val\n\
        cure,Pornography,train\n\
        cure,Bloodflowers,train\n\
        prince,Purple_Rain,test\n\
        prince,Sign_O_The_Times,val\n\
        prince,1999,train\n\
        queen,Jazz,test\n\
        queen,The_Game,val\n\
        queen,Innuendo,train\n\
        queen,News_of_the_World,train\n\
        queen,A_Night_at_the_Opera,train\n\
        queen,A_Kind_of_Magic,train\n\
        tori_amos,from_the_choirgirl_hotel,test\n\
        tori_amos,To_Venus_and_Back,val\n\
        tori_amos,Boys_for_Pele,train\n\
        tori_amos,Little_Earthquakes,train\n\
        tori_amos,B_sides,train\n\
        tori_amos,Scarlet_s_Walk,train\n\
        u2,Zooropa,test\n\
        u2,Boy,val\n\
        u2,The_Joshua_Tree,train\n\
        u2,Achtung_Baby,train\n\
        u2,October,train\n\
        u2,War,train\n";

    #[test]
    fn album_split_matches_the_authors_routine_for_the_paper_seeds() {
        let catalogue = catalogue();
        for (seed, want) in [(0, SEED_0_CSV), (21, SEED_21_CSV), (42, SEED_42_CSV)] {
            let split = album_split(&catalogue, seed).expect("valid catalogue");
            assert_eq!(split.seed, seed);
            assert_eq!(split.to_csv().expect("csv"), want, "seed {seed}");
        }
    }

    #[test]
    fn case_folded_order_matches_python_and_differs_from_code_point_order() {
        let split = album_split_with_order(&catalogue(), 42, ListingOrder::CaseFolded)
            .expect("valid catalogue");
        assert_eq!(split.to_csv().expect("csv"), SEED_42_CASE_FOLDED_CSV);
        assert_ne!(SEED_42_CASE_FOLDED_CSV, SEED_42_CSV);
    }

    #[test]
    fn listing_orders_sort_as_python() {
        // sorted(...) and sorted(..., key=lambda s: (s.upper(), s)) in Python.
        let names = ["B_sides", "Bad", "abc", "Abd", "1999"];
        let mut code_point = names.to_vec();
        ListingOrder::CodePoint.sort(&mut code_point);
        assert_eq!(code_point, ["1999", "Abd", "B_sides", "Bad", "abc"]);
        let mut folded = names.to_vec();
        ListingOrder::CaseFolded.sort(&mut folded);
        assert_eq!(folded, ["1999", "abc", "Abd", "Bad", "B_sides"]);
    }

    #[test]
    fn album_split_is_independent_of_input_album_order() {
        let mut reversed = catalogue();
        for albums in reversed.values_mut() {
            albums.reverse();
        }
        for seed in PAPER_SEEDS {
            let a = album_split(&catalogue(), seed).expect("valid");
            let b = album_split(&reversed, seed).expect("valid");
            assert_eq!(a, b);
        }
    }

    #[test]
    fn album_split_gives_each_artist_one_test_one_val_album_and_covers_all() {
        let catalogue = catalogue();
        for seed in 0..50 {
            let split = album_split(&catalogue, seed).expect("valid");
            let listed: usize = catalogue.values().map(Vec::len).sum();
            assert_eq!(split.albums.len(), listed);
            for (artist, albums) in &catalogue {
                let sides: Vec<Split> = albums
                    .iter()
                    .map(|album| split.split_of(artist, album).expect("album listed"))
                    .collect();
                let count = |s| sides.iter().filter(|&&x| x == s).count();
                assert_eq!(count(Split::Test), 1, "{artist} seed {seed}");
                assert_eq!(count(Split::Val), 1, "{artist} seed {seed}");
                assert_eq!(
                    count(Split::Train),
                    albums.len() - 2,
                    "{artist} seed {seed}"
                );
            }
        }
    }

    #[test]
    fn album_split_rejects_an_artist_with_two_albums_by_name() {
        let mut catalogue = catalogue();
        catalogue.insert(
            "madonna".into(),
            vec!["Ray_of_Light".into(), "Music".into()],
        );
        let err = album_split(&catalogue, 0).expect_err("two albums are too few");
        assert!(
            matches!(&err, SplitError::TooFewAlbums { artist, found: 2 } if artist == "madonna"),
            "{err:?}"
        );
        assert!(err.to_string().contains("madonna"));
    }

    #[test]
    fn album_split_rejects_duplicates_and_empty_input() {
        let mut catalogue = catalogue();
        catalogue.insert(
            "abba".into(),
            vec!["Arrival".into(), "Gold".into(), "Arrival".into()],
        );
        let err = album_split(&catalogue, 0).expect_err("duplicate album");
        assert!(
            matches!(&err, SplitError::DuplicateAlbum { artist, album } if artist == "abba" && album == "Arrival"),
            "{err:?}"
        );
        let err = album_split(&BTreeMap::new(), 0).expect_err("empty");
        assert!(matches!(err, SplitError::Empty { what: "artists" }));
    }

    #[test]
    fn album_split_csv_and_json_are_readable() {
        let mut small = BTreeMap::new();
        small.insert(
            "prince".to_owned(),
            vec![
                "1999".to_owned(),
                "Purple_Rain".to_owned(),
                "Sign_O_The_Times".to_owned(),
            ],
        );
        let split = album_split(&small, 42).expect("valid");
        // In Python: random.seed(42); x = ["1999", "Purple_Rain", "Sign_O_The_Times"];
        // random.shuffle(x) gives ["Purple_Rain", "1999", "Sign_O_The_Times"].
        let csv = split.to_csv().expect("csv");
        assert_eq!(
            csv,
            "artist,album,split\nprince,Purple_Rain,test\nprince,1999,val\nprince,Sign_O_The_Times,train\n"
        );
        let json = serde_json::to_string(&split).expect("json");
        assert!(json.contains(r#""split":"test""#), "{json}");
        assert!(json.contains(r#""order":"code_point""#), "{json}");
        let back: AlbumSplit = serde_json::from_str(&json).expect("round trip");
        assert_eq!(back, split);
    }

    #[test]
    fn split_column_parses_known_names_and_rejects_others() {
        for (text, want) in [
            ("train", Split::Train),
            ("val", Split::Val),
            ("validation", Split::Val),
            ("test", Split::Test),
            (" Test ", Split::Test),
            ("VALIDATION", Split::Val),
        ] {
            assert_eq!(text.parse::<Split>().expect(text), want);
        }
        for bad in ["", "dev", "training", "tst", "valid"] {
            let err = Split::parse_column(bad).expect_err(bad);
            assert!(matches!(err, SplitError::UnknownSplit { .. }), "{bad}");
        }
    }

    #[test]
    fn split_serde_uses_snake_case_and_reads_validation() {
        assert_eq!(
            serde_json::to_string(&Split::Val).expect("json"),
            r#""val""#
        );
        let parsed: Split = serde_json::from_str(r#""validation""#).expect("alias");
        assert_eq!(parsed, Split::Val);
        assert!(serde_json::from_str::<Split>(r#""dev""#).is_err());
        assert_eq!(Split::Train.to_string(), "train");
    }

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
                matches!(err, SplitError::InvalidFraction { .. }),
                "{fraction}"
            );
        }
        let err = song_split_with_validation(&list, 0.1, 0.0, 0).expect_err("bad val fraction");
        assert!(matches!(err, SplitError::InvalidFraction { .. }));
        let err = song_split(&[], 0.1, 0).expect_err("empty");
        assert!(matches!(err, SplitError::Empty { what: "songs" }));
        let mut dup = list.clone();
        dup.push(("leon".into(), "amy_01".into()));
        let err = song_split(&dup, 0.1, 0).expect_err("duplicate");
        assert!(
            matches!(&err, SplitError::DuplicateSong { song, first_singer, second_singer }
                if song == "amy_01" && first_singer == "amy" && second_singer == "leon"),
            "{err:?}"
        );
    }
}
