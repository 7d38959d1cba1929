//! Errors from building or parsing a split.

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
