//! The `_layers.json` fixture: a Keras model's layer graph, read into [`KerasGraph`], and the
//! typed look-ups of its layers' config entries.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::Roles;
use crate::error::ModelError;

/// The `_layers.json` description of a Keras model.
#[derive(Debug, Clone, Deserialize)]
pub struct KerasGraph {
    /// Fixture model name (`crnn`, `crnn_fgnl`, `fgnl_c128`, ...).
    pub model: String,
    /// Clip length in frames.
    #[serde(rename = "T")]
    pub frames: usize,
    /// Input layer names in model-input order.
    pub inputs: Vec<String>,
    /// Keras' `count_params()`.
    pub total_params: usize,
    /// Layers in topological order.
    pub layers: Vec<KerasLayer>,
    /// Semantic roles to layer names.
    pub roles: Roles,
    /// Stored intermediates and how they were cut.
    #[serde(default)]
    pub io_intermediates: Vec<IoIntermediate>,
    /// Where the graph was read from.
    #[serde(skip)]
    pub path: PathBuf,
}

/// One Keras layer of the graph.
#[derive(Debug, Clone, Deserialize)]
pub struct KerasLayer {
    /// Layer name.
    pub name: String,
    /// Keras class (`Conv2D`, `GRU`, ...).
    pub class: String,
    /// The essential config entries.
    #[serde(default)]
    pub config: Value,
    /// Feeding layers.
    #[serde(default)]
    pub inbound: Vec<String>,
    /// Output shape (`null` = batch).
    #[serde(default)]
    pub output_shape: Value,
    /// `tf.roll` arguments.
    #[serde(default)]
    pub call_kwargs: Value,
}

/// A stored intermediate of an `_io` file.
#[derive(Debug, Clone, Deserialize)]
pub struct IoIntermediate {
    /// Keras layer name = key in the `_io` file.
    pub key: String,
    /// Shape of the full Keras tensor.
    pub full_shape: Vec<usize>,
    /// Shape stored (a leading slice of the full tensor).
    pub stored_shape: Vec<usize>,
}

impl KerasGraph {
    /// Reads a `_layers.json` file.
    ///
    /// # Errors
    /// I/O and JSON errors naming the file.
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut graph: KerasGraph =
            serde_json::from_str(&text).map_err(|source| ModelError::Json {
                path: path.to_owned(),
                source,
            })?;
        graph.path = path.to_owned();
        Ok(graph)
    }

    /// The layer called `name`.
    ///
    /// # Errors
    /// [`ModelError::KerasGraph`] if there is none.
    pub fn layer(&self, name: &str) -> Result<&KerasLayer, ModelError> {
        self.layers
            .iter()
            .find(|l| l.name == name)
            .ok_or_else(|| self.error(format!("no layer named {name:?}")))
    }

    pub(super) fn error(&self, message: String) -> ModelError {
        ModelError::KerasGraph {
            path: self.path.clone(),
            message,
        }
    }

    pub(super) fn config_usize(&self, layer: &str, key: &str) -> Result<usize, ModelError> {
        self.layer(layer)?
            .config
            .get(key)
            .and_then(Value::as_u64)
            .map(|v| v as usize)
            .ok_or_else(|| self.error(format!("layer {layer:?} has no integer config {key:?}")))
    }

    pub(super) fn config_f64(&self, layer: &str, key: &str) -> Result<f64, ModelError> {
        self.layer(layer)?
            .config
            .get(key)
            .and_then(Value::as_f64)
            .ok_or_else(|| self.error(format!("layer {layer:?} has no number config {key:?}")))
    }

    pub(super) fn config_pair(&self, layer: &str, key: &str) -> Result<[usize; 2], ModelError> {
        let v = self.layer(layer)?.config.get(key).and_then(Value::as_array);
        match v.map(|a| a.iter().filter_map(Value::as_u64).collect::<Vec<_>>()) {
            Some(a) if a.len() == 2 => Ok([a[0] as usize, a[1] as usize]),
            _ => Err(self.error(format!("layer {layer:?} has no pair config {key:?}"))),
        }
    }

    /// Whether this graph is a standalone FGNL layer (no conv branches).
    pub fn is_standalone_fgnl(&self) -> bool {
        self.roles.fgnl.is_some() && self.roles.branches.iter().all(|b| b.blocks.is_empty())
    }
}
