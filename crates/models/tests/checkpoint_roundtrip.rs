//! singerid checkpoints: save -> load reproduces the model exactly, and loading refuses corrupt
//! or mismatched files with an error that says what is wrong.

use burn::tensor::{Device, Distribution, Tensor};
use singerid_models::checkpoint::{self, CONFIG_FILE, WEIGHTS_FILE};
use singerid_models::{Model, ModelConfig, ModelError, ModelKind, SoftmaxOver};

fn input(device: &Device) -> Tensor<4> {
    Tensor::random([2, 1, 128, 40], Distribution::Uniform(-40.0, 40.0), device)
}

#[test]
fn round_trip_reproduces_outputs_and_config() {
    let device = Device::default();
    let dir = tempfile::tempdir().expect("temp dir");
    for kind in [ModelKind::CrnnFgnl, ModelKind::Crnnm] {
        let mut config = ModelConfig::new(kind, 5);
        if let singerid_models::Attention::Fgnl(f) = &mut config.attention {
            f.softmax_over = SoftmaxOver::Keys;
        }
        let model = config.init(&device);
        let path = dir.path().join(kind.name());
        checkpoint::save(&model, &path).expect("save");
        let loaded = checkpoint::load_as::<Model>(&path, &device).expect("load");
        assert_eq!(loaded.config(), &config);
        assert_eq!(loaded.num_params(), model.num_params());
        let x = input(&device);
        let melody = kind.uses_melody().then(|| input(&device));
        let a = model.forward(x.clone(), melody.clone());
        let b = loaded.forward(x, melody);
        assert_eq!(a.logits.into_data(), b.logits.into_data(), "{kind}");
        assert_eq!(a.embedding.into_data(), b.embedding.into_data(), "{kind}");
    }
}

#[test]
fn batch_norm_statistics_survive_the_round_trip() {
    let device = Device::default();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut model = ModelConfig::new(ModelKind::Crnn, 3).init(&device);
    model.branches[0].input_norm.norm.running_mean =
        burn::module::RunningState::new(Tensor::full([128], 3.5, &device));
    checkpoint::save(&model, dir.path()).expect("save");
    let loaded = checkpoint::load_as::<Model>(dir.path(), &device).expect("load");
    let mean = loaded.branches[0].input_norm.norm.running_mean.value();
    assert!(
        mean.into_data()
            .try_to_vec::<f32>()
            .expect("f32")
            .iter()
            .all(|v| *v == 3.5)
    );
}

#[test]
fn corrupt_weights_are_refused() {
    let device = Device::default();
    let dir = tempfile::tempdir().expect("temp dir");
    let model = ModelConfig::new(ModelKind::Crnn, 3).init(&device);
    checkpoint::save(&model, dir.path()).expect("save");
    std::fs::write(dir.path().join(WEIGHTS_FILE), b"not a safetensors file").expect("write");
    let err =
        checkpoint::load_as::<Model>(dir.path(), &device).expect_err("corrupt file must fail");
    assert!(err.to_string().contains("not a safetensors file"), "{err}");
}

#[test]
fn weights_of_another_model_are_refused() {
    let device = Device::default();
    let dir = tempfile::tempdir().expect("temp dir");
    let crnn = tempfile::tempdir().expect("temp dir");
    checkpoint::save(
        &ModelConfig::new(ModelKind::CrnnFgnl, 3).init(&device),
        dir.path(),
    )
    .expect("save");
    checkpoint::save(
        &ModelConfig::new(ModelKind::Crnn, 3).init(&device),
        crnn.path(),
    )
    .expect("save");
    // config.json of a CRNN next to CRNN_FGNL weights.
    std::fs::copy(crnn.path().join(CONFIG_FILE), dir.path().join(CONFIG_FILE)).expect("copy");
    let err = checkpoint::load_as::<Model>(dir.path(), &device).expect_err("mismatch must fail");
    assert!(matches!(err, ModelError::Checkpoint { .. }), "{err}");
    assert!(err.to_string().contains("singerid_kind"), "{err}");
}

#[test]
fn unknown_or_invalid_config_is_refused() {
    let device = Device::default();
    let dir = tempfile::tempdir().expect("temp dir");
    checkpoint::save(
        &ModelConfig::new(ModelKind::Crnn, 3).init(&device),
        dir.path(),
    )
    .expect("save");
    let path = dir.path().join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text.replace("\"gru_units\"", "\"gru_unitz\"")).expect("write");
    let err =
        checkpoint::load_as::<Model>(dir.path(), &device).expect_err("unknown field must fail");
    assert!(matches!(err, ModelError::Json { .. }), "{err}");
    std::fs::write(&path, text.replace("\"n_classes\": 3", "\"n_classes\": 0")).expect("write");
    let err =
        checkpoint::load_as::<Model>(dir.path(), &device).expect_err("invalid config must fail");
    assert!(err.to_string().contains("n_classes"), "{err}");
}
