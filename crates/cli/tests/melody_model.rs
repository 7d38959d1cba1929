//! Issue 14, item 4: the CRNNM models on real singing. A CRNNM trained for one epoch on the
//! mini fixture gets the CREPE contour of its vocal source (the shipped `tiny` here, to stay
//! fast), records which CREPE made it, fills the melody cache, and `eval` and `identify`
//! replay it; a bundle whose CREPE weights cannot be found is refused with a message, and
//! features whose frames are not the contour's are refused before any work.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const MINI: &str = "../../../shared/data/fixtures/mir1k-mini/metadata.csv";
const FILE: &str =
    "../../../shared/data/fixtures/mir1k-mini/audio/abjones/abjones_1/abjones_1_04.mp3";

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

fn train(cache: &Path, run: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "train",
        "--data",
        MINI,
        "--split",
        "song",
        "--seed",
        "3",
        "--model",
        "crnnm",
        "--crepe",
        "tiny",
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--cache",
        s(cache),
        "--out",
        s(run),
        "--quiet",
    ];
    args.extend(extra);
    singerid(&args)
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("JSON")
}

#[test]
fn crnnm_trains_on_crepe_contours_and_eval_and_identify_replay_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (run, cache) = (dir.path().join("run"), dir.path().join("cache"));
    let trained = train(&cache, &run, &[]);
    assert!(
        trained.status.success(),
        "train failed: {}",
        String::from_utf8_lossy(&trained.stderr)
    );

    // The run and the bundle say which CREPE made the melody, with the authors' settings.
    let record = &json(&run.join("best/singerid.json"))["melody"];
    assert_eq!(record["hop_length"], 512);
    assert_eq!(record["decoder"], "crepe_viterbi");
    assert_eq!(record["crepe_id"].as_str().map(str::len), Some(64));
    assert_eq!(json(&run.join("train.json"))["melody"], *record);

    // One cached track per recording of the mini fixture (16).
    let tracks = walk(&cache.join("melody"));
    assert_eq!(tracks, 16, "cached tracks");

    // eval replays the melody (from the cache: no new track).
    let eval = singerid(&[
        "eval",
        "--model",
        s(&run),
        "--split",
        "test",
        "--cache",
        s(&cache),
        "--out",
        s(&dir.path().join("eval")),
        "--format",
        "json",
    ]);
    assert!(
        eval.status.success(),
        "eval failed: {}",
        String::from_utf8_lossy(&eval.stderr)
    );
    let summary: Value = serde_json::from_slice(&eval.stdout).expect("JSON summary");
    assert!(summary["recordings"].as_u64().unwrap_or(0) > 0, "{summary}");
    assert_eq!(walk(&cache.join("melody")), tracks);

    // identify computes the contour of a new file and names one of the classes.
    let identify = singerid(&["identify", "--model", s(&run), "--format", "json", FILE]);
    assert!(
        identify.status.success(),
        "identify failed: {}",
        String::from_utf8_lossy(&identify.stderr)
    );
    let answer: Value = serde_json::from_slice(&identify.stdout).expect("JSON answer");
    let vocals = answer["vocals"].as_str().expect("vocals");
    assert!(
        vocals.starts_with("channel ") && vocals.contains(", melody by CREPE "),
        "{vocals}"
    );
    let singer = answer["files"][0]["singer"].as_str().expect("singer");
    let classes = json(&run.join("best/singerid.json"))["classes"].clone();
    assert!(
        classes
            .as_array()
            .expect("classes")
            .iter()
            .any(|c| c == singer)
            || singer == "unknown",
        "{singer} not in {classes}"
    );
    assert_eq!(
        answer["files"][0]["clips"].as_array().map(Vec::len),
        Some(2)
    );

    // A bundle whose CREPE weights are not found is refused, saying so.
    let moved = dir.path().join("moved");
    std::fs::create_dir_all(&moved).expect("mkdir");
    for entry in std::fs::read_dir(run.join("best")).expect("best/") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), moved.join(entry.file_name())).expect("copy");
    }
    let mut meta = json(&moved.join("singerid.json"));
    meta["melody"]["crepe_id"] = Value::String("0".repeat(64));
    std::fs::write(moved.join("singerid.json"), meta.to_string()).expect("write");
    let refused = singerid(&["identify", "--model", s(&moved), FILE]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("CREPE weights"), "{stderr}");
}

#[test]
fn features_other_than_the_contours_frames_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (run, cache) = (dir.path().join("run"), dir.path().join("cache"));
    let refused = train(&cache, &run, &["--n-mels", "96"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("96 mel bands"), "{stderr}");
    assert!(!run.join("best").exists());
}

/// The number of files under `dir`, recursively.
fn walk(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                let path = e.path();
                if path.is_dir() { walk(&path) } else { 1 }
            })
            .sum()
    })
}
