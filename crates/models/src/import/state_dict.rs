//! PyTorch state dicts: the tensors read from a file, and loading them into a burn module
//! through a key table (one row per PyTorch key: the module path it fills and how its layout
//! changes). Shared by the Open-Unmix (`crate::separation::import`) and CREPE
//! (`crate::pitch::import`) importers.
//!
//! Every missing, unused or mis-shaped key is an error that names it; PyTorch's batch-norm
//! step counters (`*.num_batches_tracked`) are accepted and ignored; nothing else is skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use burn::tensor::TensorData;
use burn_store::ModuleSnapshot;
use safetensors::Dtype;

use crate::error::{ModelError, ShapeProblem};

/// One tensor of a state dict.
#[derive(Debug, Clone, PartialEq)]
pub struct StateTensor {
    /// Shape in PyTorch's layout.
    pub shape: Vec<usize>,
    /// Element type in the file.
    pub dtype: Dtype,
    /// Row-major values for `F32` tensors; `None` for any other type (e.g. the `I64`
    /// `num_batches_tracked` counters).
    pub values: Option<Vec<f32>>,
}

/// A state dict: PyTorch key -> tensor.
pub type StateDict = BTreeMap<String, StateTensor>;

/// Suffix of PyTorch's batch-norm step counters, accepted and ignored.
pub(crate) const BN_COUNTER_SUFFIX: &str = "num_batches_tracked";

/// How a PyTorch tensor becomes the burn one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// The same shape and order.
    Same,
    /// `[out, in, width, 1]` (a `Conv2d` over `(time, 1)`) -> `[out, in, width]`.
    DropUnitAxis,
    /// `[out, in]` -> `[in, out]` (burn's `Linear` row layout).
    Transpose,
}

/// One row of a key table.
pub(crate) struct Entry {
    /// The PyTorch key.
    pub(crate) key: String,
    /// The burn module path.
    pub(crate) path: String,
    /// How the layout changes.
    pub(crate) layout: Layout,
}

/// Reads every tensor of a safetensors file.
///
/// # Errors
/// [`ModelError::Io`] if the file cannot be read, [`ModelError::Safetensors`] if it is not
/// safetensors.
pub fn read_state_dict(path: &Path) -> Result<StateDict, ModelError> {
    let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_owned(),
        source,
    })?;
    let file =
        safetensors::SafeTensors::deserialize(&bytes).map_err(|e| ModelError::Safetensors {
            path: path.to_owned(),
            message: format!("not a safetensors file: {e}"),
        })?;
    Ok(file
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let values = (view.dtype() == Dtype::F32).then(|| {
                view.data()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect()
            });
            let tensor = StateTensor {
                shape: view.shape().to_vec(),
                dtype: view.dtype(),
                values,
            };
            (name, tensor)
        })
        .collect())
}

/// Loads `state` (read from `source`, named in errors) into `model` through `table`.
/// `network` names the model in messages; `f32_hint` is appended to the message about
/// tensors that are not float32.
///
/// # Errors
/// [`ModelError::Keys`] listing every missing, unused and mis-shaped key;
/// [`ModelError::Safetensors`] naming the keys that are not F32.
///
/// # Panics
/// If the table names a module path the model lacks, or does not cover the model (a bug in
/// the importer's table).
pub(crate) fn apply_table<M: ModuleSnapshot>(
    model: &mut M,
    table: Vec<Entry>,
    state: &StateDict,
    source: &Path,
    network: &str,
    f32_hint: &str,
) -> Result<(), ModelError> {
    // The burn-side shape of every tensor of the model, by path.
    let targets = super::tensor_shapes(&*model);
    let mut used = BTreeSet::new();
    let mut missing = Vec::new();
    let mut mis_shaped = Vec::new();
    let mut not_f32 = Vec::new();
    let mut tensors = Vec::new();
    for entry in table {
        let target = targets.get(&entry.path).unwrap_or_else(|| {
            panic!(
                "{network} key table maps {} to {}, which the model lacks",
                entry.key, entry.path
            )
        });
        let expected = match entry.layout {
            Layout::Same => target.clone(),
            Layout::DropUnitAxis => target.iter().copied().chain([1]).collect(),
            Layout::Transpose => target.iter().rev().copied().collect(),
        };
        let Some(tensor) = state.get(&entry.key) else {
            missing.push(entry.key);
            continue;
        };
        used.insert(entry.key.clone());
        if tensor.shape != expected {
            mis_shaped.push(ShapeProblem {
                key: entry.key,
                expected,
                found: tensor.shape.clone(),
            });
            continue;
        }
        let Some(values) = &tensor.values else {
            not_f32.push(format!("{} ({:?})", entry.key, tensor.dtype));
            continue;
        };
        let values = match entry.layout {
            Layout::Same | Layout::DropUnitAxis => values.clone(),
            Layout::Transpose => transpose(values, &tensor.shape),
        };
        let data = TensorData::new(values, target.clone());
        tensors.push(burn_store::bridge::from_data(data, entry.path, None));
    }
    let unused: Vec<String> = state
        .keys()
        .filter(|k| !used.contains(*k) && !k.ends_with(BN_COUNTER_SUFFIX))
        .cloned()
        .collect();
    if !missing.is_empty() || !unused.is_empty() || !mis_shaped.is_empty() {
        return Err(ModelError::Keys {
            path: source.to_owned(),
            missing,
            unused,
            mis_shaped,
        });
    }
    if !not_f32.is_empty() {
        return Err(ModelError::Safetensors {
            path: source.to_owned(),
            message: format!(
                "{network} import reads float32 tensors; these are not: {}{f32_hint}",
                not_f32.join(", ")
            ),
        });
    }
    let result = model.apply(tensors, None, None, true);
    let not_loaded: Vec<&str> = result.missing.iter().map(|(p, _)| p.as_str()).collect();
    assert!(
        result.errors.is_empty() && not_loaded.is_empty() && result.unused.is_empty(),
        "{network} key table does not cover the model: not loaded {not_loaded:?}, unused {:?}, \
         errors {:?}",
        result.unused,
        result.errors
    );
    Ok(())
}

/// `[rows, cols]` row-major values -> their `[cols, rows]` transpose, row-major.
fn transpose(values: &[f32], shape: &[usize]) -> Vec<f32> {
    let (rows, cols) = (shape[0], shape[1]);
    let mut out = vec![0.0f32; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

/// A float32 tensor of `shape` holding 0, 1, 2, ... (importers' unit tests build state dicts
/// from it).
#[cfg(test)]
pub(crate) fn f32_tensor(shape: &[usize]) -> StateTensor {
    StateTensor {
        shape: shape.to_vec(),
        dtype: Dtype::F32,
        values: Some(
            (0..shape.iter().product::<usize>())
                .map(|v| v as f32)
                .collect(),
        ),
    }
}
