//! CRNN_NL: Kuo et al. (2021), AAAI, Table 2, "CRNN_NL (w/o the cues across channels and
//! layers)": the standard non-local block of Wang et al. (2018), "Non-local Neural Networks",
//! CVPR, Eq. (1) with the dot-product pairwise function (Sec. 3.2), at the place of the FGNL
//! module.
//!
//! The authors publish no code for this ablation. singerid puts the block on the FGNL backbone
//! (so only the attention differs from CRNN_FGNL), after block 4, with m = 32 and a residual
//! `Z = W_z y + X` as in Eq. (9).

use crate::attention::{Attention, NonLocalConfig};
use crate::model::{ModelConfig, ModelKind};

impl ModelConfig {
    /// The FGNL backbone with a dot-product non-local block on block 4.
    pub fn crnn_nl(n_classes: usize) -> Self {
        Self {
            kind: ModelKind::CrnnNl,
            attention: Attention::NonLocal(NonLocalConfig::new()),
            ..Self::fgnl_backbone(n_classes)
        }
    }
}
