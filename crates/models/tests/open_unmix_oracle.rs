//! Open-Unmix in burn against the `openunmix` 1.3.0 PyTorch package (issue 12, item 1).
//!
//! Fixture: `tests/fixtures/open_unmix.safetensors`, written by `tools/open_unmix_reference.py`
//! (openunmix 1.3.0, torch 2.15.0, numpy 2.4.6, safetensors 0.8.0; seed 20240612; the sizes
//! are in the file's metadata: 129 bins, 2 channels, max_bin 64, hidden size 16, 3 BLSTM
//! layers, 2 samples x 11 frames). Every parameter and buffer is random, batch-norm statistics
//! and input/output mean/scale included, so identity normalisation cannot pass.
//!
//! Tolerance: 1e-4 absolute on outputs of magnitude up to ~6. Both sides compute in f32 but
//! sum in a different order (PyTorch's MKL/oneDNN GEMMs vs burn-flex's kernels, PyTorch's
//! fused LSTM cell vs ours), and the rounding differences (~1e-7 relative per operation)
//! pass through three fc layers, three batch-norms and 11 recurrent steps in each direction:
//! a few 1e-6 in practice, so 1e-4 leaves ample room while any real mistake (gate order, a
//! missing transpose, eps, channel-major flattening) moves outputs by 1e-2 or more.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::tensor::{Device, Distribution, Tensor, TensorData};
use singerid_models::ModelError;
use singerid_models::separation::import::{
    StateDict, StateTensor, apply_state_dict, config_from_state_dict, load_state_dict,
    read_state_dict,
};
use singerid_models::separation::{OpenUnmixConfig, load_open_unmix_with};

/// Absolute tolerance against PyTorch (see the file header).
const TOLERANCE: f32 = 1e-4;

/// Fixture keys that are not part of the state dict.
const ORACLE_KEYS: [&str; 4] = ["input", "output", "stage.lstm.input", "stage.lstm.output"];

fn fixture_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/open_unmix.safetensors")
}

/// The fixture split into the model's state dict and the oracle tensors.
fn fixture() -> (StateDict, HashMap<&'static str, StateTensor>) {
    let mut state = read_state_dict(&fixture_path()).unwrap_or_else(|e| panic!("{e}"));
    let oracle = ORACLE_KEYS
        .iter()
        .map(|k| {
            (
                *k,
                state
                    .remove(*k)
                    .unwrap_or_else(|| panic!("fixture lacks {k}")),
            )
        })
        .collect();
    (state, oracle)
}

/// The sizes recorded by the generator.
fn fixture_config() -> OpenUnmixConfig {
    let bytes = std::fs::read(fixture_path()).expect("fixture readable");
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).expect("safetensors");
    let meta = header.metadata().clone().expect("fixture metadata");
    let get = |k: &str| -> usize {
        meta.get(k)
            .unwrap_or_else(|| panic!("metadata lacks {k}"))
            .parse()
            .expect("a number")
    };
    OpenUnmixConfig::new()
        .with_nb_bins(get("nb_bins"))
        .with_nb_channels(get("nb_channels"))
        .with_hidden_size(get("hidden_size"))
        .with_nb_layers(get("nb_layers"))
        .with_max_bin(Some(get("max_bin")))
        .with_unidirectional(meta.get("unidirectional").map(String::as_str) == Some("true"))
}

fn tensor<const D: usize>(t: &StateTensor, device: &Device) -> Tensor<D> {
    let values = t.values.clone().expect("f32 oracle tensor");
    Tensor::from_data(TensorData::new(values, t.shape.clone()), device)
}

/// Worst absolute difference; panics naming the stage if above [`TOLERANCE`].
fn worst_difference(stage: &str, ours: Vec<f32>, shape: &[usize], theirs: &StateTensor) -> f32 {
    assert_eq!(shape, theirs.shape.as_slice(), "{stage}: shape");
    let expected = theirs.values.as_ref().expect("f32 oracle tensor");
    common::worst_difference(stage, &ours, expected, TOLERANCE)
}

/// The LSTM stage alone: PyTorch's LSTM input through our `TorchLstm` with the fixture's
/// weights, against PyTorch's LSTM output.
#[test]
fn lstm_stage_matches_pytorch() {
    let device = Device::default();
    let (state, oracle) = fixture();
    let model = load_state_dict(&state, &fixture_config(), &fixture_path(), &device)
        .unwrap_or_else(|e| panic!("{e}"));
    let input = tensor::<3>(&oracle["stage.lstm.input"], &device);
    let ours = model.lstm.forward(input);
    let shape = ours.dims().to_vec();
    let values = ours.into_data().try_to_vec::<f32>().expect("f32");
    let worst = worst_difference("lstm", values, &shape, &oracle["stage.lstm.output"]);
    println!("lstm stage: worst |burn - PyTorch| = {worst:e}");
}

/// The whole model: mixture magnitude in, target magnitude out.
#[test]
fn output_matches_pytorch() {
    let device = Device::default();
    let (state, oracle) = fixture();
    let config = fixture_config();
    // The config recovered from the shapes is the generator's.
    let inferred = config_from_state_dict(&state, &fixture_path()).expect("config from shapes");
    assert_eq!(
        (inferred.nb_bins, inferred.nb_channels, inferred.hidden_size),
        (config.nb_bins, config.nb_channels, config.hidden_size)
    );
    assert_eq!(
        (
            inferred.nb_layers,
            inferred.max_bin,
            inferred.unidirectional
        ),
        (config.nb_layers, config.max_bin, config.unidirectional)
    );

    let model = load_state_dict(&state, &config, &fixture_path(), &device)
        .unwrap_or_else(|e| panic!("{e}"));
    let input = tensor::<4>(&oracle["input"], &device);
    let ours = model.forward(input);
    let shape = ours.dims().to_vec();
    let values = ours.into_data().try_to_vec::<f32>().expect("f32");
    let expected = oracle["output"].values.as_ref().expect("f32");
    // Guard against a degenerate fixture: the mask must pass some bins and block others.
    assert!(expected.iter().any(|v| *v > 0.5) && expected.contains(&0.0));
    let worst = worst_difference("output", values, &shape, &oracle["output"]);
    println!("output: worst |burn - PyTorch| = {worst:e}");
}

/// Other batch and frame counts (the fixture has 2 x 11) give the same shapes.
#[test]
fn other_batch_and_frame_counts_keep_their_shape() {
    let device = Device::default();
    let (state, _) = fixture();
    let config = fixture_config();
    let model = load_state_dict(&state, &config, &fixture_path(), &device)
        .unwrap_or_else(|e| panic!("{e}"));
    for (batch, frames) in [(1, 1), (3, 5), (1, 40)] {
        let x = Tensor::<4>::random(
            [batch, config.nb_channels, config.nb_bins, frames],
            Distribution::Uniform(0.0, 2.0),
            &device,
        );
        let y = model.forward(x);
        assert_eq!(
            y.dims(),
            [batch, config.nb_channels, config.nb_bins, frames]
        );
        let values = y.into_data().try_to_vec::<f32>().expect("f32");
        assert!(values.iter().all(|v| v.is_finite() && *v >= 0.0));
    }
}

/// A file without `lstm.bias_hh_l1_reverse`, with an extra `stft.window`, and with a
/// transposed `fc2.weight` is refused, naming each key.
#[test]
fn wrong_key_set_is_refused_naming_the_keys() {
    let device = Device::default();
    let (mut state, _) = fixture();
    let config = fixture_config();
    state.remove("lstm.bias_hh_l1_reverse");
    state.insert(
        "stft.window".into(),
        StateTensor {
            shape: vec![2],
            dtype: safetensors::Dtype::F32,
            values: Some(vec![0.0, 1.0]),
        },
    );
    let fc2 = state.get_mut("fc2.weight").expect("fc2.weight");
    fc2.shape.reverse();

    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("broken.safetensors");
    write_state_dict(&state, &broken);
    let error = load_open_unmix_with(&broken, &config, &device).expect_err("broken file refused");
    let message = error.to_string();
    match error {
        ModelError::Keys {
            path,
            missing,
            unused,
            mis_shaped,
        } => {
            assert_eq!(path, broken);
            assert_eq!(missing, ["lstm.bias_hh_l1_reverse"]);
            assert_eq!(unused, ["stft.window"]);
            assert_eq!(mis_shaped.len(), 1);
            assert_eq!(mis_shaped[0].key, "fc2.weight");
            assert_eq!(mis_shaped[0].expected, [16, 32]);
            assert_eq!(mis_shaped[0].found, [32, 16]);
        }
        other => panic!("expected ModelError::Keys, got {other}"),
    }
    for key in ["lstm.bias_hh_l1_reverse", "stft.window", "fc2.weight"] {
        assert!(message.contains(key), "{message}");
    }

    // A config with fewer layers than the file: the extra layer's keys are unused, by name.
    let (state, _) = fixture();
    let mut model = config.clone().with_nb_layers(2).init(&device);
    let message = apply_state_dict(&mut model, &state, &fixture_path())
        .expect_err("layer count mismatch refused")
        .to_string();
    assert!(
        message.contains("lstm.weight_ih_l2") && message.contains("lstm.bias_hh_l2_reverse"),
        "{message}"
    );
}

/// Writes `state` as safetensors (F32 tensors; others as I64 zeros).
fn write_state_dict(state: &StateDict, path: &Path) {
    let bytes: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = state
        .iter()
        .map(|(k, t)| match &t.values {
            Some(v) => (
                k.clone(),
                safetensors::Dtype::F32,
                t.shape.clone(),
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ),
            None => (
                k.clone(),
                safetensors::Dtype::I64,
                t.shape.clone(),
                vec![0u8; 8 * t.shape.iter().product::<usize>()],
            ),
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = bytes
        .iter()
        .map(|(k, dtype, shape, b)| {
            (
                k.clone(),
                safetensors::tensor::TensorView::new(*dtype, shape.clone(), b).expect("view"),
            )
        })
        .collect();
    safetensors::serialize_to_file(views, None, path).expect("write safetensors");
}
