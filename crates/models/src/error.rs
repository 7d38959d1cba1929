//! The crate's error type.

use std::fmt::Write as _;
use std::path::PathBuf;

/// A tensor whose shape does not match what the model expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeProblem {
    /// Key in the source file.
    pub key: String,
    /// Shape the model needs, in the file's layout.
    pub expected: Vec<usize>,
    /// Shape found in the file.
    pub found: Vec<usize>,
}

/// Everything that can go wrong building, importing, saving or loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A config that cannot build a model.
    #[error("invalid model config: {0}")]
    InvalidConfig(String),
    /// A model name the registry does not know.
    #[error("unknown model {name:?}; registered models: {known}")]
    UnknownModel {
        /// The name asked for.
        name: String,
        /// The registered names, comma-separated.
        known: String,
    },
    /// A model config (JSON) that is not the model's config type: unknown or missing fields,
    /// wrong types.
    #[error("model config does not parse: {0}")]
    ConfigJson(#[source] serde_json::Error),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A JSON file could not be parsed into what it should hold.
    #[error("{path}: invalid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A safetensors file could not be read or written.
    #[error("{path}: {message}")]
    Safetensors {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A PyTorch checkpoint (`.pt` / `.pth`) that could not be read.
    #[error("{path}: {message}")]
    PytorchCheckpoint {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A Keras `_layers.json` graph that singerid cannot map onto its models.
    #[error("{path}: {message}")]
    KerasGraph {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The weight file's keys do not match the model: every problem is listed by key.
    #[error(
        "{path}: weights do not fit the model:{}",
        describe_keys(missing, unused, mis_shaped)
    )]
    Keys {
        /// The weight file.
        path: PathBuf,
        /// Keys the model needs that the file lacks.
        missing: Vec<String>,
        /// Keys in the file that the model does not use.
        unused: Vec<String>,
        /// Keys present with the wrong shape.
        mis_shaped: Vec<ShapeProblem>,
    },
    /// A checkpoint folder that does not hold a loadable model.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The checkpoint folder or file.
        path: PathBuf,
        /// What went wrong, with a hint where possible.
        message: String,
    },
}

fn describe_keys(missing: &[String], unused: &[String], mis_shaped: &[ShapeProblem]) -> String {
    let mut out = String::new();
    if !missing.is_empty() {
        let _ = write!(
            out,
            "\n  missing keys ({}): {}",
            missing.len(),
            missing.join(", ")
        );
    }
    if !unused.is_empty() {
        let _ = write!(
            out,
            "\n  unused keys ({}): {}",
            unused.len(),
            unused.join(", ")
        );
    }
    for p in mis_shaped {
        let _ = write!(
            out,
            "\n  mis-shaped key {}: expected {:?}, found {:?}",
            p.key, p.expected, p.found
        );
    }
    out
}
