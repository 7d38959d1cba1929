//! THE import table: Keras layer names (from the graph's roles) to burn module paths, each with
//! its [`Mapping`].

use super::{KerasGraph, Mapping, ProjectionRoles};
#[cfg(doc)]
use crate::attention::FgnlBlock;
use crate::error::ModelError;
#[cfg(doc)]
use crate::model::Model;

/// One row of the import table: a Keras layer, its conversion and its burn module path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableEntry {
    /// Keras layer name (from the roles).
    pub keras_layer: String,
    /// Conversion.
    pub mapping: Mapping,
    /// burn module path (dot-separated) of the target module.
    pub module_path: String,
}

/// THE table from Keras layer names (taken from the graph's roles) to burn module paths of a
/// [`Model`] built from [`KerasGraph::model_config`].
///
/// # Errors
/// [`ModelError::KerasGraph`] if a role the model needs is absent.
pub fn layer_table(graph: &KerasGraph) -> Result<Vec<TableEntry>, ModelError> {
    let mut table = Vec::new();
    let mut push = |keras_layer: &str, mapping, module_path: String| {
        table.push(TableEntry {
            keras_layer: keras_layer.to_owned(),
            mapping,
            module_path,
        })
    };
    let r = &graph.roles;
    for (i, branch) in r.branches.iter().enumerate() {
        let bn = branch
            .input_bn
            .as_deref()
            .ok_or_else(|| graph.error(format!("branch {i} has no input_bn role")))?;
        push(
            bn,
            Mapping::BatchNorm,
            format!("branches.{i}.input_norm.norm"),
        );
        for (j, block) in branch.blocks.iter().enumerate() {
            push(
                &block.conv,
                Mapping::Conv2d,
                format!("branches.{i}.blocks.{j}.conv"),
            );
            push(
                &block.bn,
                Mapping::BatchNorm,
                format!("branches.{i}.blocks.{j}.norm"),
            );
        }
    }
    if r.fgnl.is_some() {
        table.extend(fgnl_table(graph, "attention.")?);
    }
    let role = |name: &Option<String>, what: &str| {
        name.clone()
            .ok_or_else(|| graph.error(format!("no {what} role")))
    };
    table.push(TableEntry {
        keras_layer: role(&r.gru_seq, "gru_seq")?,
        mapping: Mapping::Gru,
        module_path: "gru_sequence".into(),
    });
    table.push(TableEntry {
        keras_layer: role(&r.gru_final, "gru_final")?,
        mapping: Mapping::Gru,
        module_path: "gru_final".into(),
    });
    table.push(TableEntry {
        keras_layer: role(&r.logits_dense, "logits_dense")?,
        mapping: Mapping::Dense,
        module_path: "dense".into(),
    });
    Ok(table)
}

/// The FGNL part of the table, relative to `prefix` (`""` for a standalone [`FgnlBlock`]).
///
/// # Errors
/// [`ModelError::KerasGraph`] if the graph has no FGNL roles or its φ/g parts do not start with X4.
pub fn fgnl_table(graph: &KerasGraph, prefix: &str) -> Result<Vec<TableEntry>, ModelError> {
    let roles = graph
        .roles
        .fgnl
        .as_ref()
        .ok_or_else(|| graph.error("the graph has no FGNL roles".into()))?;
    let mut table = Vec::new();
    let mut projection = |p: &ProjectionRoles, field: &str| {
        table.push(TableEntry {
            keras_layer: p.conv1x1.clone(),
            mapping: Mapping::Conv2d,
            module_path: format!("{prefix}{field}.conv"),
        });
        if let Some(gauss) = &p.gauss {
            table.push(TableEntry {
                keras_layer: gauss.clone(),
                mapping: Mapping::Depthwise,
                module_path: format!("{prefix}{field}.smoothing"),
            });
        }
    };
    projection(&roles.theta, "theta");
    for (keys, name) in [(&roles.phi, "phi"), (&roles.g, "g")] {
        for (i, part) in keys.parts.iter().enumerate() {
            let from_x4 = part.source.as_deref() == Some(roles.residual_input.as_str());
            let field = match (i, from_x4) {
                (0, true) => format!("{name}_current"),
                (1, false) => format!("{name}_previous"),
                _ => {
                    return Err(graph.error(format!(
                        "{name} part {i} reads {:?}; expected X4 first, then X3",
                        part.source
                    )));
                }
            };
            projection(part, &field);
        }
    }
    if let Some(mose) = &roles.mose {
        table.push(TableEntry {
            keras_layer: mose.conv_1to16.clone(),
            mapping: Mapping::PointwiseAsDense,
            module_path: format!("{prefix}excitation.expand"),
        });
        table.push(TableEntry {
            keras_layer: mose.conv_16to1.clone(),
            mapping: Mapping::PointwiseAsDense,
            module_path: format!("{prefix}excitation.squeeze"),
        });
    }
    table.push(TableEntry {
        keras_layer: roles.w_z.clone(),
        mapping: Mapping::Conv2d,
        module_path: format!("{prefix}w_z"),
    });
    Ok(table)
}
