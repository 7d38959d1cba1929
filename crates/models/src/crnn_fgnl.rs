//! CRNN_FGNL: Kuo, Wei & Lin (2021), "Positions, Channels, and Layers: Fully Generalized
//! Non-Local Network for Singer Identification", AAAI, Fig. 3(a), Eqs. (7)-(9); 584,141
//! parameters (Table 1).
//!
//! Reference: ian-k-1217/Fully-Generalized-Non-Local-Network@939ca11, `CRNN_FGNL/src/models.py`.
//! The backbone is the authors' (no pooling in block 1, then (2,2) three times), not
//! Nasrullah's; the FGNL module runs on block 4 with keys and values from blocks 4 and 3. The
//! softmax runs over the query axis as in the authors' code (`Softmax(axis=1)`); set
//! `FgnlConfig::softmax_over` to `SoftmaxOver::Keys` for the paper text's row softmax. The
//! Dense layer's L2 kernel and L1 activity regularisers (0.01 each; the Dense is linear, the
//! softmax a separate layer) are [`ModelConfig::dense_l2`] and
//! [`ModelConfig::dense_activity_l1`], added to the training loss by the trainer.

use crate::attention::{Attention, FgnlConfig};
use crate::model::{ModelConfig, ModelKind};

/// The authors' L2 kernel regulariser on the Dense layer.
pub const DENSE_L2: f64 = 0.01;
/// The authors' L1 activity regulariser on the Dense layer's output (the logits).
pub const DENSE_ACTIVITY_L1: f64 = 0.01;

impl ModelConfig {
    /// The authors' CRNN_FGNL: the FGNL backbone plus FGNL(X4, [X4, X3]) with m = 32,
    /// Gaussian smoothing and MoSE.
    pub fn crnn_fgnl(n_classes: usize) -> Self {
        Self {
            kind: ModelKind::CrnnFgnl,
            attention: Attention::Fgnl(FgnlConfig::new()),
            dense_l2: DENSE_L2,
            dense_activity_l1: DENSE_ACTIVITY_L1,
            ..Self::fgnl_backbone(n_classes)
        }
    }
}
