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
//!   Twister and `shuffle`, the private `python_random` module, checked
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
//! - [`Split`] is the side of the partition an item lies on (train, val, test);
//!   [`SplitName`] is the value of a manifest's `split` column, which may also name other splits
//!   (`openset`, `enrol`, ...).
//!
//! Every result is a plain list that serialises to JSON (serde) and to a CSV a

mod album;
mod listing;
mod name;
mod order;
mod python_random;
mod side;
mod song;

pub use album::{AlbumAssignment, AlbumSplit, PAPER_SEEDS, album_split, album_split_with_order};
pub use name::SplitName;
pub use order::ListingOrder;
pub use side::Split;
pub use song::{
    PAPER_SONG_FRACTION, SongAssignment, SongSplit, song_split, song_split_with_validation,
};
