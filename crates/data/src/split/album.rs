//! The papers' album split: per artist one test album, one validation album, the rest for
//! training, drawn with CPython's `random.shuffle` (see the [`super`] overview).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::listing::csv_into_string;
use super::python_random::PythonRandom;
use super::{ListingOrder, Split};
use crate::error::DataError;

/// The seeds of the FGNL paper's three independent runs (`random_state_list` in
/// the authors' `main.py`).
pub const PAPER_SEEDS: [u64; 3] = [0, 21, 42];

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
    /// [`DataError::SplitCsv`] if the CSV writer fails (it writes to memory, so in
    /// practice it does not).
    pub fn to_csv(&self) -> Result<String, DataError> {
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
) -> Result<AlbumSplit, DataError> {
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
/// - [`DataError::NothingToSplit`] if `artists` is empty.
/// - [`DataError::DuplicateAlbum`] if an artist lists an album twice.
/// - [`DataError::TooFewAlbums`] naming the first artist (in `order`) with
///   fewer than 3 albums.
pub fn album_split_with_order(
    artists: &BTreeMap<String, Vec<String>>,
    seed: u64,
    order: ListingOrder,
) -> Result<AlbumSplit, DataError> {
    if artists.is_empty() {
        return Err(DataError::NothingToSplit { what: "artists" });
    }
    let mut artist_names: Vec<&str> = artists.keys().map(String::as_str).collect();
    order.sort(&mut artist_names);

    let mut rng = PythonRandom::seed(seed);
    let mut assignments = Vec::new();
    for artist in artist_names {
        let albums = artists.get(artist).map(Vec::as_slice).unwrap_or_default();
        let mut names: Vec<&str> = albums.iter().map(String::as_str).collect();
        order.sort(&mut names);
        if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(DataError::DuplicateAlbum {
                artist: artist.to_owned(),
                album: pair[0].to_owned(),
            });
        }
        if names.len() < 3 {
            return Err(DataError::TooFewAlbums {
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

#[cfg(test)]
mod tests {
    //! Reference values: `python3 tools/split_reference.py` (CPython 3.11.7).

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
            matches!(&err, DataError::TooFewAlbums { artist, found: 2 } if artist == "madonna"),
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
            matches!(&err, DataError::DuplicateAlbum { artist, album } if artist == "abba" && album == "Arrival"),
            "{err:?}"
        );
        let err = album_split(&BTreeMap::new(), 0).expect_err("empty");
        assert!(matches!(err, DataError::NothingToSplit { what: "artists" }));
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
}
