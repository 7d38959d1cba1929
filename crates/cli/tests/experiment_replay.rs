//! Issue 10: a model folder records its experiment, and `eval` replays it. A CRNN trained for
//! one epoch on the mini fixture with a seeded song split is evaluated with `--split test` and
//! no `--data`: the dataset and the test songs must be the model's own (as `split.csv` lists
//! them), and `--model` pointing at a file or an empty folder must say what it is instead.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const MINI: &str = "../../../shared/data/fixtures/mir1k-mini/metadata.csv";

fn singerid(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_singerid"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("SINGERID_FEATURES_DIR")
        .env_remove("RUST_LOG")
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("run singerid")
}

/// `singerid eval --model <run> --cache <cache> --out <out> --format json <extra...>`: the JSON
/// summary, after checking that it succeeded.
fn eval_json(run: &Path, cache: &Path, out: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "eval",
        "--model",
        s(run),
        "--cache",
        s(cache),
        "--out",
        s(out),
    ];
    args.extend(["--format", "json"]);
    args.extend(extra);
    let eval = singerid(&args);
    let stderr = String::from_utf8_lossy(&eval.stderr);
    assert!(eval.status.success(), "eval {extra:?} failed: {stderr}");
    serde_json::from_slice(&eval.stdout).expect("JSON summary")
}

/// `singerid train` for one epoch (batch 8) into `run`, after checking that it succeeded.
fn train_one_epoch(data: &Path, split: &str, seed: &str, model: &str, cache: &Path, run: &Path) {
    train_epochs(data, split, seed, model, "1", cache, run);
}

/// `singerid train` for `epochs` epochs (batch 8) into `run`, after checking that it succeeded.
fn train_epochs(
    data: &Path,
    split: &str,
    seed: &str,
    model: &str,
    epochs: &str,
    cache: &Path,
    run: &Path,
) {
    let trained = singerid(&[
        "train",
        "--data",
        s(data),
        "--split",
        split,
        "--seed",
        seed,
        "--model",
        model,
        "--epochs",
        epochs,
        "--batch-size",
        "8",
        "--cache",
        s(cache),
        "--out",
        s(run),
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&trained.stderr);
    assert!(trained.status.success(), "train failed: {stderr}");
}

fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// The song keys (`singer/song`) of the rows of `split.csv` (`singer,song,split`) on side
/// `part`.
fn songs_in(split_csv: &Path, part: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(split_csv).expect("split.csv");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (fields.get(2) == Some(&part)).then(|| fields[1].to_owned())
        })
        .collect()
}

#[test]
fn eval_split_test_replays_the_models_own_partition() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (run, cache) = (dir.path().join("run"), dir.path().join("cache"));
    train_one_epoch(Path::new(MINI), "song", "3", "crnn", &cache, &run);
    let test_songs = songs_in(&run.join("split.csv"), "test");
    assert!(!test_songs.is_empty(), "the song split has a test part");

    // The run folder stands for its best/ model; no --data: the model's own dataset.
    let report = dir.path().join("report");
    let summary = eval_json(&run, &cache, &report, &["--split", "test"]);
    assert_eq!(summary["split"], "test");
    assert_eq!(summary["split_source"], "model");

    // Exactly the test songs' recordings were scored: 2 clips (recordings) per song here.
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(MINI))
        .expect("manifest");
    let expected = manifest
        .lines()
        .skip(1)
        .filter(|line| {
            let f: Vec<&str> = line.split(',').collect();
            test_songs.contains(&format!("{}/{}", f[1], f[2]))
        })
        .count();
    assert_eq!(summary["recordings"], expected);
    let predictions =
        std::fs::read_to_string(report.join("predictions.csv")).expect("predictions.csv");
    let header: Vec<&str> = predictions
        .lines()
        .next()
        .expect("header")
        .split(',')
        .collect();
    let song_column = header
        .iter()
        .position(|h| *h == "song")
        .expect("song column");
    for line in predictions.lines().skip(1) {
        let song = line.split(',').nth(song_column).expect("song");
        assert!(
            test_songs.contains(song),
            "{song} is not one of the model's test songs {test_songs:?}"
        );
    }

    // A manifest of the user's own, with split names of their own: `--split openset` selects
    // those rows (the model records no `openset` part, so the manifest column decides).
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(MINI)
        .parent()
        .expect("fixture folder")
        .canonicalize()
        .expect("fixture folder");
    let mut own = String::from("path,singer,song,split\n");
    let mut openset = 0;
    for line in manifest.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let name = if test_songs.contains(&format!("{}/{}", f[1], f[2])) {
            openset += 1;
            "openset"
        } else {
            "enrol"
        };
        own.push_str(&format!(
            "{},{},{},{name}\n",
            root.join(f[0]).display(),
            f[1],
            f[2]
        ));
    }
    let own_csv = dir.path().join("own.csv");
    std::fs::write(&own_csv, own).expect("write manifest");
    let own_report = dir.path().join("own-report");
    let summary = eval_json(
        &run,
        &cache,
        &own_report,
        &["--data", s(&own_csv), "--split", "openset"],
    );
    assert_eq!(summary["split"], "openset");
    assert_eq!(summary["split_source"], "manifest");
    assert_eq!(summary["recordings"], openset);
    let unknown = singerid(&[
        "eval",
        "--model",
        s(&run),
        "--data",
        s(&own_csv),
        "--split",
        "holdout",
        "--cache",
        s(&cache),
        "--out",
        s(&dir.path().join("x")),
    ]);
    assert_eq!(unknown.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("enrol") && stderr.contains("openset"),
        "{stderr}"
    );
}

#[test]
fn a_model_path_that_is_not_a_model_folder_says_what_it_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("model.safetensors");
    std::fs::write(&file, b"not a model").expect("write");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    for (path, says) in [
        (&file, "is a file, not a model folder"),
        (&empty, "holds no singerid.json"),
    ] {
        let out = singerid(&["identify", MINI, "--model", s(path)]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
}

/// The issue's own acceptance case: a model trained with the papers' album split. The mini
/// fixture's 16 clips are laid out as an artist20 tree in a temporary folder (symbolic links,
/// no audio copied), three albums per singer (clips 1-2, 3, 4), so the album split has a test
/// and a validation album for each; `eval --split test` must score exactly the test albums
/// that `split.csv` lists.
#[cfg(unix)]
#[test]
fn eval_split_test_replays_an_album_split() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = dir.path().join("tree");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(MINI)
        .parent()
        .expect("fixture folder")
        .canonicalize()
        .expect("fixture folder");
    let manifest = std::fs::read_to_string(fixture.join("metadata.csv")).expect("manifest");
    let mut per_singer: std::collections::BTreeMap<String, usize> = Default::default();
    for line in manifest.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let n = per_singer.entry(f[1].to_owned()).or_default();
        *n += 1;
        let album = ["a1", "a1", "a2", "a3"][(*n - 1).min(3)];
        let link = tree.join(f[1]).join(album).join(format!("clip{n}.mp3"));
        std::fs::create_dir_all(link.parent().expect("parent")).expect("mkdir");
        std::os::unix::fs::symlink(fixture.join(f[0]), &link).expect("symlink");
    }
    let (run, cache) = (dir.path().join("run"), dir.path().join("cache"));
    train_one_epoch(&tree, "album", "0", "mel_stats_linear", &cache, &run);
    // split.csv: artist,album,split; each test album holds 1 or 2 clips here.
    let listing = std::fs::read_to_string(run.join("split.csv")).expect("split.csv");
    let test_albums: BTreeSet<String> = listing
        .lines()
        .skip(1)
        .filter(|l| l.ends_with(",test"))
        .map(|l| l.rsplit_once(',').expect("split").0.replace(',', "/"))
        .collect();
    assert_eq!(test_albums.len(), 4, "one test album per singer: {listing}");
    let expected: usize = test_albums
        .iter()
        .map(|album| std::fs::read_dir(tree.join(album)).expect("album").count())
        .sum();

    let summary = eval_json(
        &run,
        &cache,
        &dir.path().join("report"),
        &["--split", "test"],
    );
    assert_eq!(summary["split"], "test");
    assert_eq!(summary["split_source"], "model");
    assert_eq!(summary["recordings"], expected);
}

/// `singerid ensemble`: two models on one partition (one and two epochs of the same seed) fold
/// into a model that `eval` scores exactly as the ensemble command reported, with its
/// `unknown` threshold and members recorded; a member trained on another partition is refused.
#[test]
fn ensemble_folds_members_of_one_partition_and_refuses_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    let [one, two, other, folded] = ["one", "two", "other", "folded"].map(|n| dir.path().join(n));
    let mini = Path::new(MINI);
    train_epochs(mini, "song", "3", "mel_stats_linear", "1", &cache, &one);
    train_epochs(mini, "song", "3", "mel_stats_linear", "2", &cache, &two);
    let ensemble = singerid(&[
        "ensemble",
        s(&one),
        s(&two),
        "--out",
        s(&folded),
        "--split",
        "test",
        "--cache",
        s(&cache),
        "--format",
        "json",
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&ensemble.stderr);
    assert!(ensemble.status.success(), "ensemble failed: {stderr}");
    let summary: Value = serde_json::from_slice(&ensemble.stdout).expect("JSON summary");
    assert_eq!(summary["members"].as_array().map(Vec::len), Some(2));
    assert_eq!(summary["split"], "test");

    // (The mini fixture's song split has no validation part: its test part stands in.)
    let scored = eval_json(
        &folded,
        &cache,
        &dir.path().join("report"),
        &["--split", "test"],
    );
    assert_eq!(scored["clips"], summary["clips"]);
    assert_eq!(scored["frame"]["accuracy"], summary["frame"]["accuracy"]);
    let meta: Value = serde_json::from_str(
        &std::fs::read_to_string(folded.join("singerid.json")).expect("singerid.json"),
    )
    .expect("meta");
    assert_eq!(
        meta["provenance"]["ensemble"]["members"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(
        meta.get("unknown_below")
            .and_then(Value::as_f64)
            .map(|t| t as f32),
        summary["unknown_below"].as_f64().map(|t| t as f32)
    );

    // Seed 4 draws another song split: not the same experiment, refused with the reason.
    train_epochs(mini, "song", "4", "mel_stats_linear", "1", &cache, &other);
    let refused = singerid(&[
        "ensemble",
        s(&one),
        s(&other),
        "--out",
        s(&dir.path().join("refused")),
        "--split",
        "test",
        "--cache",
        s(&cache),
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("partition"), "{stderr}");
    assert!(!dir.path().join("refused").exists());

    // An existing folder is replaced only with --force.
    let again = |force: &[&str]| {
        let args = [
            &["ensemble", s(&one), s(&two), "--out", s(&folded)][..],
            &["--split", "test", "--cache", s(&cache), "--quiet"],
            force,
        ]
        .concat();
        singerid(&args)
    };
    let kept = again(&[]);
    assert_eq!(kept.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&kept.stderr).contains("--force"));
    assert!(again(&["--force"]).status.success());
}
