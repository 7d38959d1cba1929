//! singerid's own checkpoints: a folder with `model.safetensors` (every parameter and
//! batch-norm statistic, keyed by burn module path) and `config.json`:
//!
//! ```json
//! {"format": "singerid-model", "version": 2, "name": "<registry name>", "config": { ... }}
//! ```
//!
//! `config` is the model's own config (see [`crate::registry`]), so any registered model saves
//! and loads here. Version 1 (the first CRNN-only layout, `{"format", "version": 1, "model":
//! {"kind": "crnn_fgnl", ...}}`, used by the shipped `models/crnn_fgnl-mir1k/`) still loads: its
//! `model.kind` is the registry name and `model` the CRNN config.
//!
//! Loading rebuilds the model through the registry and refuses a config it cannot parse or
//! validate, an unknown model name, a weight file that is not safetensors, a weight file written
//! for another model or class count (header metadata `singerid_kind` = the registry name,
//! `singerid_n_classes`), and any missing, unused or mis-shaped tensor.

use std::collections::HashMap;
use std::path::Path;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::classifier::{Classifier, SingerModel, downcast};
use crate::error::ModelError;
use crate::registry;

/// Weight file name inside a checkpoint folder.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// Config file name inside a checkpoint folder.
pub const CONFIG_FILE: &str = "config.json";
/// Value of the `format` field of `config.json`.
pub const FORMAT: &str = "singerid-model";
/// Current checkpoint format version.
pub const FORMAT_VERSION: u32 = 2;
/// The first version: CRNN family only, `"model": {"kind": ..., ...}`; still loaded.
pub const FORMAT_VERSION_CRNN: u32 = 1;
/// Weight-file metadata key holding the registry name (the key predates the registry, when it
/// held the CRNN kind; kept so old and new files check the same way).
pub const NAME_METADATA: &str = "singerid_kind";
/// Weight-file metadata key holding the class count.
pub const CLASSES_METADATA: &str = "singerid_n_classes";

/// The contents of `config.json` (current version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointConfig {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] at save time.
    pub version: u32,
    /// The model's registry name.
    pub name: String,
    /// The model's config, as its registry entry reads it.
    pub config: serde_json::Value,
}

/// `config.json` of version 1.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointConfigV1 {
    #[allow(dead_code)]
    format: String,
    #[allow(dead_code)]
    version: u32,
    model: serde_json::Value,
}

#[derive(Deserialize)]
struct Header {
    format: String,
    version: u32,
}

/// Saves `model` into the folder `dir` (created if needed; existing files are replaced).
///
/// # Errors
/// I/O and serialisation errors naming the file.
pub fn save(model: &dyn SingerModel, dir: &Path) -> Result<(), ModelError> {
    std::fs::create_dir_all(dir).map_err(|source| ModelError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let config = CheckpointConfig {
        format: FORMAT.into(),
        version: FORMAT_VERSION,
        name: model.name().into(),
        config: model.config_json(),
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
    model.save_safetensors(
        &dir.join(WEIGHTS_FILE),
        &[
            (NAME_METADATA, model.name().to_owned()),
            (CLASSES_METADATA, model.n_classes().to_string()),
        ],
    )
}

/// Reads `config.json` of a checkpoint folder (either version): the registry name (checked to
/// be registered) and the config, not yet validated.
fn read_config(dir: &Path) -> Result<(String, serde_json::Value), ModelError> {
    let path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| ModelError::Io {
        path: path.clone(),
        source,
    })?;
    let json_error = |source| ModelError::Json {
        path: path.clone(),
        source,
    };
    let fail = |message: String| ModelError::Checkpoint {
        path: path.clone(),
        message,
    };
    let header: Header = serde_json::from_str(&text).map_err(json_error)?;
    let (name, config) = match (header.format.as_str(), header.version) {
        (FORMAT, FORMAT_VERSION) => {
            let c: CheckpointConfig = serde_json::from_str(&text).map_err(json_error)?;
            (c.name, c.config)
        }
        (FORMAT, FORMAT_VERSION_CRNN) => {
            let c: CheckpointConfigV1 = serde_json::from_str(&text).map_err(json_error)?;
            let kind = c
                .model
                .get("kind")
                .and_then(|k| k.as_str())
                .ok_or_else(|| {
                    fail("version 1 config has no model.kind (the model's name)".into())
                })?;
            (kind.to_owned(), c.model)
        }
        (format, version) => {
            return Err(fail(format!(
                "format {format:?} version {version} is not {FORMAT:?} version \
                 {FORMAT_VERSION} (or {FORMAT_VERSION_CRNN})"
            )));
        }
    };
    registry::get(&name).map_err(|e| fail(e.to_string()))?;
    Ok((name, config))
}

/// Builds the model `config.json` describes, naming the file in errors.
fn init(dir: &Path, device: &Device) -> Result<Box<dyn SingerModel>, ModelError> {
    let path = dir.join(CONFIG_FILE);
    let (name, config) = read_config(dir)?;
    match registry::get(&name)?.init(&config, device) {
        Ok(model) => Ok(model),
        Err(ModelError::ConfigJson(source)) => Err(ModelError::Json { path, source }),
        Err(e) => Err(ModelError::Checkpoint {
            path,
            message: e.to_string(),
        }),
    }
}

/// Reads `config.json` of a checkpoint folder (either version) and checks that its model
/// builds: returns the registry name and the config.
///
/// # Errors
/// As [`load`], for `config.json` only.
pub fn load_config(dir: &Path) -> Result<(String, serde_json::Value), ModelError> {
    let model = init(dir, &Device::default())?;
    Ok((model.name().to_owned(), model.config_json()))
}

/// Loads a checkpoint folder written by [`save`] (or a version 1 folder) onto `device`, as
/// whichever registered model it holds.
///
/// # Errors
/// See the module docs; every error names the file and what does not match.
pub fn load(dir: &Path, device: &Device) -> Result<Box<dyn SingerModel>, ModelError> {
    let mut model = init(dir, device)?;
    let name = model.name();
    let weights_path = dir.join(WEIGHTS_FILE);
    let fail = |message: String| ModelError::Checkpoint {
        path: weights_path.clone(),
        message,
    };
    let metadata = read_metadata(&weights_path)?;
    for (key, expected) in [
        (NAME_METADATA, name.to_owned()),
        (CLASSES_METADATA, model.n_classes().to_string()),
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
    let result = model
        .load_safetensors(&weights_path)
        .map_err(|e| fail(e.to_string()))?;
    if !result.unused.is_empty() {
        return Err(fail(format!(
            "tensors the model does not have: {}",
            result.unused.join(", ")
        )));
    }
    Ok(model)
}

/// [`load`] for a caller that knows the model type (tests, import tools).
///
/// # Errors
/// As [`load`]; [`ModelError::Checkpoint`] when the folder holds another type of model.
pub fn load_as<M: Classifier>(dir: &Path, device: &Device) -> Result<M, ModelError> {
    let model = load(dir, device)?;
    let name = model.name();
    downcast::<M>(model).ok_or_else(|| ModelError::Checkpoint {
        path: dir.to_owned(),
        message: format!("holds a {name} model, not a {}", std::any::type_name::<M>()),
    })
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
