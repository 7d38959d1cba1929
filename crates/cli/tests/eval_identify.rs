//! `singerid eval` and `singerid identify` on the MIR-1K mini fixture with an untrained CRNN
//! bundle (random weights: the scores are meaningless, the files and exit codes are not).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use burn::tensor::Device;
use serde_json::Value;
use singerid_audio::Preset;
use singerid_data::clip::LastClip;
use singerid_models::{ModelConfig, ModelKind};
use singerid_train::bundle::{self, BundleMeta};

const MINI: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/fixtures/mir1k-mini"
);

/// Three of the fixture's four singers: yifen is unknown to the model.
const CLASSES: [&str; 3] = ["Ani", "abjones", "amy"];
/// 3 s clips at 16 kHz, hop 512.
const CLIP_FRAMES: usize = 94;

fn singerid(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_singerid"))
        .args(args)
        .env_remove("SINGERID_FEATURES_DIR")
        .env_remove("SINGERID_MODEL")
        .env_remove("RUST_LOG")
        .output()
        .expect("run singerid")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "stdout is not JSON ({err}): {}\nstderr: {}",
            text(&output.stdout),
            text(&output.stderr)
        )
    })
}

fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// Saves an untrained CRNN with the fixture's classes; returns the folder and the parameter
/// count.
fn untrained_bundle(dir: &Path) -> (PathBuf, usize) {
    let device = Device::default();
    let model = ModelConfig::new(ModelKind::Crnn, CLASSES.len()).init(&device);
    let meta = BundleMeta {
        format: bundle::FORMAT.into(),
        version: bundle::VERSION,
        classes: CLASSES.iter().map(|c| c.to_string()).collect(),
        features: Preset::Fgnl.config(),
        clip_frames: CLIP_FRAMES,
        last_clip: LastClip::Keep,
        provenance: serde_json::json!({"note": "untrained test bundle"}),
        separator: None,
        melody: None,
        unknown_below: None,
    };
    let path = dir.join("bundle");
    bundle::save(&model, &meta, &path).expect("save bundle");
    (path, model.num_params())
}

/// A 16-bit PCM WAV of `frames` zero samples, 16 kHz mono.
fn silent_wav(frames: u32) -> Vec<u8> {
    let data_len = frames * 2;
    let mut bytes = Vec::new();
    bytes.extend(b"RIFF");
    bytes.extend((36 + data_len).to_le_bytes());
    bytes.extend(b"WAVEfmt ");
    bytes.extend(16_u32.to_le_bytes());
    bytes.extend(1_u16.to_le_bytes()); // PCM
    bytes.extend(1_u16.to_le_bytes()); // mono
    bytes.extend(16_000_u32.to_le_bytes());
    bytes.extend(32_000_u32.to_le_bytes()); // bytes per second
    bytes.extend(2_u16.to_le_bytes()); // block align
    bytes.extend(16_u16.to_le_bytes()); // bits per sample
    bytes.extend(b"data");
    bytes.extend(data_len.to_le_bytes());
    bytes.resize(bytes.len() + data_len as usize, 0);
    bytes
}

#[test]
fn eval_writes_the_report_and_counts_the_unknown_singer() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (model, params) = untrained_bundle(tmp.path());
    let cache = tmp.path().join("cache");
    let out = tmp.path().join("report");
    let manifest = Path::new(MINI).join("metadata.csv");
    let output = singerid(&[
        "eval",
        "--model",
        s(&model),
        "--data",
        s(&manifest),
        "--cache",
        s(&cache),
        "--out",
        s(&out),
        "--format",
        "json",
    ]);
    assert!(
        output.status.success(),
        "status {:?}\nstderr: {}",
        output.status,
        text(&output.stderr)
    );
    let summary = json(&output);
    assert_eq!(summary["split"], "all", "no split column: all recordings");
    assert_eq!(summary["recordings"], 16);
    assert_eq!(summary["unknown_singers"], serde_json::json!(["yifen"]));
    let frame_samples = summary["frame"]["samples"].as_u64().expect("frame samples");
    let unknown_clips = summary["unknown_clips"].as_u64().expect("unknown clips");
    assert_eq!(
        frame_samples + unknown_clips,
        summary["clips"].as_u64().expect("clips")
    );
    assert!(unknown_clips >= 4, "4 yifen recordings of > 3 s: {summary}");

    for file in [
        "report.md",
        "report.json",
        "predictions.csv",
        "confusion_frame.png",
        "confusion_song.png",
        "tsne.png",
        "tsne.csv",
    ] {
        let path = out.join(file);
        let size = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .len();
        assert!(size > 100, "{file}: {size} bytes");
    }
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("read"))
            .expect("report.json");
    assert_eq!(report["model"], "crnn");
    assert_eq!(report["params"], params);
    assert_eq!(report["frame"]["accuracy"], summary["frame"]["accuracy"]);
    assert_eq!(report["features"]["channel"], "mix");

    // The channel override is recorded; a split the manifest lacks is a fatal error.
    let output = singerid(&[
        "eval",
        "--model",
        s(&model),
        "--data",
        s(&manifest),
        "--cache",
        s(&cache),
        "--out",
        s(&tmp.path().join("vocal")),
        "--channel",
        "right",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let md = std::fs::read_to_string(tmp.path().join("vocal/report.md")).expect("report.md");
    assert!(md.contains("channel right"), "{md}");
    assert!(md.contains("Channel overridden"), "{md}");
    assert!(text(&output.stdout).contains("weighted F1"));

    let output = singerid(&[
        "eval",
        "--model",
        s(&model),
        "--data",
        s(&manifest),
        "--cache",
        s(&cache),
        "--out",
        s(&tmp.path().join("x")),
        "--split",
        "test",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("no split column"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn identify_reports_each_file_and_fails_bad_ones_alone() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (model, _) = untrained_bundle(tmp.path());
    let good_a = Path::new(MINI).join("audio/amy/amy_1/amy_1_05.mp3");
    let good_b = Path::new(MINI).join("audio/Ani/Ani_1/Ani_1_03.mp3");
    let broken = tmp.path().join("broken.wav");
    std::fs::write(&broken, b"this is not audio").expect("write");
    let short = tmp.path().join("short.wav");
    std::fs::write(&short, silent_wav(8_000)).expect("write"); // 0.5 s
    let missing = tmp.path().join("missing.mp3");

    let output = singerid(&[
        "identify",
        s(&good_a),
        s(&broken),
        s(&short),
        s(&good_b),
        s(&missing),
        "--model",
        s(&model),
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let result = json(&output);
    let files = result["files"].as_array().expect("files");
    assert_eq!(files.len(), 2, "{result}");
    for file in files {
        assert!(CLASSES.contains(&file["singer"].as_str().expect("singer")));
        let share = file["vote_share"].as_f64().expect("share");
        assert!(share > 0.0 && share <= 1.0, "{file}");
        assert_eq!(file["top"].as_array().expect("top").len(), 3);
        let clips = file["clips"].as_array().expect("clips");
        assert!(!clips.is_empty());
        assert_eq!(clips[0]["start_s"], 0.0);
        assert!((clips[0]["end_s"].as_f64().expect("end") - 3.008).abs() < 1e-9);
    }
    let failures = result["failures"].as_array().expect("failures");
    assert_eq!(failures.len(), 3, "{result}");
    let stderr = text(&output.stderr);
    for bad in [&broken, &short, &missing] {
        assert!(
            stderr.contains(s(bad)),
            "{} not in stderr: {stderr}",
            bad.display()
        );
    }
    assert!(stderr.contains("too short"), "{stderr}");

    // A folder: every audio file found recursively, text and CSV output, exit 0.
    let folder = Path::new(MINI).join("audio/amy");
    let output = singerid(&["identify", s(&folder), "--model", s(&model)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.matches("amy_").count() >= 4, "{stdout}");
    assert!(
        stdout.contains("top 3 (by votes, then mean probability):"),
        "{stdout}"
    );
    assert!(stdout.contains("vote "), "{stdout}");

    let output = singerid(&[
        "identify",
        s(&folder),
        "--model",
        s(&model),
        "--format",
        "csv",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some("path,singer,confidence,vote_share,clip_index,start_s,end_s,clip_singer,probability")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() >= 4, "{stdout}");
    assert!(rows.iter().all(|r| r.split(',').count() == 9), "{stdout}");
}

#[test]
fn identify_on_a_folder_without_audio_says_so_and_fails() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (model, _) = untrained_bundle(tmp.path());
    let empty = tmp.path().join("no-audio");
    std::fs::create_dir(&empty).expect("mkdir");
    std::fs::write(empty.join("notes.txt"), b"lyrics").expect("write");
    let output = singerid(&["identify", s(&empty), "--model", s(&model)]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty());
    assert!(
        text(&output.stderr).contains("no audio files"),
        "{}",
        text(&output.stderr)
    );
}

/// Issue 13: a new user needs no path. Without `--model`, identify finds the shipped model
/// (`models/mel_stats_linear-separated-mir1k` above the running binary, which separates the
/// vocals first)
/// and names one of its singers.
#[test]
fn identify_without_a_model_uses_the_shipped_one() {
    let clip = Path::new(MINI).join("audio/amy/amy_1/amy_1_05.mp3");
    let output = singerid(&["identify", s(&clip), "--format", "json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let result = json(&output);
    assert!(
        result["model"]
            .as_str()
            .is_some_and(|m| m.ends_with("models/mel_stats_linear-separated-mir1k")),
        "{result}"
    );
    assert_eq!(result["classes"].as_array().map(Vec::len), Some(17));
    assert!(
        result["vocals"]
            .as_str()
            .is_some_and(|v| v.starts_with("separated by")),
        "{result}"
    );
    assert_eq!(result["files"].as_array().map(Vec::len), Some(1));
}
