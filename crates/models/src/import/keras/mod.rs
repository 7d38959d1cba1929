//! Import of the authors' Keras weights (the `reference/keras` fixture format) into singerid's
//! burn modules.
//!
//! Inputs: `<model>_T<T>.safetensors` (every Keras variable, keyed `<layer>/<variable>`, Keras
//! layouts) and `<model>_T<T>_layers.json` (the layer graph and a `roles` map from semantic roles
//! to Keras layer names). The roles are the only source of layer names: [`layer_table`] turns them
//! into ONE table from Keras layer names to burn module paths, and [`Mapping`] says how each
//! Keras variable of a layer converts:
//!
//! | Keras layer | Keras variables (layout) | burn |
//! |---|---|---|
//! | Conv2D | `kernel` (kh, kw, in, out), `bias` | `weight` [out, in, kh, kw], `bias` |
//! | DepthwiseConv2D | `depthwise_kernel` (kh, kw, C, 1) | `kernel` [C, 1, kh, kw] |
//! | BatchNormalization | `gamma`, `beta`, `moving_mean`, `moving_variance` | `gamma`, `beta`, `running_mean`, `running_var` |
//! | GRU | `gru_cell/kernel` (in, 3U), `gru_cell/recurrent_kernel` (U, 3U), `gru_cell/bias` (2, 3U) | `kernel`, `recurrent_kernel`, `input_bias` = row 0, `recurrent_bias` = row 1 |
//! | Dense | `kernel` (in, out), `bias` | `weight` [in, out], `bias` |
//! | 1x1 Conv2D on a scalar (MoSE) | `kernel` (1, 1, in, out), `bias` | Linear `weight` [in, out], `bias` |
//!
//! Missing, unused and mis-shaped keys are errors that list every offending key by name.
//!
//! Files: `graph.rs` reads the `_layers.json` fixture ([`KerasGraph`]) and `roles.rs` its `roles`
//! map; `config.rs` derives the singerid [`crate::model::ModelConfig`] from a graph; `table.rs` is
//! the table of Keras layer names to burn module paths; `mapping.rs` converts each Keras
//! variable's layout; `tensors.rs` reads the weights file; `load.rs` puts it together.

mod config;
mod graph;
mod load;
mod mapping;
mod roles;
mod table;
mod tensors;

pub use graph::{IoIntermediate, KerasGraph, KerasLayer};
pub use load::{import_weights, load_fgnl, load_model};
pub use mapping::Mapping;
pub use roles::{
    BlockRoles, BranchRoles, FgnlRoles, KeyRoles, MoseRoles, ProjectionRoles, Roles, ShiftRoles,
};
pub use table::{TableEntry, fgnl_table, layer_table};
pub use tensors::{KerasTensors, read_f32_safetensors};
