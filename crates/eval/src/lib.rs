//! singerid-eval: how well a model names singers, without a deep-learning engine (no burn).
//!
//! - [`predictions`]: [`Predictions`], what a model said about every clip (softmax and
//!   embedding), the input of everything here; produced by `singerid-train`'s `predict`.
//! - [`evaluate`](mod@evaluate): frame (clip) level and song level scores, following Kuo, Wei
//!   and Lin (AAAI 2021) and Nasrullah & Zhao (2019); [`metrics`] holds the scikit-learn-exact
//!   [`ConfusionMatrix`] and F1s, [`vote`] the paper's song vote (confident clips only, fallback
//!   to all, ties to the lowest class).
//! - [`report`]: `report.md` / `report.json`, with [`plot`] (confusion matrices, learning curve,
//!   t-SNE scatter as PNG) and [`tsne`](mod@tsne) (exact, seeded t-SNE).
//! - [`reproduce`]: the paper's grid of runs and its Table 1 layout.
//! - [`separation`]: BSS Eval v3 SDR / SIR / SAR (mir_eval-exact), NSDR and the length-weighted
//!   GNSDR / GSIR / GSAR of the singing-voice separation literature;
//!   [`separation_report`] the report of `separate --eval` (several systems on the same clips).
//! - Embeddings and tags: [`roc`] (scikit-learn-exact ROC and AUC), [`verification`]
//!   (all-pairs cosine trials and their [`Eer`]), [`knn`] (kNN accuracy, enrolled or
//!   leave-one-out) and [`tagging`] (macro / micro AUC-ROC over a tag matrix, and
//!   [`evaluate_tagging`]: a tagging model's predictions at clip and recording level).
//!
//! Data flows: [`Predictions`] -> [`evaluate()`] -> [`Evaluation`] -> [`write_report`].
//! [`Error`] is the one error type.

pub mod bootstrap;
pub mod error;
pub mod evaluate;
pub mod knn;
pub mod metrics;
pub mod plot;
pub mod predictions;
pub mod report;
pub mod reproduce;
pub mod roc;
pub mod separation;
pub mod separation_report;
pub mod tagging;
pub mod tsne;
pub mod verification;
pub mod vote;

pub use error::Error;
pub use evaluate::{Evaluation, LevelScores, UnknownSinger, evaluate};
pub use knn::{KnnMetric, knn_accuracy, knn_accuracy_leave_one_out, knn_predict};
pub use metrics::{Averages, ClassScores, ClassificationReport, ConfusionMatrix};
pub use predictions::{ClipPrediction, Predictions, RecordingClips, mean_embedding};
pub use report::{CurvePoint, ReportFiles, RunInfo, write_report};
pub use roc::{RocCurve, roc_auc, roc_curve};
pub use separation::{BssEval, ClipScores, Global, Permutation, bss_eval_sources, nsdr};
pub use tagging::{
    TagAuc, TagEvaluation, TagLevelScores, evaluate_tagging, roc_auc_macro, roc_auc_micro,
    roc_auc_per_tag,
};
pub use tsne::{TsneConfig, tsne};
pub use verification::{Eer, PairScores, cosine_similarity, eer, pair_scores};
pub use vote::{CONFIDENCE_THRESHOLD, ClipDecision, song_labels, song_vote, song_votes};
