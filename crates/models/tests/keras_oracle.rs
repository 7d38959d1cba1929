//! Oracle tests: singerid's models against the authors' own Keras forward pass.
//!
//! Fixtures: `../shared/reference/keras/` (or `$SINGERID_KERAS_FIXTURES`), described in its
//! README: generated with TensorFlow 2.15.1 (Keras 2.15.0) in inference mode from the authors'
//! model functions (ian-k-1217/Fully-Generalized-Non-Local-Network@939ca11) and a TF2 rebuild of
//! Nasrullah's `CRNN2D` (ZainNasrullah/music-artist-classification-crnn@7e17d20); each file's
//! header metadata records its seed. The generator is not in the repository (it loads code under a
//! non-commercial licence); the README documents every behaviour it pins.
//!
//! Every `<model>_T<T>_io.safetensors` and `fgnl_c<C>_T<T>_io.safetensors` in the directory is
//! tested, with the model, its config and T inferred from the name and the `_layers.json` graph,
//! so another fixture set in the same format (other T, other weights) runs unchanged.
//!
//! Tolerances (the README's): `probs` within 1e-5 absolute; every stored intermediate within
//! 1e-4 of its largest magnitude. Both are float32 round-off budgets: Keras and burn sum in
//! different orders, and the largest observed float64-vs-Keras gaps are ~6e-5 in GRU states fed
//! by 4096 features of magnitude ~50.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use singerid_models::attention::{FgnlBlock, FgnlTrace};
use singerid_models::import::keras::{self, KerasGraph};
use singerid_models::{ForwardTrace, Model};

const PROBS_ABS_TOL: f32 = 1e-5;
const INTERMEDIATE_REL_TOL: f32 = 1e-4;

/// A float32 tensor in Keras layout (row-major, channels last).
#[derive(Debug, Clone)]
struct Array {
    shape: Vec<usize>,
    data: Vec<f32>,
}

impl Array {
    fn from_tensor<const D: usize>(t: Tensor<D>) -> Self {
        let shape = t.dims().to_vec();
        let data = t.into_data().try_to_vec::<f32>().expect("f32 tensor");
        Self { shape, data }
    }

    /// The leading block `[0:s0, 0:s1, ...]` (how the fixtures cut large tensors).
    fn leading(&self, stored: &[usize]) -> Result<Vec<f32>, String> {
        if stored.len() != self.shape.len() || stored.iter().zip(&self.shape).any(|(s, f)| s > f) {
            return Err(format!(
                "stored shape {stored:?} is not a leading block of {:?}",
                self.shape
            ));
        }
        let rank = stored.len();
        let mut strides = vec![1; rank];
        for d in (0..rank.saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * self.shape[d + 1];
        }
        let count: usize = stored.iter().product();
        let mut out = Vec::with_capacity(count);
        let mut index = vec![0; rank];
        for _ in 0..count {
            out.push(
                self.data[index
                    .iter()
                    .zip(&strides)
                    .map(|(i, s)| i * s)
                    .sum::<usize>()],
            );
            for d in (0..rank).rev() {
                index[d] += 1;
                if index[d] < stored[d] {
                    break;
                }
                index[d] = 0;
            }
        }
        Ok(out)
    }
}

/// NCHW -> NHWC.
fn nhwc(t: Tensor<4>) -> Array {
    Array::from_tensor(t.permute([0, 2, 3, 1]))
}

/// `[batch, channels, positions]` -> `[batch, positions, channels]`.
fn positions_last(t: Tensor<3>) -> Array {
    Array::from_tensor(t.swap_dims(1, 2))
}

struct Fixture {
    name: String,
    io: PathBuf,
    weights: PathBuf,
    graph: KerasGraph,
}

fn fixture_dir() -> PathBuf {
    match std::env::var_os("SINGERID_KERAS_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/keras"),
    }
}

/// Every fixture of the directory; panics (loudly) if the directory or its files are missing.
fn fixtures() -> Vec<Fixture> {
    let dir = fixture_dir();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "Keras fixture directory {} is unreadable ({e}); set SINGERID_KERAS_FIXTURES",
            dir.display()
        )
    });
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let Some(stem) = file.strip_suffix("_io.safetensors") else {
            continue;
        };
        let (model, t) = stem
            .rsplit_once("_T")
            .unwrap_or_else(|| panic!("fixture {file} is not named <model>_T<T>_io.safetensors"));
        let t: usize = t
            .parse()
            .unwrap_or_else(|_| panic!("fixture {file}: T is not a number"));
        let weights = dir.join(format!("{stem}.safetensors"));
        let graph_path = dir.join(format!("{stem}_layers.json"));
        assert!(weights.is_file(), "{file}: missing {}", weights.display());
        let graph = KerasGraph::load(&graph_path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            graph.frames, t,
            "{file}: T in the name and the graph differ"
        );
        assert!(
            graph.model == model,
            "{file}: the graph describes {:?}",
            graph.model
        );
        out.push(Fixture {
            name: stem.to_owned(),
            io: path.clone(),
            weights,
            graph,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(
        !out.is_empty(),
        "no *_io.safetensors fixture in {}",
        dir.display()
    );
    out
}

fn read_io(path: &Path) -> HashMap<String, Array> {
    keras::read_f32_safetensors(path)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|(k, (shape, data))| (k, Array { shape, data }))
        .collect()
}

/// A channels-last Keras input `(batch, h, w, c)` as a burn NCHW tensor.
fn input_nchw(a: &Array, device: &Device) -> Tensor<4> {
    let shape: [usize; 4] = a.shape.clone().try_into().expect("rank-4 input");
    Tensor::<4>::from_data(TensorData::new(a.data.clone(), shape), device).permute([0, 3, 1, 2])
}

/// Compares `ours` with the stored Keras tensor `key`; returns a failure line or `None`.
fn compare(
    fixture: &str,
    key: &str,
    ours: &Array,
    stored: &Array,
    abs_tol: Option<f32>,
) -> Option<String> {
    let ours = match ours.leading(&stored.shape) {
        Ok(v) => v,
        Err(e) => return Some(format!("{fixture}/{key}: {e}")),
    };
    let scale = stored.data.iter().fold(0f32, |m, v| m.max(v.abs()));
    let tol = abs_tol.unwrap_or(INTERMEDIATE_REL_TOL * scale.max(f32::MIN_POSITIVE));
    let (worst, at) = ours
        .iter()
        .zip(&stored.data)
        .enumerate()
        .map(|(i, (a, b))| ((a - b).abs(), i))
        .fold(
            (0f32, 0),
            |m, x| if x.0 > m.0 || x.0.is_nan() { x } else { m },
        );
    eprintln!(
        "{fixture}/{key}: {} values, max |diff| {worst:.2e} (tolerance {tol:.2e}, max |Keras| {scale:.3e})",
        ours.len()
    );
    if worst <= tol && !worst.is_nan() {
        None
    } else {
        Some(format!(
            "{fixture}/{key}: max |diff| {worst:e} > tolerance {tol:e} (at flat index {at}: ours {}, Keras {})",
            ours[at], stored.data[at]
        ))
    }
}

fn softmax_rows(logits: Tensor<2>) -> Array {
    Array::from_tensor(burn::tensor::activation::softmax(logits, 1))
}

/// The attention map of shift `k` as Keras' `(batch, N, M)`.
fn attention_map(fgnl: &FgnlTrace, k: usize) -> Option<Array> {
    let a = fgnl.attention.clone()?; // [batch, M, K * N]
    let r = fgnl.responses.as_ref()?.dims(); // [batch, Cr, K, N]
    let [batch, keys, _] = a.dims();
    let a = a.reshape([batch, keys, r[2], r[3]]); // [batch, M, K, N]
    let a = a
        .slice([0..batch, 0..keys, k..k + 1, 0..r[3]])
        .reshape([batch, keys, r[3]]);
    Some(Array::from_tensor(a.swap_dims(1, 2)))
}

/// Keras layer name -> our tensor in Keras layout, for the FGNL internals.
fn fgnl_outputs(graph: &KerasGraph, fgnl: &FgnlTrace, out: &mut HashMap<String, Array>) {
    let Some(roles) = &graph.roles.fgnl else {
        return;
    };
    let mut put = |name: &str, a: Option<Array>| {
        if let Some(a) = a {
            out.insert(name.to_owned(), a);
        }
    };
    put(&roles.theta.flatten, fgnl.theta.clone().map(positions_last));
    put(&roles.phi.concat, fgnl.phi.clone().map(positions_last));
    put(&roles.g.concat, fgnl.g.clone().map(positions_last));
    // R: ours [batch, Cr, K, N] -> Keras (batch, N, Cr, K).
    put(
        &roles.r_concat,
        fgnl.responses
            .clone()
            .map(|r| Array::from_tensor(r.permute([0, 3, 1, 2]))),
    );
    if let Some(mose) = &roles.mose {
        put(
            &mose.softmax_over_shifts,
            fgnl.weights.clone().map(Array::from_tensor),
        );
    }
    put(&roles.reshape_y, fgnl.reweighted.clone().map(nhwc));
    put(&roles.add_z, fgnl.output.clone().map(nhwc));
    for (k, shift) in roles.per_shift.iter().enumerate() {
        put(&shift.softmax, attention_map(fgnl, k));
    }
}

/// Keras layer name -> our tensor, for a whole model.
fn model_outputs(
    graph: &KerasGraph,
    trace: &ForwardTrace,
    logits: &Tensor<2>,
    embedding: &Tensor<2>,
) -> HashMap<String, Array> {
    let mut out = HashMap::new();
    let r = &graph.roles;
    for (i, branch) in r.branches.iter().enumerate() {
        if let Some(bn) = &branch.input_bn {
            out.insert(bn.clone(), nhwc(trace.input_norm[i].clone()));
        }
        for (j, block) in branch.blocks.iter().enumerate() {
            out.insert(block.output.clone(), nhwc(trace.blocks[i][j].clone()));
        }
    }
    // The branch join: the Concatenate layer reading the last block of every branch.
    let lasts: Vec<String> = r
        .branches
        .iter()
        .filter_map(|b| b.blocks.last().map(|l| l.output.clone()))
        .collect();
    if let (Some(joined), true) = (&trace.joined, lasts.len() > 1) {
        for layer in graph.layers.iter().filter(|l| l.class == "Concatenate") {
            if layer.inbound == lasts {
                out.insert(layer.name.clone(), nhwc(joined.clone()));
            }
        }
    }
    fgnl_outputs(graph, &trace.fgnl, &mut out);
    if let (Some(name), Some(x)) = (&r.gru_input_reshape, &trace.gru_input) {
        out.insert(name.clone(), Array::from_tensor(x.clone()));
    }
    if let (Some(name), Some(x)) = (&r.gru_seq, &trace.gru_sequence) {
        out.insert(name.clone(), Array::from_tensor(x.clone()));
    }
    if let Some(name) = &r.gru_final {
        out.insert(name.clone(), Array::from_tensor(embedding.clone()));
    }
    if let Some(name) = &r.logits_dense {
        out.insert(name.clone(), Array::from_tensor(logits.clone()));
    }
    out
}

/// Compares every stored tensor of the `_io` file except the inputs.
fn check_all(
    fixture: &Fixture,
    io: &HashMap<String, Array>,
    ours: &HashMap<String, Array>,
    inputs: &[&str],
) -> Vec<String> {
    let mut failures = Vec::new();
    let mut keys: Vec<&String> = io.keys().collect();
    keys.sort();
    let mut compared = 0;
    for key in keys {
        if inputs.contains(&key.as_str()) {
            continue;
        }
        let stored = &io[key];
        let Some(mine) = ours.get(key) else {
            failures.push(format!(
                "{}/{key}: no singerid tensor is mapped to this Keras layer",
                fixture.name
            ));
            continue;
        };
        if let Some(spec) = fixture
            .graph
            .io_intermediates
            .iter()
            .find(|s| &s.key == key)
            && spec.full_shape != mine.shape
        {
            failures.push(format!(
                "{}/{key}: full shape {:?}, ours {:?}",
                fixture.name, spec.full_shape, mine.shape
            ));
            continue;
        }
        let abs = (key == "probs").then_some(PROBS_ABS_TOL);
        failures.extend(compare(&fixture.name, key, mine, stored, abs));
        compared += 1;
    }
    assert!(compared > 0, "{}: nothing compared", fixture.name);
    failures
}

/// A failure line when our parameter count differs from the Keras graph's `total_params`.
fn param_count_mismatch(fixture: &Fixture, ours: usize) -> Vec<String> {
    let keras = fixture.graph.total_params;
    if ours == keras {
        Vec::new()
    } else {
        vec![format!(
            "{}: {ours} parameters, Keras {keras}",
            fixture.name
        )]
    }
}

fn run_model_fixture(fixture: &Fixture, device: &Device) -> Vec<String> {
    let model: Model = keras::load_model(&fixture.weights, &fixture.graph, device)
        .unwrap_or_else(|e| panic!("{}: {e}", fixture.name));
    let mut failures = param_count_mismatch(fixture, model.num_params());
    let io = read_io(&fixture.io);
    let mel = input_nchw(io.get("input").expect("`input` tensor"), device);
    let melody = io.get("melody").map(|m| input_nchw(m, device));
    let mut trace = ForwardTrace::default();
    let output = model.forward_traced(mel, melody, Some(&mut trace));
    let mut ours = model_outputs(&fixture.graph, &trace, &output.logits, &output.embedding);
    ours.insert("probs".into(), softmax_rows(output.logits));
    failures.extend(check_all(fixture, &io, &ours, &["input", "melody"]));
    failures
}

fn run_fgnl_fixture(fixture: &Fixture, device: &Device) -> Vec<String> {
    let block: FgnlBlock = keras::load_fgnl(&fixture.weights, &fixture.graph, device)
        .unwrap_or_else(|e| panic!("{}: {e}", fixture.name));
    let mut failures = param_count_mismatch(fixture, block.num_params());
    let io = read_io(&fixture.io);
    let x4 = input_nchw(io.get("x4").expect("`x4` tensor"), device);
    let x3 = io.get("x3").map(|x| input_nchw(x, device));
    let mut trace = FgnlTrace::default();
    let z = block.forward_traced(x4, x3, Some(&mut trace));
    let mut ours = HashMap::new();
    fgnl_outputs(&fixture.graph, &trace, &mut ours);
    ours.insert("output".into(), nhwc(z));
    failures.extend(check_all(fixture, &io, &ours, &["x4", "x3"]));
    failures
}

/// Runs `run` on every fixture of one kind (standalone FGNL layer or not) and fails with every
/// mismatch listed; finding no fixture of that kind is a failure, never a vacuous pass.
fn check_fixtures(standalone_fgnl: bool, what: &str, run: fn(&Fixture, &Device) -> Vec<String>) {
    let device = Device::default();
    let fixtures: Vec<_> = fixtures()
        .into_iter()
        .filter(|f| f.graph.is_standalone_fgnl() == standalone_fgnl)
        .collect();
    assert!(
        !fixtures.is_empty(),
        "no {what} fixture in {}",
        fixture_dir().display()
    );
    let failures: Vec<String> = fixtures.iter().flat_map(|f| run(f, &device)).collect();
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_keras_model_fixture_matches() {
    check_fixtures(false, "model", run_model_fixture);
}

#[test]
fn every_keras_fgnl_layer_fixture_matches() {
    check_fixtures(true, "FGNL layer", run_fgnl_fixture);
}
