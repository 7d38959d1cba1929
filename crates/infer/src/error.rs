//! The error type of `singerid-infer`.

use std::path::PathBuf;

/// Errors from identification, evaluation and the reproduction grid. Per-file problems are not
/// errors: they are reported in the results and the run goes on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A device name that is not cpu, cuda or wgpu.
    #[error("unknown device {0:?}; expected cpu, cuda or wgpu")]
    UnknownDevice(String),
    /// A device whose backend this build does not include.
    #[error(
        "this build cannot run on {device} (available: {available}); rebuild with \
         `--features {device}`"
    )]
    DeviceNotBuilt {
        /// The device asked for.
        device: &'static str,
        /// What this build offers.
        available: String,
    },
    /// A GPU backend that is built in but finds no usable device (no driver, no GPU).
    #[error(
        "{device}: no usable device ({reason}); is the NVIDIA driver installed, with \
         libcuda.so on LD_LIBRARY_PATH (see docs/gpu.md)? --device cpu runs on the CPU"
    )]
    DeviceUnavailable {
        /// The device asked for.
        device: &'static str,
        /// The backend's own message, shortened.
        reason: String,
    },
    /// An embedding model (siamese, contrastive loss) asked to name singers on its own.
    #[error(
        "{0} is an embedding model (trained with a contrastive loss): its class output is \
         untrained, so it cannot name singers by itself; use `singerid embed`, `singerid eval` \
         (kNN and EER), or enrol singers and `identify --db`"
    )]
    EmbeddingModel(PathBuf),
    /// A tagging model (multi-label objective) asked to name singers.
    #[error(
        "{0} is a tagging model (trained with --objective multilabel): its outputs are tags, \
         not singers, so it cannot identify a singer; `singerid eval` scores its tags (AUC-ROC)"
    )]
    TaggingModel(PathBuf),
    /// No model was named and the shipped one is not where it should be.
    #[error(
        "no model given and the shipped model is not in any of: {searched}; pass --model DIR \
         (or set SINGERID_MODEL)"
    )]
    NoDefaultModel {
        /// The folders tried.
        searched: String,
    },
    /// A file that could not be written (embeddings, their index).
    #[error("writing {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The evaluation cannot be set up (no data, empty split, unknown singers only).
    #[error("{0}")]
    Evaluation(String),
    /// From the audio front end (an invalid feature config).
    #[error(transparent)]
    Audio(#[from] singerid_audio::AudioError),
    /// From datasets and the feature cache.
    #[error(transparent)]
    Data(#[from] singerid_data::DataError),
    /// From loading models and bundles, and from training.
    #[error(transparent)]
    Train(#[from] singerid_train::Error),
    /// From scoring and reports.
    #[error(transparent)]
    Eval(#[from] singerid_eval::Error),
}
