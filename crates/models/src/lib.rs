//! singerid-models: the singer-identification models on burn 0.22, pinned to the authors' Keras
//! forward pass.
//!
//! - [`ModelConfig`] holds every hyper-parameter; [`ModelConfig::new`] gives the paper's
//!   configuration of a [`ModelKind`] (presets in `crnn.rs`, `crnn_fgnl.rs`, ...), and
//!   [`ModelConfig::init`] builds a [`Model`].
//! - [`Model::forward`] takes a `[batch, 1, mels, frames]` log-mel tensor (and a melody tensor
//!   for the CRNNM models) and returns a [`ModelOutput`]: logits and the 32-d embedding.
//!   Data flows: [`backbone`] branches (input BN, conv blocks from [`blocks`]) -> optional
//!   [`attention`] (FGNL or non-local) -> Keras GRU x2 -> Dense.
//! - [`import::keras`] loads the authors' Keras weights (fixture format) into a model;
//!   [`checkpoint`] saves and loads singerid's own `model.safetensors` + `config.json`.
//!
//! Training vs inference follows burn: batch-norm and dropout train on an autodiff device and
//! infer otherwise (see [`model`]).

pub mod attention;
pub mod backbone;
pub mod blocks;
pub mod checkpoint;
pub mod crnn;
pub mod crnn_fgnl;
pub mod crnn_fgnl_light;
pub mod crnn_nl;
pub mod crnnm;
pub mod crnnm_fgnl;
pub mod error;
pub mod fgnl_backbone;
pub mod import;
pub mod kernels;
pub mod model;

pub use attention::{
    Attention, FgnlConfig, KeySources, NonLocalConfig, Pairwise, Reweighting, Smoothing,
    SoftmaxOver,
};
pub use backbone::BackboneConfig;
pub use error::ModelError;
pub use model::{ForwardTrace, Inputs, Model, ModelConfig, ModelKind, ModelOutput, N_MELS};
