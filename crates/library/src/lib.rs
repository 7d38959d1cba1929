//! singerid-library: the music library as an embedded SQLite database.
//!
//! - [`db`]: [`Library`] (open, schema versioned with migrations) and its rows: models (by
//!   fingerprint), recordings (path, content hash, duration), each model's analysis of each
//!   recording (the decision, the embedding, every clip), singers (the model's classes and the
//!   enrolled ones) and per-model settings such as the enrolment threshold.
//! - [`scan`](mod@scan): audio files -> skip what the database has (path, size, time, then
//!   content hash) -> [`singerid_infer::identify`] in chunks -> one transaction per chunk.
//! - [`enrol`](mod@enrol): a singer from a few recordings (scanned, then their profile), and
//!   [`identify_open`]: identification among trained and enrolled singers.
//! - [`open_set`]: profiles, cosine similarity, the decision rule and the calibration of its
//!   threshold ([`OpenSetCalibration`], stored beside a model as `open_set.json`).
//! - [`similar`](mod@similar): nearest recordings and singers to a file, recording or singer.
//! - [`eval_open`](mod@eval_open): the open-set evaluation on a dataset (enrol held-out singers
//!   from some songs, identify their others).
//! - [`paths`]: the default database and cache locations.

pub mod db;
pub mod enrol;
pub mod error;
pub mod eval_open;
pub mod open_set;
pub mod paths;
pub mod scan;
pub mod similar;

pub use db::{Library, ModelFingerprint};
pub use enrol::{EnrolSummary, OpenIdentification, enrol, forget, identify_open};
pub use error::LibraryError;
pub use open_set::{OpenSetCalibration, OpenSetResult};
pub use scan::{ScanSummary, scan};
pub use similar::{Query, Similar, similar};
