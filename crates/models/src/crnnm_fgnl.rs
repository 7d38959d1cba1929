//! CRNNM_FGNL: Kuo, Wei & Lin (2021), AAAI, Fig. 3(b), Eqs. (7)-(9); 1,175,381 parameters
//! (Table 1).
//!
//! Reference: ian-k-1217/Fully-Generalized-Non-Local-Network@939ca11, `CRNNM_FGNL/src/models.py`.
//! Two FGNL backbones (mel, melody) are concatenated on channels (mel first) at block 4 and at
//! block 3; the FGNL module runs on those joined maps (C = 256, so C/m = 8 channels and K = 8
//! shifts). Softmax over queries as in the authors' code (see `crnn_fgnl.rs`).

use crate::model::{Inputs, ModelConfig, ModelKind};

impl ModelConfig {
    /// The authors' CRNNM_FGNL.
    pub fn crnnm_fgnl(n_classes: usize) -> Self {
        Self {
            kind: ModelKind::CrnnmFgnl,
            inputs: Inputs::MelAndMelody,
            ..Self::crnn_fgnl(n_classes)
        }
    }
}
