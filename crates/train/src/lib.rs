//! Training of the singer-identification models, following the protocol of Kuo, Wei and Lin,
//! "Positions, Channels, and Layers: Fully Generalized Non-Local Network for Singer
//! Identification" (AAAI 2021), itself that of Nasrullah & Zhao (2019).
//!
//! - [`clips`]: a [`ClipSet`], the non-overlapping clips of a list of recordings (from the
//!   feature cache, or from features computed on the fly), with their labels, batched into
//!   tensors.
//! - [`trainer`]: [`train`] runs epochs of Adam on softmax cross-entropy, validates after each,
//!   keeps the best validation epoch as a [`bundle`] and a resumable `last/` checkpoint (atomic
//!   writes; a rerun resumes), with early stopping and a wall-clock budget.
//! - [`predict`](mod@predict): a model on a [`ClipSet`] -> [`singerid_eval::Predictions`]
//!   (softmax and embedding per clip); the trainer validates with it, and `singerid-infer`
//!   identifies and evaluates with it.
//! - [`separation`]: training the Open-Unmix separator on stereo stems (left =
//!   accompaniment, right = voice), selected on validation GNSDR.
//! - [`remix`]: extra training recordings, one singer's voice stem over another singer's
//!   accompaniment stem (separated like the rest), so a model cannot learn singers from their
//!   backing tracks.
//! - [`vocals`]: the vocal source: a channel of each file, or the voice separated by a
//!   separator (cached as audio, copied into the model's bundle so eval and identify replay it).
//! - [`melody`]: the CRNNM models' second input, the authors' CREPE melody contour of the same
//!   vocal source, cached, recorded in the run and the bundle, replayed by eval and identify.
//! - [`bundle`]: a trained model with what it needs to be used (classes, feature config, clip
//!   length), saved and loaded atomically.
//! - [`objective`]: the contrastive loss of a siamese embedding and multi-label binary
//!   cross-entropy; [`pairs`]: balanced, song-disjoint clip pairs for the former;
//!   [`trainer::siamese`]: the siamese training mode ([`Objective::Contrastive`]), one network
//!   applied to both clips of each pair, run by [`train`] like any other;
//!   [`trainer::multilabel`]: the tagging mode ([`Objective::Multilabel`]: a manifest's tags as
//!   the classes, sigmoid outputs, selected on the macro AUC-ROC), run by the classifier loop.
//!
//! Data flows: dataset + feature cache -> [`ClipSet`] -> [`train`] -> `best/` [`Bundle`].
//! Scoring, reports and plots live in `singerid-eval`, which has no burn dependency.
//! [`Error`] is the one error type.

pub mod bundle;
pub mod clips;
pub mod error;
pub mod experiment;
pub mod melody;
pub mod objective;
pub mod pairs;
pub mod predict;
pub mod remix;
pub mod separation;
pub mod trainer;
pub mod vocals;

pub use bundle::{Bundle, BundleMeta};
pub use clips::{Augment, ClipSet};
pub use error::Error;
pub use experiment::{DataRecord, ExperimentSpec, Prepared, prepare};
pub use objective::{
    ContrastiveForm, ContrastiveLoss, ContrastiveLossConfig, multi_hot, multilabel_bce_with_logits,
    tag_vocabulary,
};
pub use pairs::{ClipPair, PairSampler};
pub use predict::{predict, predict_tags};
pub use trainer::{
    Control, EpochLog, LrPlateau, Objective, RunSpec, SiameseConfig, StepProgress, StopReason,
    TrainConfig, TrainObserver, TrainOutcome, train,
};
