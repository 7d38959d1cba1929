//! The training loop on the MIR-1K mini fixture (4 singers x 2 songs x 2 clips): resume after
//! an interruption equals an unbroken run, corrupt checkpoints are refused, the partition modes
//! are deterministic and song-disjoint, and clip sets slice and label as documented.
//!
//! Small on purpose: CRNN, 3 s clips (94 frames), batch 8, 3 epochs, so that the whole file runs
//! in well under a minute in the (optimised) dev profile.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use singerid_audio::Preset;
use singerid_data::clip::LastClip;
use singerid_data::split::Split;
use singerid_data::{
    DataError, Dataset, DatasetSource, FeatureCache, Outcome, PartitionMode, Recording, partition,
    song_key,
};
use singerid_train::trainer::{LAST_DIR, LAST_MODEL, LAST_STATE, StopReason};
use singerid_train::{
    ClipSet, Control, EpochLog, RunSpec, StepProgress, TrainConfig, TrainObserver, predict, train,
};

const FRAMES: usize = 94;

/// Training seeds the device's global RNG per epoch, so two training tests running at once in
/// this process would draw from each other's streams; each training test holds this lock.
static TRAINING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn training_lock() -> std::sync::MutexGuard<'static, ()> {
    TRAINING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/fixtures/mir1k-mini")
}

/// The fixture's recordings and a feature cache holding all of them (vocal channel).
struct Fixture {
    _dir: tempfile::TempDir,
    recordings: Vec<Recording>,
    cache: FeatureCache,
}

fn load_fixture() -> Fixture {
    let dataset =
        Dataset::open(&fixture().join("metadata.csv")).expect("the mini fixture's manifest");
    assert_eq!(
        dataset.recordings.len(),
        16,
        "problems: {:?}",
        dataset.problems
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Preset::Fgnl.config();
    config.channel = singerid_audio::Channel::Right;
    let cache = FeatureCache::create(dir.path(), &config).expect("cache");
    let outcomes = cache
        .extract(
            &dataset.recordings,
            singerid_audio::features_from_file,
            |_| {},
        )
        .expect("extract");
    for outcome in &outcomes {
        assert!(
            !matches!(outcome.outcome, Outcome::Failed(_)),
            "{:?}",
            outcome.outcome
        );
    }
    Fixture {
        _dir: dir,
        recordings: dataset.recordings,
        cache,
    }
}

fn classes_of(recordings: &[Recording]) -> Vec<String> {
    let set: BTreeSet<String> = recordings.iter().map(|r| r.singer.clone()).collect();
    set.into_iter().collect()
}

/// Train on each singer's song `_1`, validate on `_3` / `_2` (the fixture's other song).
fn sets(fx: &Fixture) -> (ClipSet, ClipSet, Vec<String>) {
    let (train_recs, val_recs): (Vec<Recording>, Vec<Recording>) = fx
        .recordings
        .iter()
        .cloned()
        .partition(|r| r.song.ends_with("_1"));
    let classes = classes_of(&train_recs);
    let (train_set, p1) =
        ClipSet::from_cache(&train_recs, &fx.cache, &classes, FRAMES, LastClip::Keep)
            .expect("train clips");
    let (val_set, p2) = ClipSet::from_cache(&val_recs, &fx.cache, &classes, FRAMES, LastClip::Keep)
        .expect("val clips");
    assert!(p1.is_empty() && p2.is_empty(), "{p1:?} {p2:?}");
    (train_set, val_set, classes)
}

fn config(epochs: usize) -> TrainConfig {
    let mut config = TrainConfig::new("crnn", FRAMES);
    config.batch_size = 8;
    config.max_epochs = epochs;
    config.patience = 0;
    config.seed = 7;
    config
}

fn spec(fx: &Fixture, classes: &[String]) -> RunSpec {
    RunSpec {
        classes: classes.to_vec(),
        features: *fx.cache.config(),
        data: serde_json::json!({"dataset": "mir1k-mini", "split": "song _1 vs rest"}),
        separator: None,
        melody: None,
    }
}

/// Stops mid-epoch at (epoch, step).
struct StopAt(usize, usize);

impl TrainObserver for StopAt {
    fn on_step(&mut self, p: &StepProgress) -> Control {
        if (p.epoch, p.step) == (self.0, self.1) {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

/// Asserts that two logs agree on everything but wall-clock time: epochs, best flags,
/// accuracies and F1 exactly; losses to 1e-9 relative. (burn-flex's parallel kernels can
/// change the last bits of a float between two runs of the same computation; the counts that
/// accuracy and F1 come from do not move.)
fn assert_same_metrics(a: &[EpochLog], b: &[EpochLog]) {
    assert_eq!(a.len(), b.len(), "{a:?}\n{b:?}");
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(1.0);
    for (x, y) in a.iter().zip(b) {
        let same = x.epoch == y.epoch
            && x.is_best == y.is_best
            && x.train_accuracy == y.train_accuracy
            && x.val_accuracy == y.val_accuracy
            && x.val_macro_f1 == y.val_macro_f1
            && x.val_weighted_f1 == y.val_weighted_f1
            && close(x.train_loss, y.train_loss)
            && close(x.val_loss, y.val_loss);
        assert!(same, "epoch rows differ:\n{x:?}\n{y:?}");
    }
}

#[test]
fn interrupted_and_resumed_equals_unbroken_and_corruption_is_refused() {
    let _training = training_lock();
    let fx = load_fixture();
    let (train_set, val_set, classes) = sets(&fx);
    assert!(train_set.len() >= 9, "at least two batches of 8");
    let spec = spec(&fx, &classes);
    let runs = tempfile::tempdir().expect("tempdir");

    let unbroken_dir = runs.path().join("unbroken");
    let unbroken = train(
        &unbroken_dir,
        &config(3),
        &spec,
        &train_set,
        &val_set,
        false,
        &Device::flex(),
        &mut (),
    )
    .expect("unbroken run");
    assert_eq!(unbroken.epochs, 3);
    assert_eq!(unbroken.stop, StopReason::MaxEpochs);
    assert!(unbroken.log.iter().all(|r| r.train_loss.is_finite()));
    let best = unbroken.best.clone().expect("a best epoch");
    assert!(best.is_best);
    assert!(unbroken_dir.join("best/singerid.json").is_file());
    let csv = std::fs::read_to_string(unbroken_dir.join("log.csv")).expect("log.csv");
    assert_eq!(csv.lines().count(), 4, "header + 3 rows:\n{csv}");

    // Killed in the middle of epoch 2, then rerun with the same command.
    let broken_dir = runs.path().join("broken");
    let first = train(
        &broken_dir,
        &config(3),
        &spec,
        &train_set,
        &val_set,
        false,
        &Device::flex(),
        &mut StopAt(2, 1),
    )
    .expect("interrupted run");
    assert_eq!(first.stop, StopReason::Interrupted);
    assert_eq!(first.epochs, 1, "only epoch 1 was completed");
    let resumed = train(
        &broken_dir,
        &config(3),
        &spec,
        &train_set,
        &val_set,
        false,
        &Device::flex(),
        &mut (),
    )
    .expect("resumed run");
    assert_eq!(resumed.resumed_from, Some(1));
    assert_eq!(resumed.epochs_this_call, 2);
    assert_same_metrics(&resumed.log, &unbroken.log);
    assert_eq!(resumed.best.map(|b| b.epoch), Some(best.epoch));

    // The best bundle predicts the same as the unbroken run's.
    let device = burn::tensor::Device::flex();
    let a = singerid_train::bundle::load(&unbroken_dir.join("best"), &device).expect("bundle a");
    let b = singerid_train::bundle::load(&broken_dir.join("best"), &device).expect("bundle b");
    let pa = predict(&*a.model, &val_set, 16);
    let pb = predict(&*b.model, &val_set, 16);
    assert_eq!(pa.clips.len(), val_set.len());
    for (x, y) in pa.clips.iter().zip(&pb.clips) {
        assert_eq!(
            (&x.recording, x.clip_index, x.label),
            (&y.recording, y.clip_index, y.label)
        );
        for (p, q) in x.probs.iter().zip(&y.probs) {
            assert!((p - q).abs() < 1e-5, "{:?} vs {:?}", x.probs, y.probs);
        }
        assert_eq!(x.embedding.len(), 32);
    }

    // Rerunning a finished run trains nothing more; asking for more epochs continues.
    let again = train(
        &broken_dir,
        &config(3),
        &spec,
        &train_set,
        &val_set,
        false,
        &Device::flex(),
        &mut (),
    )
    .expect("finished run");
    assert_eq!((again.epochs, again.epochs_this_call), (3, 0));

    // Another training config in the same folder is refused, naming train.json.
    let mut other = config(3);
    other.learning_rate = 1e-3;
    let err = train(
        &broken_dir,
        &other,
        &spec,
        &train_set,
        &val_set,
        false,
        &Device::flex(),
        &mut (),
    )
    .expect_err("another config");
    assert!(err.to_string().contains("train.json"), "{err}");

    // A truncated model file is refused, naming it.
    let model_path = broken_dir.join(LAST_DIR).join(LAST_MODEL);
    let bytes = std::fs::read(&model_path).expect("model");
    std::fs::write(&model_path, &bytes[..bytes.len() / 2]).expect("truncate");
    let err = train(
        &broken_dir,
        &config(4),
        &spec,
        &train_set,
        &val_set,
        false,
        &Device::flex(),
        &mut (),
    )
    .expect_err("truncated checkpoint");
    let message = err.to_string();
    assert!(
        message.contains(LAST_MODEL) && message.contains("corrupt"),
        "{message}"
    );
    std::fs::write(&model_path, &bytes).expect("restore");

    // Garbage in the state file is refused, naming it.
    let state_path = broken_dir.join(LAST_DIR).join(LAST_STATE);
    std::fs::write(&state_path, "{ not json").expect("garbage");
    let err = train(
        &broken_dir,
        &config(4),
        &spec,
        &train_set,
        &val_set,
        false,
        &Device::flex(),
        &mut (),
    )
    .expect_err("garbage state");
    assert!(err.to_string().contains(LAST_STATE), "{err}");

    // restart wipes the folder and trains from scratch: same metrics as the unbroken run.
    let restarted = train(
        &broken_dir,
        &config(1),
        &spec,
        &train_set,
        &val_set,
        true,
        &Device::flex(),
        &mut (),
    )
    .expect("restart");
    assert_eq!(restarted.resumed_from, None);
    assert_same_metrics(&restarted.log, &unbroken.log[..1]);
}

/// The registry's one-file baseline trains through the same generic trainer: 2 epochs of
/// `mel_stats_linear` on the mini fixture, then its bundle reloads to a model whose predictions
/// reproduce the validation loss logged from the in-memory model (bit for bit: same clips, same
/// order, same inference pass) and survive a second save/load unchanged.
#[test]
fn mel_stats_linear_trains_saves_and_reloads_identically() {
    let _training = training_lock();
    let fx = load_fixture();
    let (train_set, val_set, classes) = sets(&fx);
    let spec = spec(&fx, &classes);
    let runs = tempfile::tempdir().expect("tempdir");
    let mut config = config(2);
    config.model = "mel_stats_linear".into();
    config.learning_rate = 1e-2;
    let dir = runs.path().join("linear");
    let outcome = train(
        &dir,
        &config,
        &spec,
        &train_set,
        &val_set,
        false,
        &Device::flex(),
        &mut (),
    )
    .expect("mel_stats_linear run");
    assert_eq!(outcome.epochs, 2);
    assert!(outcome.log.iter().all(|r| r.train_loss.is_finite()));
    let best = outcome.best.expect("a best epoch");

    let device = Device::flex();
    let bundle = singerid_train::bundle::load(&outcome.best_dir, &device).expect("load bundle");
    assert_eq!(bundle.model.name(), "mel_stats_linear");
    assert_eq!(bundle.model.n_classes(), classes.len());
    let first = predict(&*bundle.model, &val_set, 16);
    let loss = singerid_train::predict::mean_cross_entropy(&first).expect("labelled clips");
    assert_eq!(loss, best.val_loss, "reloaded model != trained model");

    let again_dir = runs.path().join("again");
    singerid_train::bundle::save(&*bundle.model, &bundle.meta, &again_dir).expect("save");
    let again = singerid_train::bundle::load(&again_dir, &device).expect("reload");
    let second = predict(&*again.model, &val_set, 16);
    for (a, b) in first.clips.iter().zip(&second.clips) {
        assert_eq!(a.probs, b.probs);
        assert_eq!(a.embedding, b.embedding);
    }
}

/// An unknown model name fails before any file is written, listing the registered names.
#[test]
fn unknown_model_name_lists_the_registry() {
    let fx = load_fixture();
    let (train_set, val_set, classes) = sets(&fx);
    let runs = tempfile::tempdir().expect("tempdir");
    let mut config = config(1);
    config.model = "nope".into();
    let dir = runs.path().join("nope");
    let err = train(
        &dir,
        &config,
        &spec(&fx, &classes),
        &train_set,
        &val_set,
        false,
        &Device::flex(),
        &mut (),
    )
    .expect_err("unknown model");
    let text = err.to_string();
    for name in singerid_models::registry::names() {
        assert!(text.contains(name), "{text}");
    }
    assert!(!dir.exists(), "nothing written for an invalid config");
}

#[test]
fn clip_sets_slice_label_and_batch() {
    let fx = load_fixture();
    let frames: BTreeMap<PathBuf, usize> = fx
        .recordings
        .iter()
        .map(|r| {
            let mel = fx.cache.get(r).expect("read").expect("cached");
            (r.path.clone(), mel.n_frames)
        })
        .collect();
    // Every singer but the first is a class: the first one's clips are unlabelled.
    let all = classes_of(&fx.recordings);
    let classes = all[1..].to_vec();
    for last in [LastClip::Keep, LastClip::Drop] {
        let (set, problems) =
            ClipSet::from_cache(&fx.recordings, &fx.cache, &classes, FRAMES, last).expect("set");
        let expected: usize = frames
            .values()
            .map(|&n| match last {
                LastClip::Keep => n / FRAMES,
                LastClip::Drop => (n / FRAMES).saturating_sub(1),
            })
            .sum();
        assert_eq!(set.len(), expected, "{last:?}");
        let short = frames
            .values()
            .filter(|&&n| n / FRAMES == 0 || (last == LastClip::Drop && n / FRAMES == 1))
            .count();
        assert_eq!(problems.len(), short, "{problems:?}");
        let mut unlabelled = 0;
        for i in 0..set.len() {
            let singer = set.singer(i).expect("in range");
            let start = set.start_frame(i).expect("in range");
            assert_eq!(start, set.clip_index(i).expect("in range") * FRAMES);
            let recording = set.recording(i).expect("in range");
            assert!(start + FRAMES <= frames[&recording.path]);
            assert_eq!(set.song(i), Some(song_key(recording).as_str()));
            match set.label(i) {
                Some(label) => assert_eq!(classes[label], singer),
                None => {
                    assert_eq!(singer, all[0]);
                    unlabelled += 1;
                }
            }
        }
        assert!(unlabelled > 0);
        assert_eq!(set.unlabelled_count(), unlabelled);
        assert_eq!(set.label(set.len()), None, "out of range");
    }

    let (set, _) =
        ClipSet::from_cache(&fx.recordings, &fx.cache, &all, FRAMES, LastClip::Keep).expect("set");
    let device = burn::tensor::Device::flex();
    let batch = set.batch(&[1, 0, 3], &device);
    assert_eq!(batch.dims(), [3, 1, 128, FRAMES]);
    let values: Vec<f32> = batch.into_data().try_into_vec_as::<f32>().expect("f32");
    let per_clip = 128 * FRAMES;
    assert_eq!(
        &values[..per_clip],
        set.clip_values(1).expect("clip 1").as_slice()
    );
    assert_eq!(
        &values[2 * per_clip..],
        set.clip_values(3).expect("clip 3").as_slice()
    );

    // from_features gives the same clips as from_cache.
    let items: Vec<(Recording, singerid_audio::LogMel)> = fx
        .recordings
        .iter()
        .map(|r| (r.clone(), fx.cache.get(r).expect("read").expect("cached")))
        .collect();
    let direct = ClipSet::from_features(items, &all, FRAMES, LastClip::Keep, 512.0 / 16000.0);
    assert_eq!(direct.len(), set.len());
    assert_eq!(direct.clip_values(5), set.clip_values(5));

    // A recording missing from the cache is a problem naming the file, not a panic.
    let mut missing = fx.recordings[0].clone();
    missing.abs_path = fixture().join("audio/nobody/nothing.mp3");
    let (empty, problems) =
        ClipSet::from_cache(&[missing], &fx.cache, &all, FRAMES, LastClip::Keep).expect("set");
    assert!(empty.is_empty());
    assert_eq!(problems.len(), 1);
    assert!(problems[0].contains("nothing.mp3"), "{problems:?}");
}

fn synthetic(album: bool, split: Option<Split>) -> Dataset {
    let mut recordings = Vec::new();
    for singer in ["ann", "bob", "cyd"] {
        for a in 0..4 {
            for s in 0..3 {
                // Song titles repeat across albums and singers: keys must still be distinct.
                let path = format!("{singer}/album{a}/track{s}.mp3");
                recordings.push(Recording {
                    path: PathBuf::from(&path),
                    abs_path: PathBuf::from("/nowhere").join(&path),
                    singer: singer.into(),
                    album: album.then(|| format!("album{a}")),
                    song: format!("track{s}"),
                    split: split.map(Into::into),
                    tags: Vec::new(),
                });
            }
        }
    }
    Dataset {
        root: PathBuf::from("/nowhere"),
        source: DatasetSource::Tree,
        recordings,
        problems: Vec::new(),
    }
}

fn sides(p: &singerid_data::Partition) -> BTreeMap<String, BTreeSet<Split>> {
    let mut out: BTreeMap<String, BTreeSet<Split>> = BTreeMap::new();
    for split in [Split::Train, Split::Val, Split::Test] {
        for r in p.part(split) {
            out.entry(song_key(r)).or_default().insert(split);
        }
    }
    out
}

#[test]
fn partitions_are_deterministic_and_song_disjoint() {
    let dataset = synthetic(true, None);
    for mode in [PartitionMode::Album, PartitionMode::Song] {
        let a = partition(&dataset, mode, 21).expect("partition");
        let b = partition(&dataset, mode, 21).expect("partition");
        assert_eq!(a.train, b.train, "{mode:?}");
        assert_eq!(a.val, b.val, "{mode:?}");
        assert_eq!(a.test, b.test, "{mode:?}");
        assert_eq!(a.listing_csv, b.listing_csv);
        assert_eq!(
            a.train.len() + a.val.len() + a.test.len(),
            dataset.recordings.len()
        );
        let songs = sides(&a);
        assert_eq!(songs.len(), 36, "every song key distinct");
        assert!(
            songs.values().all(|s| s.len() == 1),
            "{mode:?}: a song on two sides"
        );
        assert!(!a.val.is_empty() && !a.test.is_empty(), "{mode:?}");
        assert!(a.listing_csv.lines().count() > 1);
    }

    // Album split: per singer one test and one validation album, whole albums per side.
    let p = partition(&dataset, PartitionMode::Album, 0).expect("album");
    for singer in ["ann", "bob", "cyd"] {
        for (split, want) in [(Split::Test, 1), (Split::Val, 1), (Split::Train, 2)] {
            let albums: BTreeSet<&str> = p
                .part(split)
                .iter()
                .filter(|r| r.singer == singer)
                .filter_map(|r| r.album.as_deref())
                .collect();
            assert_eq!(albums.len(), want, "{singer} {split}");
        }
    }
    let seeds: BTreeSet<Vec<PathBuf>> = [0, 21, 42, 7, 99]
        .into_iter()
        .map(|seed| {
            let p = partition(&dataset, PartitionMode::Album, seed).expect("album");
            p.test.iter().map(|r| r.path.clone()).collect()
        })
        .collect();
    assert!(seeds.len() > 1, "the seed changes the album split");

    // Missing albums and missing split values are refused clearly.
    let no_album = synthetic(false, None);
    assert!(matches!(
        partition(&no_album, PartitionMode::Album, 0),
        Err(DataError::MissingAlbum { missing: 36, .. })
    ));
    let err = partition(&no_album, PartitionMode::Manifest, 0).expect_err("no split column");
    assert!(err.to_string().contains("split"), "{err}");

    // Manifest mode follows the column and refuses a song on two sides.
    let mut manifest = synthetic(true, Some(Split::Train));
    manifest.recordings[3].split = Some(Split::Val.into());
    let p = partition(&manifest, PartitionMode::Manifest, 0).expect("manifest");
    assert_eq!((p.train.len(), p.val.len(), p.test.len()), (35, 1, 0));
    manifest.recordings[4].split = Some(Split::Test.into());
    manifest.recordings[4].song = manifest.recordings[3].song.clone();
    let err = partition(&manifest, PartitionMode::Manifest, 0).expect_err("song on two sides");
    assert!(matches!(err, DataError::SongOnTwoSides { .. }), "{err}");
}
