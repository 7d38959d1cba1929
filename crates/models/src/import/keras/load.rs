//! Loading Keras weights into a burn module: build the model (or FGNL layer) a graph describes,
//! then apply every table entry's converted variables, reporting every missing, unused or
//! mis-shaped key by name.

use std::collections::BTreeSet;
use std::path::Path;

use burn::module::Module;
use burn::tensor::{Device, TensorData};
use burn_store::ModuleSnapshot;

use super::mapping::{convert, keras_shape};
use super::{KerasGraph, TableEntry, fgnl_table, layer_table, read_f32_safetensors};
use crate::attention::FgnlBlock;
use crate::error::{ModelError, ShapeProblem};
use crate::model::Model;

/// Builds the model described by `graph` and loads the Keras weights from `weights`.
///
/// # Errors
/// Graph, I/O, safetensors and key errors (every missing, unused or mis-shaped key by name).
pub fn load_model(
    weights: &Path,
    graph: &KerasGraph,
    device: &Device,
) -> Result<Model, ModelError> {
    let config = graph.model_config()?;
    let mut model = config.try_init(device)?;
    import_weights(&mut model, weights, &layer_table(graph)?)?;
    Ok(model)
}

/// Builds the standalone FGNL layer described by `graph` and loads its weights.
///
/// # Errors
/// As [`load_model`].
pub fn load_fgnl(
    weights: &Path,
    graph: &KerasGraph,
    device: &Device,
) -> Result<FgnlBlock, ModelError> {
    let (config, channels) = graph.fgnl_config()?;
    let mut block = config.init(channels, device);
    import_weights(&mut block, weights, &fgnl_table(graph, "")?)?;
    Ok(block)
}

/// Loads the Keras variables of `weights` into `module` following `table`.
///
/// # Errors
/// [`ModelError::Keys`] listing every missing, unused or mis-shaped key; I/O and format errors.
pub fn import_weights<M: Module>(
    module: &mut M,
    weights: &Path,
    table: &[TableEntry],
) -> Result<(), ModelError> {
    let file = read_f32_safetensors(weights)?;
    // The burn-side shape of every tensor of the module, by path.
    let targets = crate::import::tensor_shapes(&*module);

    let mut used = BTreeSet::new();
    let mut missing = Vec::new();
    let mut mis_shaped = Vec::new();
    let mut unmapped_targets = Vec::new();
    let mut tensors = Vec::new();
    for entry in table {
        for var in entry.mapping.variables() {
            let key = format!("{}/{}", entry.keras_layer, var.keras);
            let path = format!("{}.{}", entry.module_path, var.burn);
            let Some(target) = targets.get(&path) else {
                unmapped_targets.push(format!("{key} -> {path}"));
                continue;
            };
            let Some((shape, values)) = file.get(&key) else {
                if !missing.contains(&key) {
                    missing.push(key);
                }
                continue;
            };
            used.insert(key.clone());
            match convert(var.layout, shape, values) {
                Some((converted_shape, converted)) if &converted_shape == target => {
                    tensors.push(burn_store::bridge::from_data(
                        TensorData::new(converted, converted_shape),
                        path,
                        None,
                    ));
                }
                _ => mis_shaped.push(ShapeProblem {
                    key,
                    expected: keras_shape(var.layout, target),
                    found: shape.clone(),
                }),
            }
        }
    }
    if !unmapped_targets.is_empty() {
        return Err(ModelError::KerasGraph {
            path: weights.to_owned(),
            message: format!(
                "the Keras graph maps onto module paths this model does not have: {}",
                unmapped_targets.join(", ")
            ),
        });
    }
    let unused: Vec<String> = file
        .keys()
        .filter(|k| !used.contains(*k))
        .cloned()
        .collect();
    if !missing.is_empty() || !unused.is_empty() || !mis_shaped.is_empty() {
        return Err(ModelError::Keys {
            path: weights.to_owned(),
            missing,
            unused,
            mis_shaped,
        });
    }
    let result = module.apply(tensors, None, None, true);
    let not_loaded: Vec<String> = result.missing.iter().map(|(p, _)| p.clone()).collect();
    if !result.errors.is_empty() || !not_loaded.is_empty() || !result.unused.is_empty() {
        return Err(ModelError::KerasGraph {
            path: weights.to_owned(),
            message: format!(
                "the import table does not cover the model: module tensors without a Keras \
                 variable: [{}]; unused: [{}]; errors: [{}]",
                not_loaded.join(", "),
                result.unused.join(", "),
                result
                    .errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        });
    }
    Ok(())
}
