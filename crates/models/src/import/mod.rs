//! Weight import from other frameworks: the authors' Keras models ([`keras`]); Open-Unmix's
//! PyTorch state dicts live with the model in `crate::separation::import`.

use std::collections::BTreeMap;

use burn_store::ModuleSnapshot;

pub mod keras;

/// The burn-side shape of every tensor of `module`, keyed by module path: what an importer
/// checks a foreign tensor against.
pub(crate) fn tensor_shapes<M: ModuleSnapshot>(module: &M) -> BTreeMap<String, Vec<usize>> {
    module
        .collect(None, None, true)
        .into_iter()
        .map(|t| (t.name.clone(), t.shape.to_vec()))
        .collect()
}
