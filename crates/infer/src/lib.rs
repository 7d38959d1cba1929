//! singerid-infer: the product as a library. The CLI calls one function of this crate per
//! command, and so will the HTTP server and the music-library scanner.
//!
//! - [`device`]: the user's [`DeviceChoice`] (cpu, cuda, wgpu) -> a burn device; the only place
//!   a device is chosen.
//! - [`load_model`]: a trained-model folder (or a training run folder: its `best/`) -> a
//!   [`Bundle`] on a device, refusing what this pipeline cannot run.
//! - [`identify`](mod@identify): audio files or folders -> log-mel (the bundle's feature
//!   config) -> clips -> model -> the paper's song vote -> [`FileResult`]s.
//! - [`embed`](mod@embed): audio files -> the same path as identify -> one embedding per clip
//!   and per recording (the mean of its clips'), written as safetensors plus a CSV index.
//! - [`evaluate`]: a model on a split of a dataset (by default the model's own partition, as its
//!   bundle records) -> scores and a report folder.
//! - [`evaluate_embedding`](mod@evaluate_embedding): an embedding (a siamese model's) on a
//!   dataset: kNN singer accuracy (enrol train recordings, query val), verification EER over
//!   all query pairs, a t-SNE map coloured by singer.
//! - [`evaluate_tagging`](mod@evaluate_tagging): a tagging model (`--objective multilabel`) on
//!   a split: AUC-ROC per tag, macro and micro, over clips and over recordings.
//! - [`reproduce`](mod@reproduce): the paper's grid of training runs and Table 1.
//! - [`separate`](mod@separate): audio -> vocals and accompaniment stems (the Open-Unmix
//!   separator), and the separation report (GNSDR) on a dataset split.
//! - [`melody`](mod@melody): audio -> [separated vocals] -> CREPE -> f0 track (CSV), the
//!   contour over the log-mel (PNG) and the FGNL authors' melody contour.
//!
//! Long steps report to a [`singerid_data::Progress`]; per-file problems are part of the
//! results, never errors. [`Error`] is the one error type.

pub mod device;
pub mod embed;
pub mod ensemble;
pub mod error;
pub mod evaluate;
pub mod evaluate_embedding;
pub mod evaluate_tagging;
pub mod identify;
pub mod melody;
/// The melody cache lives with the training data path (`singerid_train::melody::cache`).
pub use singerid_train::melody::cache as melody_cache;
pub mod reproduce;
pub mod separate;

use std::path::{Path, PathBuf};

pub use device::DeviceChoice;
pub use embed::{EmbeddingFiles, Embeddings, embed, write_embeddings};
pub use ensemble::{EnsembleOutcome, EnsembleRequest, fold_ensemble};
pub use error::Error;
pub use evaluate::{
    EvalOutcome, EvalRequest, SplitCounts, SplitPredictions, evaluate_split, predict_split,
};
pub use evaluate_embedding::{EmbeddingEvalRequest, EmbeddingEvaluation, evaluate_embedding};
pub use evaluate_tagging::{TaggingEvaluation, evaluate_tagging};
pub use identify::{FileResult, Identification, IdentifyOptions, identify};
pub use melody::{CrepeChoice, MelodyFile, MelodyOptions, load_crepe_model, melody_files};
pub use reproduce::{GridObserver, ReproduceRequest, reproduce};
pub use separate::{
    DEFAULT_SEPARATOR, SeparatedFile, default_separator, import_separator, load_separator,
    separate_files, separation_report,
};
pub use singerid_train::Bundle;

/// The shipped model used when no model is named: its folder under `models/`.
pub const DEFAULT_MODEL: &str = "mel_stats_linear-separated-mir1k";

/// The model to use when none is named: `models/<DEFAULT_MODEL>` in the current folder, or in
/// the nearest folder above the running program that has one (so a checkout's
/// `target/release/singerid` finds the checkout's `models/` from anywhere).
///
/// # Errors
/// [`Error::NoDefaultModel`] naming the places searched.
pub fn default_model() -> Result<PathBuf, Error> {
    find_shipped(DEFAULT_MODEL)
}

/// `models/<name>` in the current folder or in the nearest folder above the running program.
///
/// # Errors
/// [`Error::NoDefaultModel`] naming the places searched.
pub(crate) fn find_shipped(name: &str) -> Result<PathBuf, Error> {
    let relative = Path::new("models").join(name);
    let mut searched = vec![relative.clone()];
    if relative.is_dir() {
        return Ok(relative);
    }
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1) {
            let candidate = dir.join(&relative);
            if candidate.is_dir() {
                return Ok(candidate);
            }
            searched.push(candidate);
        }
    }
    Err(Error::NoDefaultModel {
        searched: searched
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Whether `bundle` was trained as an embedding (a siamese network with a contrastive loss):
/// its class output is untrained, so it cannot name singers on its own.
pub fn is_embedding_model(bundle: &Bundle) -> bool {
    matches!(
        singerid_train::Objective::of_provenance(&bundle.meta.provenance),
        singerid_train::Objective::Contrastive(_)
    )
}

/// Whether `bundle` was trained as a tagger (`--objective multilabel`): its classes are tags,
/// its outputs independent sigmoids, so it names no singer.
pub fn is_tagging_model(bundle: &Bundle) -> bool {
    singerid_train::Objective::of_provenance(&bundle.meta.provenance).is_multilabel()
}

/// Refuses an embedding or tagging model where a classifier's answer is needed (`identify`).
///
/// # Errors
/// [`Error::EmbeddingModel`] or [`Error::TaggingModel`] naming the folder and what to use
/// instead.
pub fn require_classifier(bundle: &Bundle, path: &Path) -> Result<(), Error> {
    if is_embedding_model(bundle) {
        return Err(Error::EmbeddingModel(path.to_owned()));
    }
    if is_tagging_model(bundle) {
        return Err(Error::TaggingModel(path.to_owned()));
    }
    Ok(())
}

/// Loads the model folder `path` (or the `best/` model of a training run folder) onto `device`.
///
/// # Errors
/// A path that is not a model folder (with what it is instead), an unreadable or inconsistent
/// bundle, a device this build lacks, or a melody model whose CREPE weights are not found.
pub fn load_model(path: &Path, device: DeviceChoice) -> Result<Bundle, Error> {
    Ok(singerid_train::bundle::load(path, &device.device()?)?)
}
