//! CRNN: Nasrullah & Zhao (2019), "Music Artist Classification with Convolutional Recurrent
//! Neural Networks", IJCNN, Sec. III and Fig. 2; the FGNL paper's baseline (Kuo et al., AAAI 2021,
//! Table 1, 394,516 parameters).
//!
//! Reference: ZainNasrullah/music-artist-classification-crnn@7e17d20, `src/models.py`, `CRNN2D`
//! (Keras 2.1.1). singerid follows its TF2 rebuild in the Keras fixtures: GRU `reset_after=True`
//! with a sigmoid recurrent activation, which is what gives the paper's parameter count (the
//! Keras 2.1.1 hard-sigmoid GRU would give 394,324).

use crate::attention::Attention;
use crate::backbone::BackboneConfig;
use crate::model::{Inputs, ModelConfig, ModelKind, N_MELS};

impl ModelConfig {
    /// Nasrullah & Zhao's CRNN: input BN, four conv blocks with pools (2,2), (4,2), (4,2),
    /// (4,2), GRU 32 -> GRU 32 -> Dropout 0.3 -> Dense.
    pub fn crnn(n_classes: usize) -> Self {
        Self {
            kind: ModelKind::Crnn,
            n_classes,
            inputs: Inputs::Mel,
            backbone: BackboneConfig::nasrullah(N_MELS),
            attention: Attention::Off,
            gru_units: 32,
            head_dropout: 0.3,
            dense_l2: 0.0,
            dense_activity_l1: 0.0,
        }
    }
}
