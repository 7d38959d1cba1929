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

fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// `(singer, song)` of the rows of `split.csv` (`singer,song,split`) on side `part`.
fn songs_in(split_csv: &Path, part: &str) -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(split_csv).expect("split.csv");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (fields.get(2) == Some(&part)).then(|| (fields[0].to_owned(), fields[1].to_owned()))
        })
        .collect()
}

#[test]
fn eval_split_test_replays_the_models_own_partition() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (run, cache) = (dir.path().join("run"), dir.path().join("cache"));
    let trained = singerid(&[
        "train",
        "--data",
        MINI,
        "--split",
        "song",
        "--seed",
        "3",
        "--model",
        "crnn",
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--cache",
        s(&cache),
        "--out",
        s(&run),
        "--quiet",
    ]);
    assert!(
        trained.status.success(),
        "train failed: {}",
        String::from_utf8_lossy(&trained.stderr)
    );
    let test_songs = songs_in(&run.join("split.csv"), "test");
    assert!(!test_songs.is_empty(), "the song split has a test part");

    // The run folder stands for its best/ model; no --data: the model's own dataset.
    let report = dir.path().join("report");
    let eval = singerid(&[
        "eval",
        "--model",
        s(&run),
        "--split",
        "test",
        "--cache",
        s(&cache),
        "--out",
        s(&report),
        "--format",
        "json",
    ]);
    assert!(
        eval.status.success(),
        "eval failed: {}",
        String::from_utf8_lossy(&eval.stderr)
    );
    let summary: Value = serde_json::from_slice(&eval.stdout).expect("JSON summary");
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
            test_songs.contains(&(f[1].to_owned(), f[2].to_owned()))
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
    let singer_column = header
        .iter()
        .position(|h| *h == "singer")
        .expect("singer column");
    for line in predictions.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let song = f[song_column].rsplit('/').next().expect("song").to_owned();
        assert!(
            test_songs.contains(&(f[singer_column].to_owned(), song.clone())),
            "{song} is not one of the model's test songs {test_songs:?}"
        );
    }
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
