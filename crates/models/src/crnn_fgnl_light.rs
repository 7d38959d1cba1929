//! CRNN_FGNL_LIGHT: Kuo et al. (2021), AAAI, Table 2, "w/o the cues across layers": the FGNL
//! module of Eq. (7) with keys and values from block 4 only (`[G(φ(X4))]`, `[G(g(X4))]`), so the
//! cross-channel roll remains but block 3 is not attended.
//!
//! The authors publish no code for this ablation; everything else is CRNN_FGNL's.

use crate::attention::{Attention, FgnlConfig, KeySources};
use crate::model::{ModelConfig, ModelKind};

impl ModelConfig {
    /// CRNN_FGNL with FGNL over block 4 only.
    pub fn crnn_fgnl_light(n_classes: usize) -> Self {
        Self {
            kind: ModelKind::CrnnFgnlLight,
            attention: Attention::Fgnl(FgnlConfig::new().with_key_sources(KeySources::Current)),
            ..Self::fgnl_backbone(n_classes)
        }
    }
}
