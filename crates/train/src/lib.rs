//! Training and evaluation of the singer-identification models, following the protocol of Kuo,
//! Wei and Lin, "Positions, Channels, and Layers: Fully Generalized Non-Local Network for Singer
//! Identification" (AAAI 2021), itself that of Nasrullah & Zhao (2019).
//!
//! - [`clips`]: a [`ClipSet`], the non-overlapping clips of a list of recordings (from the
//!   feature cache, or from features computed on the fly), with their labels.
//! - [`trainer`]: [`train`] runs epochs of Adam on softmax cross-entropy, validates after each,
//!   keeps the best validation epoch as a [`bundle`] and a resumable `last/` checkpoint (atomic
//!   writes; a rerun resumes), with early stopping and a wall-clock budget.
//! - [`predict`](mod@predict): a model on a [`ClipSet`] -> [`Predictions`] (softmax and embedding per clip).
//! - [`evaluate`](mod@evaluate): frame (clip) level and song level scores; [`metrics`] holds the
//!   scikit-learn-exact [`ConfusionMatrix`] and F1s, [`vote`] the paper's song vote (confident
//!   clips only, fallback to all, ties to the lowest class).
//! - [`report`]: `report.md` / `report.json`, with [`plot`] (confusion matrices, learning curve,
//!   t-SNE scatter as PNG) and [`tsne`](mod@tsne) (exact, seeded t-SNE).
//! - [`reproduce`]: the paper's grid of runs and its Table 1 layout.
//!
//! Data flows: dataset + feature cache -> [`ClipSet`] -> [`train`] -> `best/` [`Bundle`] ->
//! [`predict()`] -> [`Predictions`] -> [`evaluate()`] -> [`write_report`]. [`Error`] is the one
//! error type.

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
