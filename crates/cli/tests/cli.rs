//! Smoke tests of the built `singerid` binary: the MIR-1K fixture (read in place from
//! `shared/data/fixtures/mir1k-mini`) and temporary folders of bad files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const MINI: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/fixtures/mir1k-mini"
);

fn singerid(args: &[&str]) -> Output {
    singerid_in(None, args)
}

fn singerid_in(cwd: Option<&Path>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_singerid"));
    command
        .args(args)
        .env_remove("SINGERID_FEATURES_DIR")
        .env_remove("RUST_LOG");
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    command.output().expect("run singerid")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("stdout is not JSON ({err}): {}", stdout(output)))
}

fn features_json(input: &Path, out: &Path, extra: &[&str]) -> (Output, Value) {
    let mut args = vec![
        "features",
        input.to_str().expect("utf-8 path"),
        "--out",
        out.to_str().expect("utf-8 path"),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let output = singerid(&args);
    let summary = json(&output);
    (output, summary)
}

fn count(summary: &Value, field: &str) -> u64 {
    summary[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {summary}"))
}

fn feature_files(out: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let features = out.join("features");
    for shard in std::fs::read_dir(&features).expect("features dir") {
        for file in std::fs::read_dir(shard.expect("shard").path()).expect("shard dir") {
            let path = file.expect("file").path();
            if path.extension().is_some_and(|e| e == "safetensors") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn presets_prints_every_preset_as_text_and_json() {
    let text = singerid(&["presets"]);
    assert!(text.status.success(), "{}", stderr(&text));
    let table = stdout(&text);
    for needle in [
        "fgnl",
        "nasrullah",
        "choi",
        "iclr2018",
        "22050",
        "power_db",
        "--top-db",
    ] {
        assert!(table.contains(needle), "{needle} missing from:\n{table}");
    }
    let output = singerid(&["presets", "--format", "json"]);
    assert!(output.status.success());
    let presets = json(&output);
    let object = presets.as_object().expect("object");
    assert_eq!(object.len(), 4);
    assert_eq!(presets["choi"]["sample_rate_hz"], 12_000);
    assert_eq!(presets["fgnl"]["db"], "fgnl_db");
    assert_eq!(presets["iclr2018"]["top_db"], Value::Null);
    assert_eq!(presets["fgnl"].as_object().expect("config").len(), 12);
}

#[test]
fn features_help_explains_every_option_with_defaults() {
    let output = singerid(&["features", "--help"]);
    assert!(output.status.success());
    // Collapse the wrapping of the help text.
    let help = stdout(&output)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for flag in [
        "--preset",
        "--sample-rate",
        "--n-fft",
        "--hop-length",
        "--n-mels",
        "--fmin",
        "--fmax",
        "--db",
        "--top-db",
        "--pad-mode",
        "--mel-scale",
        "--mel-norm",
        "--channel",
        "--out",
        "--jobs",
        "--format",
        "--verbose",
        "--quiet",
    ] {
        assert!(help.contains(flag), "{flag} missing from help");
    }
    assert!(help.contains("~/.cache/singerid/features"));
    assert!(help.contains("[default: fgnl]"));
    assert!(help.contains("fgnl 16000, nasrullah 16000, choi 12000, iclr2018 22050"));
}

#[test]
fn mini_fixture_is_computed_then_skipped_and_right_channel_is_separate() {
    let out = tempfile::tempdir().expect("tempdir");
    let (first, summary) = features_json(Path::new(MINI), out.path(), &["--preset", "fgnl"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(
        (
            count(&summary, "files"),
            count(&summary, "ok"),
            count(&summary, "cached"),
            count(&summary, "failed")
        ),
        (16, 16, 0, 0)
    );
    let minutes = summary["audio_minutes"].as_f64().expect("audio_minutes");
    assert!((1.0..3.0).contains(&minutes), "{minutes}");
    assert!(count(&summary, "frames") > 1000);
    assert!(out.path().join("config.json").is_file());
    assert_eq!(feature_files(out.path()).len(), 16);

    let (second, summary) = features_json(Path::new(MINI), out.path(), &[]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert_eq!((count(&summary, "ok"), count(&summary, "cached")), (0, 16));

    // The manifest lists the same files: all cached.
    let (_, summary) = features_json(&Path::new(MINI).join("metadata.csv"), out.path(), &[]);
    assert_eq!((count(&summary, "ok"), count(&summary, "cached")), (0, 16));

    let mix_files = feature_files(out.path());
    let (right, summary) = features_json(Path::new(MINI), out.path(), &["--channel", "right"]);
    assert_eq!(right.status.code(), Some(0), "{}", stderr(&right));
    assert_eq!(
        (count(&summary, "ok"), count(&summary, "cached")),
        (16, 0),
        "a new config computes everything anew"
    );
    assert_eq!(summary["config"]["channel"], "right");
    let all_files = feature_files(out.path());
    assert_eq!(all_files.len(), 32);
    assert!(mix_files.iter().all(|f| all_files.contains(f)));
}

#[test]
fn text_summary_is_readable_and_default_out_is_the_platform_cache() {
    let cwd = tempfile::tempdir().expect("tempdir");
    let cache_home = tempfile::tempdir().expect("tempdir");
    let mini = std::fs::canonicalize(MINI).expect("fixture");
    let output = Command::new(env!("CARGO_BIN_EXE_singerid"))
        .args(["features", mini.to_str().expect("utf-8")])
        .env_remove("SINGERID_FEATURES_DIR")
        .env_remove("RUST_LOG")
        .env("XDG_CACHE_HOME", cache_home.path())
        .current_dir(cwd.path())
        .output()
        .expect("run singerid");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    for label in [
        "files",
        "ok",
        "cached",
        "failed",
        "audio",
        "min",
        "frames",
        "wall time",
        "throughput",
    ] {
        assert!(text.contains(label), "{label} missing from:\n{text}");
    }
    assert!(text.contains("16"), "{text}");
    let cache = cache_home.path().join("singerid/features");
    assert!(cache.join("config.json").is_file());
    assert!(cache.join("index.jsonl").is_file());
    assert!(
        !cwd.path().join("singerid-features").exists(),
        "nothing is written into the working folder"
    );
}

/// A 16-bit PCM WAV file of `frames` zero samples per channel, 16 kHz stereo.
fn silent_wav(frames: u32) -> Vec<u8> {
    let data_len = frames * 4;
    let mut bytes = Vec::new();
    bytes.extend(b"RIFF");
    bytes.extend((36 + data_len).to_le_bytes());
    bytes.extend(b"WAVEfmt ");
    bytes.extend(16_u32.to_le_bytes()); // fmt chunk size
    bytes.extend(1_u16.to_le_bytes()); // PCM
    bytes.extend(2_u16.to_le_bytes()); // channels
    bytes.extend(16_000_u32.to_le_bytes());
    bytes.extend(64_000_u32.to_le_bytes()); // bytes per second
    bytes.extend(4_u16.to_le_bytes()); // block align
    bytes.extend(16_u16.to_le_bytes()); // bits per sample
    bytes.extend(b"data");
    bytes.extend(data_len.to_le_bytes());
    bytes.resize(bytes.len() + data_len as usize, 0);
    bytes
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
}

/// Good files next to every bad case. Running as root, permissions cannot make a directory
/// unreadable, so the unreadable directory is a dangling symbolic link in the artist position.
#[test]
fn bad_files_are_reported_one_per_line_and_the_exit_code_is_2() {
    let root = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let album = root.path().join("artist/album");
    let clip =
        std::fs::read(Path::new(MINI).join("audio/amy/amy_1/amy_1_05.mp3")).expect("fixture clip");
    write(&album.join("good.mp3"), &clip);
    write(&album.join("empty.mp3"), b"");
    write(&album.join("truncated.mp3"), &clip[..clip.len() / 2]);
    write(
        &album.join("text.flac"),
        b"plain text with an audio extension\n",
    );
    write(&album.join("zero_length.wav"), &silent_wav(0));
    write(&album.join("silent.wav"), &silent_wav(16_000));
    write(&album.join("cover.jpg"), b"skipped");
    #[cfg(unix)]
    std::os::unix::fs::symlink(root.path().join("gone"), root.path().join("unreadable"))
        .expect("symlink");

    let (output, summary) = features_json(root.path(), out.path(), &[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let bad = ["empty.mp3", "truncated.mp3", "text.flac", "zero_length.wav"];
    let expected_failed = bad.len() + usize::from(cfg!(unix));
    assert_eq!(count(&summary, "ok"), 2, "good.mp3 and silent.wav");
    assert_eq!(count(&summary, "failed"), expected_failed as u64);
    assert_eq!(count(&summary, "files"), 2 + expected_failed as u64);

    let failures = summary["failures"].as_array().expect("failures");
    let errors = stderr(&output);
    let error_lines: Vec<&str> = errors.lines().filter(|l| l.starts_with("ERROR")).collect();
    assert_eq!(error_lines.len(), expected_failed, "{errors}");
    for name in bad.iter().chain(cfg!(unix).then_some(&"unreadable")) {
        assert!(
            failures
                .iter()
                .any(|f| f["path"].as_str().is_some_and(|p| p.ends_with(name))),
            "{name} not in {failures:?}"
        );
        assert!(
            error_lines.iter().any(|l| l.contains(name)),
            "no stderr line names {name}: {errors}"
        );
    }
    assert!(!errors.contains("panicked"), "{errors}");

    // Rerun: the good files come from the cache, the bad ones fail again.
    let (again, summary) = features_json(root.path(), out.path(), &["--quiet"]);
    assert_eq!(again.status.code(), Some(2));
    assert_eq!((count(&summary, "ok"), count(&summary, "cached")), (0, 2));
}

#[test]
fn a_manifest_row_whose_file_is_missing_fails_alone() {
    let root = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let clip = std::fs::read(Path::new(MINI).join("audio/Ani/Ani_1/Ani_1_03.mp3")).expect("clip");
    write(&root.path().join("a/one.mp3"), &clip);
    write(
        &root.path().join("list.csv"),
        b"path,singer,song,split\na/one.mp3,ani,s1,train\na/missing.mp3,ani,s2,holdout\na/one.mp3,ani,s1,test\n",
    );
    let (output, summary) = features_json(&root.path().join("list.csv"), out.path(), &[]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(count(&summary, "ok"), 1);
    // A split of the user's own (`holdout`) is fine (issue 10); the repeated row is a bad row
    // and the missing file a failed file.
    assert_eq!(count(&summary, "failed"), 2);
    let errors = stderr(&output);
    assert!(errors.contains("already listed"), "{errors}");
    assert!(!errors.contains("holdout"), "{errors}");
    assert!(errors.contains("missing.mp3"), "{errors}");
}

#[test]
fn fatal_errors_exit_with_2_and_a_message() {
    let out = tempfile::tempdir().expect("tempdir");
    let out_arg = out.path().to_str().expect("utf-8");

    let missing = singerid(&["features", "/definitely/not/here", "--out", out_arg]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/definitely/not/here"));

    let empty = tempfile::tempdir().expect("tempdir");
    let nothing = singerid(&[
        "features",
        empty.path().to_str().expect("utf-8"),
        "--out",
        out_arg,
    ]);
    assert_eq!(nothing.status.code(), Some(2));
    assert!(
        stderr(&nothing).contains("no audio files"),
        "{}",
        stderr(&nothing)
    );

    let invalid = singerid(&["features", MINI, "--out", out_arg, "--n-mels", "0"]);
    assert_eq!(invalid.status.code(), Some(2));
    assert!(stderr(&invalid).contains("n_mels"), "{}", stderr(&invalid));
    assert!(!out.path().join("features").exists(), "nothing computed");

    let typo = singerid(&["features", MINI, "--channel", "centre"]);
    assert_eq!(typo.status.code(), Some(2), "clap usage errors also exit 2");
}
