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
use singerid_models::SingerModel;
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
    /// The separator whose vocals the model was trained on; its copy is the bundle's
    /// `separator/` folder. None: the feature config's channel of each file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub separator: Option<crate::vocals::SeparatorRecord>,
    /// The CREPE weights and settings of the melody input, for the CRNNM models. The weights
    /// are not copied into the bundle (89 MB for CREPE full): loading finds them by
    /// [`crate::melody::MelodyExtractor::from_record`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub melody: Option<crate::melody::MelodyRecord>,
    /// Files whose answer is less confident than this (the vote winner's mean clip
    /// probability) are named `unknown`; calibrated on the validation recordings
    /// ([`singerid_eval::vote::calibrate_unknown`]). None: never (no validation data, or a
    /// bundle from before the calibration existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_below: Option<f32>,
}

/// A model with its metadata.
#[derive(Debug)]
pub struct Bundle {
    /// The model, on the device it was loaded onto.
    pub model: Box<dyn SingerModel>,
    /// Its metadata.
    pub meta: BundleMeta,
    /// The separator its input goes through first (from the bundle's `separator/`), when the
    /// model was trained on separated vocals.
    pub separator: Option<singerid_models::separation::Separator>,
    /// The CREPE that makes its melody input, for a model that takes one.
    pub melody: Option<crate::melody::MelodyExtractor>,
}

impl Bundle {
    /// Where the model's input comes from: `channel <name>` (the feature config's channel of
    /// each file) or `separated by <separator id>`, followed for a model with a melody input
    /// by `, melody by CREPE <folder> (<step> ms step)`, computed on the same audio.
    pub fn vocals(&self) -> String {
        let source = match &self.separator {
            Some(separator) => format!("separated by {}", separator.id()),
            None => format!("channel {}", self.meta.features.channel.name()),
        };
        match &self.meta.melody {
            Some(melody) => format!(
                "{source}, melody by CREPE {} ({} ms step)",
                melody
                    .crepe_source
                    .file_name()
                    .map_or_else(|| melody.crepe_id.clone(), |n| n.to_string_lossy().into()),
                melody.hop_length as f64 * 1000.0
                    / f64::from(singerid_models::pitch::SAMPLE_RATE_HZ)
            ),
            None => source,
        }
    }
}

/// The bundle's copy of its separator (see [`BundleMeta::separator`]).
pub const SEPARATOR_DIR: &str = "separator";

/// Saves `model` and `meta` into the folder `dir`, atomically replacing any bundle there.
///
/// # Errors
/// [`Error::Io`], [`Error::Model`] naming the file.
pub fn save(model: &dyn SingerModel, meta: &BundleMeta, dir: &Path) -> Result<(), Error> {
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
    if let Some(record) = &meta.separator {
        let source = crate::vocals::resolve_separator_dir(&record.source);
        let target = staging.path().join(SEPARATOR_DIR);
        std::fs::create_dir_all(&target).map_err(Error::io(&target))?;
        for file in [
            singerid_models::separation::separator::SEPARATOR_FILE,
            singerid_models::separation::separator::SEPARATOR_WEIGHTS,
        ] {
            std::fs::copy(source.join(file), target.join(file))
                .map_err(Error::io(&source.join(file)))?;
        }
    }
    let meta_path = staging.path().join(META_FILE);
    let json = serde_json::to_string_pretty(meta).map_err(|e| Error::Json {
        path: meta_path.clone(),
        message: e.to_string(),
    })?;
    std::fs::write(&meta_path, json + "\n").map_err(Error::io(&meta_path))?;
    let staged = staging.keep();
    replace_dir(&staged, dir)
}

/// Moves the complete folder `from` to `to`, replacing it (see [`singerid_data::atomic`]).
fn replace_dir(from: &Path, to: &Path) -> Result<(), Error> {
    singerid_data::atomic::replace_dir(from, to, &from.with_extension("old")).map_err(Error::io(to))
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

/// The bundle folder a user means by `path`: the folder itself when it holds a bundle, or the
/// `best/` folder of a training run folder.
///
/// # Errors
/// [`Error::NotAModel`], saying what `path` is instead (missing, a file, a folder without a
/// bundle) and what to pass.
pub fn resolve_dir(path: &Path) -> Result<PathBuf, Error> {
    let not_a_model = |what: &str| Error::NotAModel {
        path: path.to_owned(),
        what: what.to_owned(),
    };
    if path.is_file() {
        return Err(not_a_model("is a file, not a model folder"));
    }
    if !path.exists() {
        return Err(not_a_model("does not exist"));
    }
    if path.join(META_FILE).is_file() {
        return Ok(path.to_owned());
    }
    let best = path.join("best");
    if best.join(META_FILE).is_file() {
        tracing::info!(
            "{} is a training run; using its best/ model",
            path.display()
        );
        return Ok(best);
    }
    Err(not_a_model(&format!(
        "holds no {META_FILE}, so it is not a model folder"
    )))
}

/// Loads a bundle folder written by [`save`] onto `device` (a training run folder stands for
/// its `best/` bundle; see [`resolve_dir`]).
///
/// # Errors
/// As [`load_meta`] and [`checkpoint::load`]; also [`Error::Bundle`] when the class names do not
/// match the model's class count.
pub fn load(dir: &Path, device: &Device) -> Result<Bundle, Error> {
    let dir = &resolve_dir(dir)?;
    let meta = load_meta(dir)?;
    let model = checkpoint::load(dir, device)?;
    if model.n_classes() != meta.classes.len() {
        return Err(Error::Bundle {
            path: dir.join(META_FILE),
            message: format!(
                "{} class names for a model with {} classes",
                meta.classes.len(),
                model.n_classes()
            ),
        });
    }
    let separator = match &meta.separator {
        Some(record) => {
            let folder = dir.join(SEPARATOR_DIR);
            let separator = singerid_models::separation::Separator::load(&folder, device)?;
            if separator.id() != record.id {
                return Err(Error::Bundle {
                    path: folder,
                    message: format!(
                        "separator weights {} are not the ones the model was trained with ({})",
                        separator.id(),
                        record.id
                    ),
                });
            }
            Some(separator)
        }
        None => None,
    };
    let melody = match (&meta.melody, model.inputs()) {
        (Some(record), singerid_models::Inputs::MelAndMelody) => {
            Some(crate::melody::MelodyExtractor::from_record(record)?)
        }
        (None, singerid_models::Inputs::MelAndMelody) => {
            return Err(Error::Bundle {
                path: dir.join(META_FILE),
                message: format!(
                    "{} takes a melody input, and the bundle does not say how it was made",
                    model.name()
                ),
            });
        }
        _ => None,
    };
    Ok(Bundle {
        model,
        meta,
        separator,
        melody,
    })
}
