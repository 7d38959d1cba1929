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
    let report = json_of(&evaluated);
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
    let summary = json_of(&embedded);
    assert_eq!(summary["dim"], 16);

    // In the library an embedding model names singers by profiles only (its class output is
    // untrained): before calibration every answer is `unknown`, saying how to calibrate; after
    // `eval-open --write-model` (written into best/ although the run folder was named) the
    // answers are profiles' names with similarities, and a scan stores the same.
    let db = dir.path().join("library.sqlite");
    let amy = format!("{MINI}/audio/amy/amy_1/amy_1_05.mp3");
    let identify_db = |file: &str| {
        let out = singerid(&[
            "identify",
            "--quiet",
            "--format",
            "json",
            "--model",
            &path(&run),
            "--db",
            &path(&db),
            file,
        ]);
        json_of(&out)["files"][0].clone()
    };
    let before = identify_db(&amy);
    assert_eq!(before["by_profiles"], true, "{before}");
    assert_eq!(before["singer"], "unknown", "{before}");
    assert!(
        before["unknown_reason"]
            .as_str()
            .is_some_and(|r| r.contains("eval-open")),
        "{before}"
    );
    let calibrated = singerid(&[
        "eval-open",
        "--format",
        "json",
        "--quiet",
        "--model",
        &path(&run),
        "--data",
        &path(&manifest),
        "--query-split",
        "test",
        "--target-false-accept",
        "1",
        "--write-model",
        "--cache",
        &path(&cache),
        "--db",
        &path(&dir.path().join("unused.sqlite")),
        "--out",
        &path(&dir.path().join("open")),
    ]);
    json_of(&calibrated);
    assert!(run.join("best/open_set.json").is_file());
    // The log-probability experiment runs (the same protocol, another recording vector) but
    // cannot be written where the library would compare it with the model's embedding.
    let experiment = |extra: &[&str]| {
        let mut args = vec![
            "eval-open".to_owned(),
            "--quiet".into(),
            "--format".into(),
            "json".into(),
            "--model".into(),
            path(&run),
            "--data".into(),
            path(&manifest),
            "--query-split".into(),
            "test".into(),
            "--embedding".into(),
            "log-probs".into(),
            "--cache".into(),
            path(&cache),
            "--out".into(),
            path(&dir.path().join("open-log-probs")),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        singerid(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let logs = experiment(&[]);
    let report = json_of(&logs);
    assert_eq!(report["embedding"], "log-probs");
    let refused = experiment(&["--write-model"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("cannot be written"));
    // A new database sees the calibrated folder (a new fingerprint); with every impostor
    // accepted, the closest trained profile is the answer.
    std::fs::remove_file(&db).expect("remove the database");
    let after = identify_db(&amy);
    assert_eq!(after["by_profiles"], true, "{after}");
    assert_eq!(after["decided_by"], "profile", "{after}");
    let singer = after["singer"].as_str().expect("singer");
    assert_ne!(singer, "unknown", "{after}");
    assert_eq!(after["top"][0]["singer"], singer, "{after}");
    let similarity = after["confidence"].as_f64().expect("confidence");
    assert!((-1.0..=1.0).contains(&similarity), "{after}");
    // A scan stores the same kind of answer: the other amy_1 recording's, as `similar` shows it.
    let other = format!("{MINI}/audio/amy/amy_1/amy_1_06.mp3");
    let other_answer = identify_db(&other);
    let scanned = dir.path().join("scan.sqlite");
    let scan = singerid(&[
        "scan",
        "--quiet",
        "--model",
        &path(&run),
        "--db",
        &path(&scanned),
        &amy,
        &other,
    ]);
    assert_eq!(scan.status.code(), Some(0));
    let similar = singerid(&[
        "similar",
        "--quiet",
        "--format",
        "json",
        "--model",
        &path(&run),
        "--db",
        &path(&scanned),
        "-k",
        "1",
        &amy,
    ]);
    let found = json_of(&similar);
    assert!(
        found["recordings"][0]["name"]
            .as_str()
            .is_some_and(|n| n.ends_with("amy_1_06.mp3")),
        "{found}"
    );
    assert_eq!(
        found["recordings"][0]["detail"], other_answer["singer"],
        "{found}"
    );
}

/// The JSON on stdout of a command that must have succeeded (its stderr in the message if not).
fn json_of(out: &std::process::Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}
