//! Training and evaluation of the singer-identification models.
//!
//! So far this crate holds the paper's evaluation (Kuo, Wei and Lin, "Positions,
//! Channels, and Layers: Fully Generalized Non-Local Network for Singer
//! Identification", AAAI 2021; the protocol of Nasrullah & Zhao 2019):
//!
//! - [`metrics`]: a [`ConfusionMatrix`] (rows = true class) built from clip or
//!   song labels, and from it accuracy, per-class precision / recall / F1,
//!   macro and weighted averages with scikit-learn's conventions, and the
//!   row-normalised matrix, gathered in a [`ClassificationReport`].
//! - [`vote`]: the song-level decision, a majority vote over a song's clips
//!   that counts only confident clips ([`song_vote`], [`song_votes`]), and
//!   the songs' true classes ([`song_labels`]).
//!
//! Data flows: clip softmax outputs -> argmax -> [`ConfusionMatrix`] (frame
//! level); clip softmax outputs grouped by song -> [`song_votes`] (with
//! [`song_labels`] for the truth) -> [`ConfusionMatrix`] (song level). The
//! training loop, checkpoints, reports and plots come later. [`Error`] is the
//! one error type.

pub mod bundle;
pub mod clips;
pub mod error;
pub mod evaluate;
pub mod metrics;
pub mod plot;
pub mod predict;
pub mod predictions;
pub mod report;
pub mod reproduce;
pub mod trainer;
pub mod tsne;
pub mod vote;

pub use bundle::{Bundle, BundleMeta};
pub use clips::ClipSet;
pub use error::Error;
pub use evaluate::{Evaluation, LevelScores, UnknownSinger, evaluate};
pub use metrics::{Averages, ClassScores, ClassificationReport, ConfusionMatrix};
pub use predict::predict;
pub use predictions::Predictions;
pub use report::{CurvePoint, ReportFiles, RunInfo, write_report};
pub use trainer::{
    Control, EpochLog, RunSpec, StepProgress, StopReason, TrainConfig, TrainObserver, TrainOutcome,
    train,
};
pub use tsne::{TsneConfig, tsne};
pub use vote::{CONFIDENCE_THRESHOLD, ClipPrediction, song_labels, song_vote, song_votes};
