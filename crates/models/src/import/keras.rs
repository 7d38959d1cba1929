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

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::{Device, TensorData};
use burn_store::ModuleSnapshot;
use serde::Deserialize;
use serde_json::Value;

use crate::attention::{
    Attention, FgnlBlock, FgnlConfig, KeySources, Reweighting, Smoothing, SoftmaxOver,
};
use crate::backbone::BackboneConfig;
use crate::error::{ModelError, ShapeProblem};
use crate::model::{Inputs, Model, ModelConfig, ModelKind};

/// The `_layers.json` description of a Keras model.
#[derive(Debug, Clone, Deserialize)]
pub struct KerasGraph {
    /// Fixture model name (`crnn`, `crnn_fgnl`, `fgnl_c128`, ...).
    pub model: String,
    /// Clip length in frames.
    #[serde(rename = "T")]
    pub frames: usize,
    /// Input layer names in model-input order.
    pub inputs: Vec<String>,
    /// Keras' `count_params()`.
    pub total_params: usize,
    /// Layers in topological order.
    pub layers: Vec<KerasLayer>,
    /// Semantic roles to layer names.
    pub roles: Roles,
    /// Stored intermediates and how they were cut.
    #[serde(default)]
    pub io_intermediates: Vec<IoIntermediate>,
    /// Where the graph was read from.
    #[serde(skip)]
    pub path: PathBuf,
}

/// One Keras layer of the graph.
#[derive(Debug, Clone, Deserialize)]
pub struct KerasLayer {
    /// Layer name.
    pub name: String,
    /// Keras class (`Conv2D`, `GRU`, ...).
    pub class: String,
    /// The essential config entries.
    #[serde(default)]
    pub config: Value,
    /// Feeding layers.
    #[serde(default)]
    pub inbound: Vec<String>,
    /// Output shape (`null` = batch).
    #[serde(default)]
    pub output_shape: Value,
    /// `tf.roll` arguments.
    #[serde(default)]
    pub call_kwargs: Value,
}

/// A stored intermediate of an `_io` file.
#[derive(Debug, Clone, Deserialize)]
pub struct IoIntermediate {
    /// Keras layer name = key in the `_io` file.
    pub key: String,
    /// Shape of the full Keras tensor.
    pub full_shape: Vec<usize>,
    /// Shape stored (a leading slice of the full tensor).
    pub stored_shape: Vec<usize>,
}

/// The `roles` map.
#[derive(Debug, Clone, Deserialize)]
pub struct Roles {
    /// Input branches (mel first).
    pub branches: Vec<BranchRoles>,
    /// The FGNL layer, if any.
    #[serde(default)]
    pub fgnl: Option<FgnlRoles>,
    /// GRU returning sequences.
    #[serde(default)]
    pub gru_seq: Option<String>,
    /// GRU returning its final state.
    #[serde(default)]
    pub gru_final: Option<String>,
    /// The logits Dense layer.
    #[serde(default)]
    pub logits_dense: Option<String>,
    /// The Reshape feeding the first GRU.
    #[serde(default)]
    pub gru_input_reshape: Option<String>,
    /// The channel concatenation of two branches (CRNNM), when named.
    #[serde(default)]
    pub branch_concat: Option<String>,
}

/// Roles of one input branch.
#[derive(Debug, Clone, Deserialize)]
pub struct BranchRoles {
    /// Input layer.
    pub input: String,
    /// Input batch-norm.
    #[serde(default)]
    pub input_bn: Option<String>,
    /// Conv blocks.
    #[serde(default)]
    pub blocks: Vec<BlockRoles>,
}

/// Roles of one conv block.
#[derive(Debug, Clone, Deserialize)]
pub struct BlockRoles {
    /// Conv2D.
    pub conv: String,
    /// Block BatchNormalization.
    pub bn: String,
    /// MaxPooling2D (absent in FGNL block 1).
    #[serde(default)]
    pub pool: Option<String>,
    /// The block's Dropout = block output.
    #[serde(rename = "dropout(block output)")]
    pub output: String,
}

/// Roles of the FGNL layer.
#[derive(Debug, Clone, Deserialize)]
pub struct FgnlRoles {
    /// The X4 layer (queries, residual).
    #[serde(rename = "residual_input_X4")]
    pub residual_input: String,
    /// θ.
    pub theta: ProjectionRoles,
    /// φ.
    pub phi: KeyRoles,
    /// g.
    pub g: KeyRoles,
    /// Per roll shift.
    pub per_shift: Vec<ShiftRoles>,
    /// Stacked responses R.
    #[serde(rename = "R_concat")]
    pub r_concat: String,
    /// MoSE layers.
    #[serde(default)]
    pub mose: Option<MoseRoles>,
    /// Reshape feeding W_z.
    #[serde(rename = "reshape_Y")]
    pub reshape_y: String,
    /// W_z.
    #[serde(rename = "W_z")]
    pub w_z: String,
    /// Residual add (output Z).
    #[serde(rename = "add_Z")]
    pub add_z: String,
}

/// A 1x1 projection and its Gaussian filter.
#[derive(Debug, Clone, Deserialize)]
pub struct ProjectionRoles {
    /// Feeding layer (for φ/g parts).
    #[serde(default)]
    pub source: Option<String>,
    /// 1x1 Conv2D.
    pub conv1x1: String,
    /// DepthwiseConv2D Gaussian (absent without smoothing).
    #[serde(default)]
    pub gauss: Option<String>,
    /// Flattening Reshape.
    pub flatten: String,
}

/// φ or g: parts (X4 first) and their concatenation.
#[derive(Debug, Clone, Deserialize)]
pub struct KeyRoles {
    /// Concatenate layer.
    pub concat: String,
    /// One projection per source layer.
    pub parts: Vec<ProjectionRoles>,
}

/// Layers of one roll shift.
#[derive(Debug, Clone, Deserialize)]
pub struct ShiftRoles {
    /// Roll shift k.
    pub shift: i64,
    /// Roll layer.
    pub roll: String,
    /// Softmax layer.
    pub softmax: String,
}

/// MoSE layers.
#[derive(Debug, Clone, Deserialize)]
pub struct MoseRoles {
    /// 1x1 conv 1 -> 16.
    pub conv_1to16: String,
    /// 1x1 conv 16 -> 1.
    pub conv_16to1: String,
    /// Softmax over shifts (the weights).
    pub softmax_over_shifts: String,
}

impl KerasGraph {
    /// Reads a `_layers.json` file.
    ///
    /// # Errors
    /// I/O and JSON errors naming the file.
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut graph: KerasGraph =
            serde_json::from_str(&text).map_err(|source| ModelError::Json {
                path: path.to_owned(),
                source,
            })?;
        graph.path = path.to_owned();
        Ok(graph)
    }

    /// The layer called `name`.
    ///
    /// # Errors
    /// [`ModelError::KerasGraph`] if there is none.
    pub fn layer(&self, name: &str) -> Result<&KerasLayer, ModelError> {
        self.layers
            .iter()
            .find(|l| l.name == name)
            .ok_or_else(|| self.error(format!("no layer named {name:?}")))
    }

    fn error(&self, message: String) -> ModelError {
        ModelError::KerasGraph {
            path: self.path.clone(),
            message,
        }
    }

    fn config_usize(&self, layer: &str, key: &str) -> Result<usize, ModelError> {
        self.layer(layer)?
            .config
            .get(key)
            .and_then(Value::as_u64)
            .map(|v| v as usize)
            .ok_or_else(|| self.error(format!("layer {layer:?} has no integer config {key:?}")))
    }

    fn config_f64(&self, layer: &str, key: &str) -> Result<f64, ModelError> {
        self.layer(layer)?
            .config
            .get(key)
            .and_then(Value::as_f64)
            .ok_or_else(|| self.error(format!("layer {layer:?} has no number config {key:?}")))
    }

    fn config_pair(&self, layer: &str, key: &str) -> Result<[usize; 2], ModelError> {
        let v = self.layer(layer)?.config.get(key).and_then(Value::as_array);
        match v.map(|a| a.iter().filter_map(Value::as_u64).collect::<Vec<_>>()) {
            Some(a) if a.len() == 2 => Ok([a[0] as usize, a[1] as usize]),
            _ => Err(self.error(format!("layer {layer:?} has no pair config {key:?}"))),
        }
    }

    /// Whether this graph is a standalone FGNL layer (no conv branches).
    pub fn is_standalone_fgnl(&self) -> bool {
        self.roles.fgnl.is_some() && self.roles.branches.iter().all(|b| b.blocks.is_empty())
    }

    /// The FGNL configuration and channel count C encoded in the graph.
    ///
    /// # Errors
    /// [`ModelError::KerasGraph`] for a graph without FGNL or with behaviour singerid does not
    /// implement (a roll other than shifts 0..K on the channel axis, an unknown softmax axis).
    pub fn fgnl_config(&self) -> Result<(FgnlConfig, usize), ModelError> {
        let roles = self
            .roles
            .fgnl
            .as_ref()
            .ok_or_else(|| self.error("the graph has no FGNL layer".into()))?;
        let reduced = self.config_usize(&roles.theta.conv1x1, "filters")?;
        let channels = self.config_usize(&roles.w_z, "filters")?;
        if reduced == 0 || channels % reduced != 0 {
            return Err(self.error(format!(
                "θ has {reduced} filters, which does not divide C = {channels}"
            )));
        }
        for (k, shift) in roles.per_shift.iter().enumerate() {
            let kwargs = &self.layer(&shift.roll)?.call_kwargs;
            let (s, axis) = (
                kwargs.get("shift").and_then(Value::as_i64),
                kwargs.get("axis").and_then(Value::as_i64),
            );
            if shift.shift != k as i64 || s != Some(k as i64) || axis != Some(2) {
                return Err(self.error(format!(
                    "roll {:?} is shift {s:?} on axis {axis:?}; singerid implements shift k on \
                     the channel axis (2) for k = 0..K",
                    shift.roll
                )));
            }
        }
        if roles.per_shift.len() != reduced {
            return Err(self.error(format!(
                "{} roll shifts for {reduced} reduced channels; singerid uses K = C/m",
                roles.per_shift.len()
            )));
        }
        let softmax_over = match roles.per_shift.first() {
            Some(s) => match self
                .layer(&s.softmax)?
                .config
                .get("axis")
                .and_then(Value::as_i64)
            {
                Some(1) => SoftmaxOver::Queries,
                Some(2) | Some(-1) => SoftmaxOver::Keys,
                other => {
                    return Err(self.error(format!("unsupported FGNL softmax axis {other:?}")));
                }
            },
            None => return Err(self.error("FGNL without roll shifts".into())),
        };
        let key_sources = match roles.phi.parts.len() {
            1 => KeySources::Current,
            2 => KeySources::CurrentAndPrevious,
            n => return Err(self.error(format!("FGNL over {n} layers is not supported"))),
        };
        let smoothing = match roles.theta.gauss {
            Some(_) => Smoothing::Gaussian,
            None => Smoothing::Off,
        };
        let (reweighting, hidden) = match &roles.mose {
            Some(m) => (
                Reweighting::Mose,
                self.config_usize(&m.conv_1to16, "filters")?,
            ),
            None => (Reweighting::Off, 16),
        };
        let config = FgnlConfig::new()
            .with_reduction(channels / reduced)
            .with_softmax_over(softmax_over)
            .with_key_sources(key_sources)
            .with_smoothing(smoothing)
            .with_reweighting(reweighting)
            .with_excitation_hidden(hidden);
        Ok((config, channels))
    }

    /// The singerid config of the model in this graph (kind, classes, backbone, attention).
    ///
    /// # Errors
    /// [`ModelError::KerasGraph`] for graphs singerid cannot represent.
    pub fn model_config(&self) -> Result<ModelConfig, ModelError> {
        let r = &self.roles;
        let branch = r
            .branches
            .first()
            .filter(|b| !b.blocks.is_empty())
            .ok_or_else(|| self.error("no conv branch in the roles".into()))?;
        let inputs = match r.branches.len() {
            1 => Inputs::Mel,
            2 => Inputs::MelAndMelody,
            n => return Err(self.error(format!("{n} input branches are not supported"))),
        };
        let input_shape = self
            .layer(&branch.input)?
            .config
            .get("batch_input_shape")
            .and_then(Value::as_array)
            .and_then(|a| a.get(1))
            .and_then(Value::as_u64)
            .ok_or_else(|| self.error(format!("input {:?} has no mel size", branch.input)))?;
        let first = &branch.blocks[0];
        let kernel = self.config_pair(&first.conv, "kernel_size")?;
        if kernel[0] != kernel[1] {
            return Err(self.error(format!("non-square conv kernel {kernel:?}")));
        }
        let mut filters = Vec::new();
        let mut pools = Vec::new();
        for block in &branch.blocks {
            filters.push(self.config_usize(&block.conv, "filters")?);
            pools.push(match &block.pool {
                Some(pool) => {
                    let size = self.config_pair(pool, "pool_size")?;
                    if self.config_pair(pool, "strides")? != size {
                        return Err(self.error(format!("pool {pool:?} has stride != size")));
                    }
                    Some(size)
                }
                None => None,
            });
        }
        let backbone = BackboneConfig {
            mels: input_shape as usize,
            filters,
            pools,
            kernel_size: kernel[0],
            dropout: self.config_f64(&first.output, "rate")?,
            bn_epsilon: self.config_f64(&first.bn, "epsilon")?,
            bn_momentum: 1.0 - self.config_f64(&first.bn, "momentum")?,
        };
        let gru_seq = r
            .gru_seq
            .as_deref()
            .ok_or_else(|| self.error("no gru_seq role".into()))?;
        let gru = self.layer(gru_seq)?;
        let reset_after = gru.config.get("reset_after").and_then(Value::as_bool);
        let recurrent = gru
            .config
            .get("recurrent_activation")
            .and_then(Value::as_str);
        if reset_after != Some(true) || recurrent != Some("sigmoid") {
            return Err(self.error(format!(
                "GRU {gru_seq:?} has reset_after {reset_after:?} and recurrent activation \
                 {recurrent:?}; singerid implements reset_after=True with sigmoid"
            )));
        }
        let gru_units = self.config_usize(gru_seq, "units")?;
        let dense = r
            .logits_dense
            .as_deref()
            .ok_or_else(|| self.error("no logits_dense role".into()))?;
        let n_classes = self.config_usize(dense, "units")?;
        let head_dropout = match self.layer(dense)?.inbound.first() {
            Some(name) if self.layer(name)?.class == "Dropout" => self.config_f64(name, "rate")?,
            _ => 0.0,
        };
        let attention = match &r.fgnl {
            Some(_) => Attention::Fgnl(self.fgnl_config()?.0),
            None => Attention::Off,
        };
        let fgnl_backbone = backbone.pools.first() == Some(&None);
        let kind = match (&attention, inputs, fgnl_backbone) {
            (Attention::Off, Inputs::Mel, false) => ModelKind::Crnn,
            (Attention::Off, Inputs::MelAndMelody, _) => ModelKind::Crnnm,
            (Attention::Off, Inputs::Mel, true) => ModelKind::FgnlBackbone,
            (Attention::Fgnl(c), Inputs::Mel, _) if c.key_sources == KeySources::Current => {
                ModelKind::CrnnFgnlLight
            }
            (Attention::Fgnl(_), Inputs::Mel, _) => ModelKind::CrnnFgnl,
            (_, Inputs::MelAndMelody, _) => ModelKind::CrnnmFgnl,
            (Attention::NonLocal(_), Inputs::Mel, _) => ModelKind::CrnnNl,
        };
        let config = ModelConfig {
            kind,
            n_classes,
            inputs,
            backbone,
            attention,
            gru_units,
            head_dropout,
        };
        config.validate()?;
        Ok(config)
    }
}

/// How one Keras layer's variables become burn tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// Conv2D: `kernel` HWIO -> OIHW `weight`, `bias`.
    Conv2d,
    /// DepthwiseConv2D: `depthwise_kernel` (kh, kw, C, 1) -> `kernel` [C, 1, kh, kw].
    Depthwise,
    /// BatchNormalization.
    BatchNorm,
    /// GRU with `reset_after=True`.
    Gru,
    /// Dense: `kernel` (in, out) -> `weight` [in, out], `bias`.
    Dense,
    /// A 1x1 Conv2D applied to one scalar per position (MoSE), kept as a burn Linear.
    PointwiseAsDense,
}

/// One variable conversion: Keras variable name, burn field, layout change.
struct Variable {
    keras: &'static str,
    burn: &'static str,
    layout: Layout,
}

#[derive(Clone, Copy)]
enum Layout {
    Same,
    /// Permute axes (result axis i = source axis `axes[i]`).
    Permute4([usize; 4]),
    /// Row `r` of a 2-D tensor.
    Row(usize),
    /// Drop the two leading unit axes of a 1x1 kernel.
    DropLeading2,
}

impl Mapping {
    fn variables(self) -> Vec<Variable> {
        let v = |keras, burn, layout| Variable {
            keras,
            burn,
            layout,
        };
        match self {
            Mapping::Conv2d => vec![
                v("kernel", "weight", Layout::Permute4([3, 2, 0, 1])),
                v("bias", "bias", Layout::Same),
            ],
            Mapping::Depthwise => vec![v(
                "depthwise_kernel",
                "kernel",
                Layout::Permute4([2, 3, 0, 1]),
            )],
            Mapping::BatchNorm => vec![
                v("gamma", "gamma", Layout::Same),
                v("beta", "beta", Layout::Same),
                v("moving_mean", "running_mean", Layout::Same),
                v("moving_variance", "running_var", Layout::Same),
            ],
            Mapping::Gru => vec![
                v("gru_cell/kernel", "kernel", Layout::Same),
                v(
                    "gru_cell/recurrent_kernel",
                    "recurrent_kernel",
                    Layout::Same,
                ),
                v("gru_cell/bias", "input_bias", Layout::Row(0)),
                v("gru_cell/bias", "recurrent_bias", Layout::Row(1)),
            ],
            Mapping::Dense => vec![
                v("kernel", "weight", Layout::Same),
                v("bias", "bias", Layout::Same),
            ],
            Mapping::PointwiseAsDense => vec![
                v("kernel", "weight", Layout::DropLeading2),
                v("bias", "bias", Layout::Same),
            ],
        }
    }
}

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

/// Tensors of a safetensors file: key -> (shape, row-major f32 values).
pub type KerasTensors = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

/// Reads a safetensors file into `(shape, f32 values)` per key.
///
/// # Errors
/// I/O errors, malformed files, and non-f32 tensors, naming the file (and key).
pub fn read_f32_safetensors(path: &Path) -> Result<KerasTensors, ModelError> {
    let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_owned(),
        source,
    })?;
    let fail = |message: String| ModelError::Safetensors {
        path: path.to_owned(),
        message,
    };
    let file = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| fail(format!("not a safetensors file: {e}")))?;
    let mut out = BTreeMap::new();
    for (name, view) in file.tensors() {
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(fail(format!("{name} is {:?}, expected F32", view.dtype())));
        }
        let values = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        out.insert(name, (view.shape().to_vec(), values));
    }
    Ok(out)
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
    let targets: BTreeMap<String, Vec<usize>> = module
        .collect(None, None, true)
        .into_iter()
        .map(|t| (t.name.clone(), t.shape.to_vec()))
        .collect();

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

/// Converts one Keras tensor to the burn layout; `None` if its rank does not fit.
fn convert(layout: Layout, shape: &[usize], values: &[f32]) -> Option<(Vec<usize>, Vec<f32>)> {
    match layout {
        Layout::Same => Some((shape.to_vec(), values.to_vec())),
        Layout::Row(r) => match shape {
            [rows, cols] if r < *rows => {
                Some((vec![*cols], values[r * cols..(r + 1) * cols].to_vec()))
            }
            _ => None,
        },
        Layout::DropLeading2 => match shape {
            [1, 1, i, o] => Some((vec![*i, *o], values.to_vec())),
            _ => None,
        },
        Layout::Permute4(axes) => {
            let src: [usize; 4] = shape.try_into().ok()?;
            let dst = axes.map(|a| src[a]);
            let strides = [src[1] * src[2] * src[3], src[2] * src[3], src[3], 1];
            let mut out = Vec::with_capacity(values.len());
            for i0 in 0..dst[0] {
                for i1 in 0..dst[1] {
                    for i2 in 0..dst[2] {
                        for i3 in 0..dst[3] {
                            let idx = [i0, i1, i2, i3];
                            let mut offset = 0;
                            for (d, &a) in axes.iter().enumerate() {
                                offset += idx[d] * strides[a];
                            }
                            out.push(values[offset]);
                        }
                    }
                }
            }
            Some((dst.to_vec(), out))
        }
    }
}

/// The Keras-layout shape that converts to the burn shape `target`.
fn keras_shape(layout: Layout, target: &[usize]) -> Vec<usize> {
    match (layout, target) {
        (Layout::Permute4(axes), [_, _, _, _]) => {
            let mut src = [0; 4];
            for (d, &a) in axes.iter().enumerate() {
                src[a] = target[d];
            }
            src.to_vec()
        }
        (Layout::Row(_), [n]) => vec![2, *n],
        (Layout::DropLeading2, [i, o]) => vec![1, 1, *i, *o],
        _ => target.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hwio_to_oihw() {
        // kernel[kh, kw, i, o] = 1000 kh + 100 kw + 10 i + o, shape (2, 3, 2, 2).
        let shape = [2, 3, 2, 2];
        let values: Vec<f32> = (0..2)
            .flat_map(|a| {
                (0..3).flat_map(move |b| {
                    (0..2).flat_map(move |c| {
                        (0..2).map(move |d| (1000 * a + 100 * b + 10 * c + d) as f32)
                    })
                })
            })
            .collect();
        let (s, v) = convert(Layout::Permute4([3, 2, 0, 1]), &shape, &values).expect("rank 4");
        assert_eq!(s, vec![2, 2, 2, 3]);
        // weight[o=1, i=0, kh=1, kw=2] = 1000 + 200 + 0 + 1.
        assert_eq!(v[(2 * 2 + 1) * 3 + 2], 1201.0);
        assert_eq!(
            keras_shape(Layout::Permute4([3, 2, 0, 1]), &s),
            shape.to_vec()
        );
    }

    #[test]
    fn gru_bias_rows() {
        let (s, v) =
            convert(Layout::Row(1), &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).expect("rank 2");
        assert_eq!((s, v), (vec![3], vec![4.0, 5.0, 6.0]));
        assert!(convert(Layout::Row(0), &[6], &[0.0; 6]).is_none());
    }
}
