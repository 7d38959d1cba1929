//! Issue 15 item 5: `singerid embed` with the shipped model on the MIR-1K mini fixture: a
//! folder and a bad file; the bad file gets one error line and exit status 2, the others are
//! written (the JSON summary, the safetensors file and its CSV index agree).

use std::path::Path;
use std::process::Command;

const MINI: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/fixtures/mir1k-mini"
);

#[test]
fn embed_writes_tensors_and_index_and_fails_a_bad_file_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("broken.mp3");
    std::fs::write(&bad, b"not an mp3").expect("write");
    let out = dir.path().join("amy.safetensors");
    let output = Command::new(env!("CARGO_BIN_EXE_singerid"))
        .args(["embed", "--format", "json", "--out"])
        .arg(&out)
        .arg(Path::new(MINI).join("audio/amy"))
        .arg(&bad)
        .env_remove("SINGERID_MODEL")
        .env_remove("RUST_LOG")
        .output()
        .expect("run singerid");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(
        stderr.lines().filter(|l| l.contains("broken.mp3")).count(),
        1,
        "one error line for the bad file: {stderr}"
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(summary["model_name"], "mel_stats_linear");
    assert_eq!(summary["recordings"], 4, "amy's four fixture recordings");
    assert_eq!(summary["dim"], 256);
    assert_eq!(summary["failures"].as_array().map(Vec::len), Some(1));
    let clips = summary["clips"].as_u64().expect("clips") as usize;
    let index = std::fs::read_to_string(dir.path().join("amy.csv")).expect("index");
    assert_eq!(index.lines().count(), 1 + 4 + clips);
    // safetensors: an 8-byte header length, then the JSON header naming both tensors' shapes.
    let bytes = std::fs::read(&out).expect("tensors");
    let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let header: serde_json::Value =
        serde_json::from_slice(&bytes[8..8 + header_len]).expect("header");
    assert_eq!(header["recordings"]["shape"], serde_json::json!([4, 256]));
    assert_eq!(header["clips"]["shape"], serde_json::json!([clips, 256]));
}

/// Issue 15 item 2 end to end: `train --objective contrastive` on the fixture (a small
/// iclr_resnext_siamese, its vocal channel, the iclr2018 preset, 1.5 s clips, a song split),
/// then `eval` of the run scores its embedding (kNN and EER in range) and `embed` reads the
/// same folder (16-d).
#[test]
fn contrastive_training_then_embedding_eval_and_embed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run");
    let cache = dir.path().join("cache");
    let manifest = Path::new(MINI).join("metadata.csv");
    let singerid = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_singerid"))
            .args(args)
            .env_remove("SINGERID_FEATURES_DIR")
            .env_remove("RUST_LOG")
            .output()
            .expect("run singerid")
    };
    let path = |p: &Path| p.to_str().expect("utf-8").to_owned();
    let trained = singerid(&[
        "train",
        "--quiet",
        "--data",
        &path(&manifest),
        "--split",
        "song",
        "--model",
        "iclr_resnext_siamese",
        "--preset",
        "iclr2018",
        "--channel",
        "right",
        "--clip-seconds",
        "1.5",
        "--objective",
        "contrastive",
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--model-config",
        r#"{"first_filters":8,"stages":[{"channels":8,"blocks":1}],"dense_units":32}"#,
        "--cache",
        &path(&cache),
        "--out",
        &path(&run),
    ]);
    assert!(
        run.join("best/singerid.json").is_file(),
        "stderr: {}",
        String::from_utf8_lossy(&trained.stderr)
    );
    let evaluated = singerid(&[
        "eval",
        "--quiet",
        "--model",
        &path(&run),
        "--split",
        "test",
        "--format",
        "json",
        "--cache",
        &path(&cache),
        "--out",
        &path(&dir.path().join("eval")),
    ]);
    assert_eq!(
        evaluated.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&evaluated.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&evaluated.stdout).expect("JSON");
    assert_eq!(report["dim"], 16);
    for score in report["knn"].as_array().expect("knn") {
        let accuracy = score["accuracy"].as_f64().expect("accuracy");
        assert!((0.0..=1.0).contains(&accuracy), "{score}");
    }
    let eer = report["verification"]["eer"]["eer"].as_f64().expect("eer");
    assert!((0.0..=1.0).contains(&eer));
    assert!(dir.path().join("eval/tsne.png").is_file());

    let out = dir.path().join("e.safetensors");
    let embedded = singerid(&[
        "embed",
        "--quiet",
        "--format",
        "json",
        "--model",
        &path(&run),
        "--out",
        &path(&out),
        &format!("{MINI}/audio/amy/amy_1"),
    ]);
    assert_eq!(embedded.status.code(), Some(0));
    let summary: serde_json::Value = serde_json::from_slice(&embedded.stdout).expect("JSON");
    assert_eq!(summary["dim"], 16);
}
