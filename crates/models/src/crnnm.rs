//! CRNNM: the CRNN with a melody branch, Hsieh et al. (2020), "Addressing the Confounds of
//! Accompaniments in Singer Identification", ICASSP; the FGNL paper's second baseline (Kuo et
//! al., AAAI 2021, Table 1, 778,772 parameters).
//!
//! There is no published CRNNM code. As in the Keras fixtures, it is two CRNN conv stacks, one
//! for the log-mel input and one for the melody (one-hot F0 over the same 128 bins), each with
//! its own input BN and four blocks, concatenated on channels (mel first) after block 4, then the
//! CRNN head.

use crate::model::{Inputs, ModelConfig, ModelKind};

impl ModelConfig {
    /// CRNNM: two Nasrullah branches (mel, melody) joined on channels, then the CRNN head.
    pub fn crnnm(n_classes: usize) -> Self {
        Self {
            kind: ModelKind::Crnnm,
            inputs: Inputs::MelAndMelody,
            ..Self::crnn(n_classes)
        }
    }
}
