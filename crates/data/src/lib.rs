//! Datasets and the feature cache of singerid.
//!
//! - [`Dataset`] lists the [`Recording`]s of a corpus (path, singer, album, song, split), read
//!   from an artist20-style tree ([`tree`]: `<root>/<artist>/<album>/<song>.<ext>`) or a manifest
//!   CSV ([`manifest`]: `path,singer[,album][,song][,split]`). Entries that cannot be read are
//!   collected as [`Dataset::problems`] rather than stopping the listing.
//! - [`FeatureCache`] ([`cache`]) stores one safetensors log-mel file per recording, keyed by a
//!   blake3 hash of the audio bytes, the feature config and the feature algorithm version, with
//!   an index beside them. [`FeatureCache::extract`] fills it in parallel (bad files become
//!   per-file [`Outcome::Failed`]s, never a stopped batch); [`FeatureCache::get`] reads one back.
//!
//! - [`partition()`] divides a dataset into train / validation / test recordings by the manifest's
//!   split column (rows of other split names are kept aside),  the papers' album split or a song split ([`split`]), never splitting a song;
//!   [`clip`] slices recordings into fixed-length clips.
//!
//! Data flows `Dataset::open` -> `FeatureCache::create` -> `FeatureCache::extract` (which calls
//! `singerid_audio::features_from_file`) -> `FeatureCache::get` at training time.
//! [`DataError`] is the one error type.

pub mod atomic;
pub mod cache;
pub mod clip;
pub mod dataset;
pub mod error;
pub mod manifest;
pub mod partition;
pub mod progress;
pub mod split;
pub mod tree;

pub use cache::{
    CacheOptions, ConfigIdentity, FeatureCache, FeatureKey, IndexEntry, Outcome, RecordingOutcome,
};
pub use dataset::{AUDIO_EXTENSIONS, Dataset, DatasetSource, Recording, is_audio_path};
pub use error::DataError;
pub use partition::{Partition, PartitionMode, partition, song_key};
pub use progress::{Progress, Silent};
pub use split::{Split, SplitName};
