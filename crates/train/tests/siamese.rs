//! Issue 15 item 2: the siamese training mode on the MIR-1K mini fixture (4 singers x 2 songs x
//! 2 clips, the ICLR-2018 feature preset): one step lowers the contrastive loss on a fixed
//! batch, and a run writes a `best/` bundle that loads and embeds into the configured size.
//!
//! A small twin (8 filters, 32 dense units) keeps this fast; the paper's sizes are checked in
//! `singerid-models` (`siamese_preset_counts_and_embedding`).

use std::path::{Path, PathBuf};

use burn::optim::AdamConfig;
use burn::tensor::Device;
use singerid_audio::Preset;
use singerid_data::clip::LastClip;
use singerid_data::{Dataset, FeatureCache, Outcome, Recording};
use singerid_models::registry;
use singerid_train::trainer::siamese::{pair_loss, siamese_step};
use singerid_train::{
    ClipSet, Objective, PairSampler, RunSpec, SiameseConfig, TrainConfig, predict, train,
};

const FRAMES: usize = 64;
const EMBEDDING: usize = 16;

/// Training seeds the device's global RNG, so the two tests here must not train at once.
static TRAINING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn training_lock() -> std::sync::MutexGuard<'static, ()> {
    TRAINING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/fixtures/mir1k-mini")
}

/// The small twin: the registry's iclr_resnext_siamese with 8 filters and 32 dense units.
fn small_twin(n_classes: usize) -> serde_json::Value {
    let mut config = (registry::get("iclr_resnext_siamese")
        .expect("registered")
        .default_config)(n_classes);
    config["first_filters"] = 8.into();
    config["stages"] = serde_json::json!([{"channels": 8, "blocks": 1}]);
    config["dense_units"] = 32.into();
    config
}

struct Fixture {
    _dir: tempfile::TempDir,
    train: ClipSet,
    val: ClipSet,
    classes: Vec<String>,
    features: singerid_audio::FeatureConfig,
}

/// Train on each singer's song `_1`, validate on the other song (vocal channel, iclr2018).
fn load() -> Fixture {
    let dataset = Dataset::open(&fixture().join("metadata.csv")).expect("manifest");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Preset::Iclr2018.config();
    config.channel = singerid_audio::Channel::Right;
    let cache = FeatureCache::create(dir.path(), &config).expect("cache");
    let outcomes = cache
        .extract(
            &dataset.recordings,
            singerid_audio::features_from_file,
            |_| {},
        )
        .expect("extract");
    assert!(
        outcomes
            .iter()
            .all(|o| !matches!(o.outcome, Outcome::Failed(_)))
    );
    let (train_recs, val_recs): (Vec<Recording>, Vec<Recording>) = dataset
        .recordings
        .iter()
        .cloned()
        .partition(|r| r.song.ends_with("_1"));
    let mut classes: Vec<String> = train_recs.iter().map(|r| r.singer.clone()).collect();
    classes.sort();
    classes.dedup();
    let (train, _) = ClipSet::from_cache(&train_recs, &cache, &classes, FRAMES, LastClip::Keep)
        .expect("train clips");
    let (val, _) = ClipSet::from_cache(&val_recs, &cache, &classes, FRAMES, LastClip::Keep)
        .expect("val clips");
    Fixture {
        _dir: dir,
        train,
        val,
        classes,
        features: config,
    }
}

/// A fixed batch of 8 pairs (4 same, 4 different): its training-mode contrastive loss goes
/// down after one Adam step (lr 1e-3). Dropout is off so that both measurements see the same
/// network function (batch-norm uses the same batch's statistics both times).
#[test]
fn one_step_lowers_the_loss_on_a_fixed_batch() {
    let _lock = training_lock();
    let fx = load();
    let keys: Vec<(String, String)> = (0..fx.train.len())
        .map(|i| {
            (
                fx.train.singer(i).unwrap_or_default().to_owned(),
                fx.train.song(i).unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let pairs: Vec<(usize, usize, bool)> = PairSampler::new(&keys)
        .expect("pairs")
        .sample(8, 3)
        .iter()
        .map(|p| (p.first, p.second, p.same))
        .collect();
    assert_eq!(pairs.iter().filter(|p| p.2).count(), 4);

    let plain = Device::default();
    let device = plain.clone().autodiff();
    plain.seed(11);
    let entry = registry::get("iclr_resnext_siamese").expect("entry");
    let mut config = small_twin(fx.classes.len());
    config["dropout"] = 0.0.into();
    let model = entry.init(&config, &device).expect("model");
    let siamese = SiameseConfig::paper();
    let loss_fn = siamese.loss.init();
    let mut optim = AdamConfig::new().with_epsilon(1e-7).init();
    let loss_of = |model: &dyn singerid_models::SingerModel| {
        let embeddings: Vec<Vec<f32>> = predict(model, &fx.train, 16)
            .clips
            .into_iter()
            .map(|c| c.embedding)
            .collect();
        assert_eq!(embeddings[0].len(), EMBEDDING);
        pair_loss(&embeddings, &pairs, &loss_fn, &siamese.loss, &plain).0
    };
    let (model, before, _) = siamese_step(
        model,
        &mut optim,
        &loss_fn,
        &siamese.loss,
        &fx.train,
        &pairs,
        1e-3,
        &device,
        Path::new("test"),
    )
    .expect("step");
    let (model, after, _) = siamese_step(
        model,
        &mut optim,
        &loss_fn,
        &siamese.loss,
        &fx.train,
        &pairs,
        0.0,
        &device,
        Path::new("test"),
    )
    .expect("measure");
    assert!(before.is_finite() && after.is_finite());
    assert!(after < before, "loss {before} -> {after}");
    assert!(loss_of(&*model).is_finite());
}

/// Two epochs of contrastive training write a log with finite losses and pair accuracies in
/// [0, 1], NaN F1 columns, a `train.json` that records the objective, and a `best/` bundle
/// that loads, knows it is a contrastive model and embeds into 16 dimensions.
#[test]
fn a_contrastive_run_saves_a_bundle_that_loads() {
    let _lock = training_lock();
    let fx = load();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = TrainConfig::new("iclr_resnext_siamese", FRAMES);
    config.model_config = Some(small_twin(fx.classes.len()));
    config.batch_size = 4;
    config.max_epochs = 2;
    config.patience = 0;
    config.seed = 1;
    let mut siamese = SiameseConfig::paper();
    siamese.val_pairs = 16;
    config.objective = Objective::Contrastive(siamese);
    let spec = RunSpec {
        classes: fx.classes.clone(),
        features: fx.features,
        data: serde_json::json!({"dataset": "mir1k-mini"}),
        separator: None,
        melody: None,
    };
    struct Quiet;
    impl singerid_train::TrainObserver for Quiet {}
    let outcome = train(
        dir.path(),
        &config,
        &spec,
        &fx.train,
        &fx.val,
        false,
        &Device::default(),
        &mut Quiet,
    )
    .expect("train");
    assert_eq!(outcome.epochs, 2);
    for row in &outcome.log {
        assert!(
            row.train_loss.is_finite() && row.val_loss.is_finite(),
            "{row:?}"
        );
        assert!((0.0..=1.0).contains(&row.train_accuracy), "{row:?}");
        assert!((0.0..=1.0).contains(&row.val_accuracy), "{row:?}");
        assert!(row.val_weighted_f1.is_nan());
    }
    let train_json = std::fs::read_to_string(dir.path().join("train.json")).expect("train.json");
    assert!(train_json.contains("\"contrastive\""), "{train_json}");

    let bundle = singerid_train::bundle::load(dir.path(), &Device::default()).expect("bundle");
    assert_eq!(bundle.meta.classes, fx.classes);
    assert!(matches!(
        Objective::of_provenance(&bundle.meta.provenance),
        Objective::Contrastive(_)
    ));
    let predictions = predict(&*bundle.model, &fx.val, 8);
    assert_eq!(predictions.clips[0].embedding.len(), EMBEDDING);
}
