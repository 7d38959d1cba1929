//! Parameter counts against the paper (Kuo et al., AAAI 2021, Table 1) and the Keras models:
//! trainable weights plus batch-norm moving statistics and the fixed Gaussian kernels, as Keras'
//! `count_params()` counts them. Counts do not depend on the clip length.

use burn::tensor::Device;
use singerid_models::{ModelConfig, ModelKind};

#[test]
fn paper_models_have_the_paper_counts() {
    let device = Device::default();
    for (kind, expected) in [
        (ModelKind::Crnn, 394_516),
        (ModelKind::CrnnFgnl, 584_141),
        (ModelKind::Crnnm, 778_772),
        (ModelKind::CrnnmFgnl, 1_175_381),
        (ModelKind::FgnlBackbone, 578_836),
    ] {
        let model = ModelConfig::new(kind, 20).init(&device);
        assert_eq!(model.num_params(), expected, "{kind}");
    }
}

/// The ablations differ from CRNN_FGNL (584,141) by exactly the parts they remove or swap.
#[test]
fn ablation_counts_follow_from_their_parts() {
    let device = Device::default();
    let count = |c: ModelConfig| c.init(&device).num_params();
    // Light: no φ₃, g₃ 1x1 convs (128·4 + 4 each) and their Gaussians (25·4 each).
    assert_eq!(
        count(ModelConfig::crnn_fgnl_light(20)),
        584_141 - 2 * 516 - 2 * 100
    );
    // NL: θ, φ, g (3 · 516) + W_z (4·128 + 128) on the 578,836 backbone.
    assert_eq!(count(ModelConfig::crnn_nl(20)), 578_836 + 3 * 516 + 640);
    let with = |f: fn(&mut singerid_models::FgnlConfig)| {
        let mut c = ModelConfig::crnn_fgnl(20);
        if let singerid_models::Attention::Fgnl(fgnl) = &mut c.attention {
            f(fgnl);
        }
        count(c)
    };
    use singerid_models::{Reweighting, Smoothing, SoftmaxOver};
    assert_eq!(with(|f| f.smoothing = Smoothing::Off), 584_141 - 5 * 100);
    assert_eq!(with(|f| f.reweighting = Reweighting::Off), 584_141 - 49);
    // SE over K = 4 with 16 hidden units: (4·16 + 16) + (16·4 + 4).
    assert_eq!(
        with(|f| f.reweighting = Reweighting::Se),
        584_141 - 49 + 80 + 68
    );
    assert_eq!(with(|f| f.softmax_over = SoftmaxOver::Keys), 584_141);
}

#[test]
fn class_count_only_changes_the_dense_layer() {
    let device = Device::default();
    let a = ModelConfig::new(ModelKind::Crnn, 20)
        .init(&device)
        .num_params();
    let b = ModelConfig::new(ModelKind::Crnn, 7)
        .init(&device)
        .num_params();
    assert_eq!(a - b, 13 * 33);
}
