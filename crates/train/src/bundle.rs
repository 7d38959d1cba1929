//! A trained model as shipped and loaded: the model checkpoint of `singerid-models`
//! (`model.safetensors` + `config.json`) plus `singerid.json`, which holds what is needed to
//! use it on new audio: the class names, the feature config the model was trained on and the
//! clip length.
//!
//! [`save`] writes into a temporary sibling folder and renames it into place, so that a kill at
//! any moment leaves either the old bundle or the new one, never a mix or a half-written file.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use singerid_audio::FeatureConfig;
use singerid_data::clip::LastClip;
use singerid_models::Model;
use singerid_models::checkpoint;

use crate::Error;

/// File name of the metadata inside a bundle folder.
pub const META_FILE: &str = "singerid.json";
/// Value of [`BundleMeta::format`].
pub const FORMAT: &str = "singerid-trained-model";
/// Current version of the bundle metadata.
pub const VERSION: u32 = 1;

/// The contents of `singerid.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleMeta {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`] at save time.
    pub version: u32,
    /// Class names in class-index order.
    pub classes: Vec<String>,
    /// The feature config the model was trained on (preset values and channel).
    pub features: FeatureConfig,
    /// Clip length in frames.
    pub clip_frames: usize,
    /// Whether the last full clip of each song was dropped in training.
    pub last_clip: LastClip,
    /// Free-form provenance: data, split, command, metrics (written into model cards).
    #[serde(default)]
    pub provenance: serde_json::Value,
}

/// A model with its metadata.
#[derive(Debug)]
pub struct Bundle {
    /// The model, on the device it was loaded onto.
    pub model: Model,
    /// Its metadata.
    pub meta: BundleMeta,
}

/// Saves `model` and `meta` into the folder `dir`, atomically replacing any bundle there.
///
/// # Errors
/// [`Error::Io`], [`Error::Model`] naming the file.
pub fn save(model: &Model, meta: &BundleMeta, dir: &Path) -> Result<(), Error> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle".into());
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp"))
        .tempdir_in(parent)
        .map_err(Error::io(parent))?;
    checkpoint::save(model, staging.path())?;
    let meta_path = staging.path().join(META_FILE);
    let json = serde_json::to_string_pretty(meta).map_err(|e| Error::Json {
        path: meta_path.clone(),
        message: e.to_string(),
    })?;
    std::fs::write(&meta_path, json + "\n").map_err(Error::io(&meta_path))?;
    let staged = staging.keep();
    replace_dir(&staged, dir)
}

/// Moves the folder `from` to `to`, replacing `to` if it exists: the old folder is first moved
/// aside, then removed once the new one is in place.
fn replace_dir(from: &Path, to: &Path) -> Result<(), Error> {
    let old: Option<PathBuf> = if to.exists() {
        let aside = from.with_extension("old");
        std::fs::rename(to, &aside).map_err(Error::io(to))?;
        Some(aside)
    } else {
        None
    };
    std::fs::rename(from, to).map_err(Error::io(to))?;
    if let Some(old) = old {
        std::fs::remove_dir_all(&old).map_err(Error::io(&old))?;
    }
    Ok(())
}

/// Reads and checks `singerid.json` of a bundle folder.
///
/// # Errors
/// [`Error::Io`], [`Error::Json`], [`Error::Bundle`] for a wrong format or version.
pub fn load_meta(dir: &Path) -> Result<BundleMeta, Error> {
    let path = dir.join(META_FILE);
    let text = std::fs::read_to_string(&path).map_err(Error::io(&path))?;
    let meta: BundleMeta = serde_json::from_str(&text).map_err(|e| Error::Json {
        path: path.clone(),
        message: e.to_string(),
    })?;
    if meta.format != FORMAT || meta.version != VERSION {
        return Err(Error::Bundle {
            path,
            message: format!(
                "format {:?} version {} is not {FORMAT:?} version {VERSION}",
                meta.format, meta.version
            ),
        });
    }
    Ok(meta)
}

/// Loads a bundle folder written by [`save`] onto `device`.
///
/// # Errors
/// As [`load_meta`] and [`checkpoint::load`]; also [`Error::Bundle`] when the class names do not
/// match the model's class count.
pub fn load(dir: &Path, device: &Device) -> Result<Bundle, Error> {
    let meta = load_meta(dir)?;
    let model = checkpoint::load(dir, device)?;
    if model.config().n_classes != meta.classes.len() {
        return Err(Error::Bundle {
            path: dir.join(META_FILE),
            message: format!(
                "{} class names for a model with {} classes",
                meta.classes.len(),
                model.config().n_classes
            ),
        });
    }
    Ok(Bundle { model, meta })
}
