//! singerid's own checkpoints: a folder with `model.safetensors` (every parameter and
//! batch-norm statistic, keyed by burn module path) and `config.json` (the [`ModelConfig`]:
//! model kind, class count and every hyper-parameter).
//!
//! Loading rebuilds the model from `config.json` and refuses a config it cannot parse or
//! validate, a weight file that is not safetensors, a weight file written for another model kind
//! or class count (header metadata), and any missing, unused or mis-shaped tensor.

use std::collections::HashMap;
use std::path::Path;

use burn::tensor::Device;
use burn_store::{ModuleSnapshot, SafetensorsStore};
use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::model::{Model, ModelConfig};

/// Weight file name inside a checkpoint folder.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// Config file name inside a checkpoint folder.
pub const CONFIG_FILE: &str = "config.json";
/// Value of the `format` field of `config.json`.
pub const FORMAT: &str = "singerid-model";
/// Current checkpoint format version.
pub const FORMAT_VERSION: u32 = 1;

/// The contents of `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointConfig {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] at save time.
    pub version: u32,
    /// The model's configuration.
    pub model: ModelConfig,
}

/// Saves `model` into the folder `dir` (created if needed; existing files are replaced).
///
/// # Errors
/// I/O and serialisation errors naming the file.
pub fn save(model: &Model, dir: &Path) -> Result<(), ModelError> {
    std::fs::create_dir_all(dir).map_err(|source| ModelError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let config = CheckpointConfig {
        format: FORMAT.into(),
        version: FORMAT_VERSION,
        model: model.config().clone(),
    };
    let config_path = dir.join(CONFIG_FILE);
    let json = serde_json::to_string_pretty(&config).map_err(|source| ModelError::Json {
        path: config_path.clone(),
        source,
    })?;
    std::fs::write(&config_path, json + "\n").map_err(|source| ModelError::Io {
        path: config_path,
        source,
    })?;

    let weights_path = dir.join(WEIGHTS_FILE);
    let mut store = SafetensorsStore::from_file(&weights_path)
        .overwrite(true)
        .metadata("singerid_kind", model.config().kind.name())
        .metadata("singerid_n_classes", model.config().n_classes.to_string());
    model
        .save_into(&mut store)
        .map_err(|e| ModelError::Safetensors {
            path: weights_path,
            message: e.to_string(),
        })
}

/// Reads and validates `config.json` of a checkpoint folder.
///
/// # Errors
/// [`ModelError::Checkpoint`] for a wrong format/version or invalid config; I/O and JSON errors.
pub fn load_config(dir: &Path) -> Result<ModelConfig, ModelError> {
    let path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| ModelError::Io {
        path: path.clone(),
        source,
    })?;
    let config: CheckpointConfig =
        serde_json::from_str(&text).map_err(|source| ModelError::Json {
            path: path.clone(),
            source,
        })?;
    if config.format != FORMAT || config.version != FORMAT_VERSION {
        return Err(ModelError::Checkpoint {
            path,
            message: format!(
                "format {:?} version {} is not {FORMAT:?} version {FORMAT_VERSION}",
                config.format, config.version
            ),
        });
    }
    config
        .model
        .validate()
        .map_err(|e| ModelError::Checkpoint {
            path,
            message: e.to_string(),
        })?;
    Ok(config.model)
}

/// Loads a checkpoint folder written by [`save`] onto `device`.
///
/// # Errors
/// See the module docs; every error names the file and what does not match.
pub fn load(dir: &Path, device: &Device) -> Result<Model, ModelError> {
    let config = load_config(dir)?;
    let weights_path = dir.join(WEIGHTS_FILE);
    let fail = |message: String| ModelError::Checkpoint {
        path: weights_path.clone(),
        message,
    };
    let metadata = read_metadata(&weights_path)?;
    for (key, expected) in [
        ("singerid_kind", config.kind.name().to_string()),
        ("singerid_n_classes", config.n_classes.to_string()),
    ] {
        match metadata.get(key) {
            Some(found) if *found == expected => {}
            found => {
                return Err(fail(format!(
                    "weights were saved with {key} = {found:?}, but config.json says {expected:?}: \
                     the two files do not belong together"
                )));
            }
        }
    }
    let mut model = config.try_init(device)?;
    let mut store = SafetensorsStore::from_file(&weights_path);
    let result = model
        .load_from(&mut store)
        .map_err(|e| fail(e.to_string()))?;
    if !result.unused.is_empty() {
        return Err(fail(format!(
            "tensors the model does not have: {}",
            result.unused.join(", ")
        )));
    }
    Ok(model)
}

fn read_metadata(path: &Path) -> Result<HashMap<String, String>, ModelError> {
    let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_owned(),
        source,
    })?;
    let (_, metadata) =
        safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| ModelError::Checkpoint {
            path: path.to_owned(),
            message: format!("not a safetensors file: {e}"),
        })?;
    Ok(metadata.metadata().clone().unwrap_or_default())
}
