//! The FGNL models' backbone without any attention module (578,836 parameters): the fair control
//! the paper lacks.
//!
//! Kuo et al. (2021), AAAI, Fig. 3(a) with the FGNL module removed: input BN, four conv blocks
//! (no pooling in block 1, then (2,2) three times; ian-k-1217/Fully-Generalized-Non-Local-Network
//! @939ca11), Permute + Reshape of the 16 x T/8 x 128 map, GRU 32 -> GRU 32 -> Dropout 0.3 ->
//! Dense. CRNN_FGNL's gain over CRNN mixes the attention with this larger backbone; comparing
//! against this model isolates the attention.

use crate::attention::Attention;
use crate::backbone::BackboneConfig;
use crate::model::{Inputs, ModelConfig, ModelKind, N_MELS};

impl ModelConfig {
    /// The FGNL backbone and the CRNN head, no attention.
    pub fn fgnl_backbone(n_classes: usize) -> Self {
        Self {
            kind: ModelKind::FgnlBackbone,
            n_classes,
            inputs: Inputs::Mel,
            backbone: BackboneConfig::fgnl(N_MELS),
            attention: Attention::Off,
            gru_units: 32,
            head_dropout: 0.3,
            dense_l2: 0.0,
            dense_activity_l1: 0.0,
        }
    }
}
