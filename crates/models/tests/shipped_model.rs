//! The shipped model `models/crnn_fgnl-mir1k/` (a checkpoint in the first `config.json` layout,
//! `"model": {"kind": ...}`) still loads through the registry and computes what it computed
//! before the registry existed.
//!
//! The expected numbers were printed by this same input and `checkpoint::load` at commit
//! 79ac563 (before the registry; burn 0.22.1, burn-flex CPU backend, release profile); they are
//! a regression reference for the loader, not an oracle of the model's correctness (that is
//! `keras_oracle.rs`). Tolerance: 1e-4 of the largest expected magnitude, the round-off budget
//! `keras_oracle.rs` uses for intermediates. The input is unnormalised dB up to 40, and the
//! summation order of the conv and GRU products changes with the thread count and with the
//! gemm micro-kernel (AVX-512 since 2026-12-02 moved logits by 2.4e-5 of 0.77); a loading
//! mistake (a weight transposed, a layer missing) moves them by far more.

use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};
use singerid_models::{SingerModel, checkpoint};

const BATCH: usize = 2;
const MELS: usize = 128;
const FRAMES: usize = 40;

/// A deterministic log-mel batch in [-40, 40) dB: a fixed hash of (clip, mel, frame).
fn input(device: &Device) -> Tensor<4> {
    let values: Vec<f32> = (0..BATCH * MELS * FRAMES)
        .map(|i| {
            let h = (i as u64).wrapping_mul(2_654_435_761) % 1000;
            -40.0 + 80.0 * h as f32 / 1000.0
        })
        .collect();
    Tensor::from_data(TensorData::new(values, [BATCH, 1, MELS, FRAMES]), device)
}

fn shipped() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/crnn_fgnl-mir1k"
    ))
}

const LOGITS: [f32; BATCH * 17] = [
    0.17147614,
    0.36221588,
    0.37868404,
    0.42720363,
    -0.29030028,
    -0.122433245,
    1.2518004,
    1.350264,
    -0.43630672,
    0.1321615,
    -1.0401328,
    0.06392525,
    0.66102964,
    -0.3845281,
    -0.73211133,
    -0.7544767,
    -0.55038697,
    0.03594242,
    0.20360881,
    0.06373668,
    0.43368015,
    -0.627168,
    -0.69790316,
    1.4005641,
    1.2071322,
    -0.16432951,
    0.28828737,
    -1.282486,
    -0.017536577,
    0.49233884,
    -0.4506299,
    -0.7391522,
    -0.50301486,
    -0.33691266,
];

/// The first 8 embedding values of each clip.
const EMBEDDING_HEADS: [[f32; 8]; BATCH] = [
    [
        0.090838835,
        0.47752967,
        -0.70745254,
        0.27686295,
        0.41456765,
        0.51111424,
        0.7735419,
        0.33592385,
    ],
    [
        0.052109525,
        0.3096336,
        -0.48398367,
        -0.06609216,
        0.44801393,
        0.4013114,
        0.7203103,
        0.37314597,
    ],
];

fn assert_close(found: &[f32], expected: &[f32], what: &str) {
    assert_eq!(found.len(), expected.len(), "{what}");
    let scale = expected.iter().fold(0.0f32, |m, e| m.max(e.abs()));
    let tolerance = 1e-4 * scale;
    for (i, (f, e)) in found.iter().zip(expected).enumerate() {
        assert!(
            (f - e).abs() <= tolerance,
            "{what}[{i}]: found {f}, expected {e} (tolerance {tolerance:e})"
        );
    }
}

fn check_outputs(model: &dyn SingerModel, device: &Device) {
    let out = model.forward(input(device), None);
    let logits = out.logits.into_data().try_to_vec::<f32>().expect("f32");
    assert_close(&logits, &LOGITS, "logits");
    let embedding = out.embedding.into_data().try_to_vec::<f32>().expect("f32");
    for (clip, head) in EMBEDDING_HEADS.iter().enumerate() {
        assert_close(&embedding[clip * 32..clip * 32 + 8], head, "embedding");
    }
}

#[test]
fn shipped_version_1_checkpoint_loads_and_computes_as_before() {
    let device = Device::default();
    let model = checkpoint::load(shipped(), &device).expect("load the shipped model");
    assert_eq!(model.name(), "crnn_fgnl");
    assert_eq!(model.n_classes(), 17);
    assert_eq!(model.num_params(), 584_141 - 20 * 33 + 17 * 33);
    check_outputs(&*model, &device);
}

#[test]
fn shipped_model_resaved_in_the_current_format_computes_the_same() {
    let device = Device::default();
    let model = checkpoint::load(shipped(), &device).expect("load the shipped model");
    let dir = tempfile::tempdir().expect("temp dir");
    checkpoint::save(&*model, dir.path()).expect("save");
    let text = std::fs::read_to_string(dir.path().join(checkpoint::CONFIG_FILE)).expect("read");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(json["version"], checkpoint::FORMAT_VERSION);
    assert_eq!(json["name"], "crnn_fgnl");
    assert_eq!(json["config"]["n_classes"], 17);
    let again = checkpoint::load(dir.path(), &device).expect("reload");
    check_outputs(&*again, &device);
}
