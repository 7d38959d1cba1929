//! The Keras import names every missing, unused and mis-shaped key instead of loading a model
//! that silently differs from the authors'.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use singerid_models::ModelError;
use singerid_models::import::keras::{self, KerasGraph};

fn fixture(stem: &str) -> (PathBuf, KerasGraph) {
    let dir = match std::env::var_os("SINGERID_KERAS_FIXTURES") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/keras"),
    };
    let graph = KerasGraph::load(&dir.join(format!("{stem}_layers.json")))
        .unwrap_or_else(|e| panic!("{e}"));
    (dir.join(format!("{stem}.safetensors")), graph)
}

/// Rewrites a weight file with `edit` applied to its tensors.
fn edited(
    source: &Path,
    target: &Path,
    edit: impl Fn(&mut HashMap<String, (Vec<usize>, Vec<f32>)>),
) {
    let mut tensors: HashMap<_, _> = keras::read_f32_safetensors(source)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .collect();
    edit(&mut tensors);
    let bytes: HashMap<String, (Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|(k, (s, v))| (k, (s, v.iter().flat_map(|x| x.to_le_bytes()).collect())))
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = bytes
        .iter()
        .map(|(k, (s, b))| {
            (
                k.clone(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b)
                    .expect("view"),
            )
        })
        .collect();
    safetensors::serialize_to_file(views, None, target).expect("write safetensors");
}

#[test]
fn missing_unused_and_mis_shaped_keys_are_listed() {
    let (weights, graph) = fixture("crnn_T157");
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("broken.safetensors");
    edited(&weights, &broken, |t| {
        t.remove("dense/bias");
        t.insert("extra_layer/kernel".into(), (vec![2], vec![0.0, 1.0]));
        let (shape, values) = t.remove("conv2d_1/kernel").expect("conv2d_1/kernel");
        let n = values.len();
        t.insert(
            "conv2d_1/kernel".into(),
            (vec![shape[0] * shape[1], shape[2], shape[3]], values),
        );
        assert_eq!(n, 3 * 3 * 64 * 128);
    });
    let err = keras::load_model(&broken, &graph, &Device::default())
        .expect_err("broken weights must fail");
    match &err {
        ModelError::Keys {
            missing,
            unused,
            mis_shaped,
            ..
        } => {
            assert_eq!(missing, &vec!["dense/bias".to_string()]);
            assert_eq!(unused, &vec!["extra_layer/kernel".to_string()]);
            assert_eq!(mis_shaped.len(), 1);
            assert_eq!(mis_shaped[0].key, "conv2d_1/kernel");
            assert_eq!(mis_shaped[0].expected, vec![3, 3, 64, 128]);
        }
        other => panic!("expected a key error, got {other}"),
    }
    let text = err.to_string();
    for name in ["dense/bias", "extra_layer/kernel", "conv2d_1/kernel"] {
        assert!(text.contains(name), "{text}");
    }
}

#[test]
fn weights_of_another_model_do_not_load() {
    let (crnn_weights, _) = fixture("crnn_T157");
    let (_, fgnl_graph) = fixture("crnn_fgnl_T157");
    let err = keras::load_model(&crnn_weights, &fgnl_graph, &Device::default())
        .expect_err("CRNN weights in a CRNN_FGNL graph must fail");
    assert!(matches!(err, ModelError::Keys { .. }), "{err}");
}
