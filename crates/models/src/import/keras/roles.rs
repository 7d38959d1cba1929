//! The `roles` map of a `_layers.json` fixture: semantic roles (branch, block, FGNL projection,
//! GRU, logits) to Keras layer names. The roles are the only source of layer names.

use serde::Deserialize;

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
