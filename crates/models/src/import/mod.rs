//! Weight import from other frameworks: the authors' Keras models ([`keras`]); PyTorch state
//! dicts and their key tables ([`state_dict`]), used by the Open-Unmix
//! (`crate::separation::import`) and CREPE (`crate::pitch::import`) importers.

use std::collections::BTreeMap;

use burn_store::ModuleSnapshot;

pub mod keras;
pub mod state_dict;

/// The burn-side shape of every tensor of `module`, keyed by module path: what an importer
/// checks a foreign tensor against.
pub(crate) fn tensor_shapes<M: ModuleSnapshot>(module: &M) -> BTreeMap<String, Vec<usize>> {
    module
        .collect(None, None, true)
        .into_iter()
        .map(|t| (t.name.clone(), t.shape.to_vec()))
        .collect()
}
