//! CRNN_FGNL: Kuo, Wei & Lin (2021), "Positions, Channels, and Layers: Fully Generalized
//! Non-Local Network for Singer Identification", AAAI, Fig. 3(a), Eqs. (7)-(9); 584,141
//! parameters (Table 1).
//!
//! Reference: ian-k-1217/Fully-Generalized-Non-Local-Network@939ca11, `CRNN_FGNL/src/models.py`.
//! The backbone is the authors' (no pooling in block 1, then (2,2) three times), not
//! Nasrullah's; the FGNL module runs on block 4 with keys and values from blocks 4 and 3. The
//! softmax runs over the query axis as in the authors' code (`Softmax(axis=1)`); set
//! `FgnlConfig::softmax_over` to `SoftmaxOver::Keys` for the paper text's row softmax. The
//! Dense layer's L2/L1 regularisers (0.01 each) belong to the training loss, not the model.

use crate::attention::{Attention, FgnlConfig};
use crate::model::{ModelConfig, ModelKind};

impl ModelConfig {
    /// The authors' CRNN_FGNL: the FGNL backbone plus FGNL(X4, [X4, X3]) with m = 32,
    /// Gaussian smoothing and MoSE.
    pub fn crnn_fgnl(n_classes: usize) -> Self {
        Self {
            kind: ModelKind::CrnnFgnl,
            attention: Attention::Fgnl(FgnlConfig::new()),
            ..Self::fgnl_backbone(n_classes)
        }
    }
}
