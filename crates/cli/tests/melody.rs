//! Issue 14, items 2-3: `singerid melody` end to end with the shipped CREPE tiny on synthetic
//! audio: a 220 Hz sine comes out at 220 Hz, silence unvoiced; the CSV has one row per frame
//! of the step; the picture exists; the authors' contour has one row per 32 ms frame on the
//! right mel-grid row; folders without audio, bad files and a missing `full` model fail with
//! exit status 2 without stopping the other files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const RATE: u32 = 16_000;
/// Samples in each synthetic file: 2 s.
const SAMPLES: usize = 32_000;

fn singerid(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_singerid"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("SINGERID_SEPARATOR")
        .env_remove("RUST_LOG")
        // Pitch tracks are cached; tests keep theirs out of the user's cache.
        .env(
            "SINGERID_FEATURES_DIR",
            std::env::temp_dir().join("singerid-melody-tests"),
        )
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("run singerid")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn write_wav(path: &Path, hz: f64) {
    write_channels(path, &[hz]);
}

/// A 16-bit WAV with one sine per channel (0 Hz: silence).
fn write_channels(path: &Path, hz: &[f64]) {
    let spec = hound::WavSpec {
        channels: hz.len() as u16,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).expect("create wav");
    for i in 0..SAMPLES {
        for &f in hz {
            let x = 0.5 * (std::f64::consts::TAU * f * i as f64 / f64::from(RATE)).sin();
            writer
                .write_sample((x * f64::from(i16::MAX)) as i16)
                .expect("write sample");
        }
    }
    writer.finalize().expect("finish wav");
}

/// `--channel right` analyses the second channel alone (MIR-1K's voice stem): a stereo file
/// with 440 Hz on the left and 220 Hz on the right comes out at 220 Hz, and its cached track
/// is not the mix's.
#[test]
fn channel_right_reads_the_right_channel() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let stereo = tmp.path().join("stereo.wav");
    write_channels(&stereo, &[440.0, 220.0]);
    let cache = tmp.path().join("cache");
    let run = |channel: &str, out: &Path| {
        let args = ["melody", s(&stereo), "--out", s(out), "--channel", channel];
        let run = singerid(&[&args[..], &["--cache", s(&cache), "--format", "json"]].concat());
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let summary: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON");
        summary["files"][0]["cached"].as_bool().expect("cached")
    };
    let right = tmp.path().join("right");
    assert!(!run("right", &right));
    let f0 = rows(&right.join("stereo.f0.csv"), "time_s,f0_hz,confidence");
    let voiced: Vec<f64> = f0.iter().map(|r| r[1]).filter(|&hz| hz > 0.0).collect();
    assert!(voiced.len() * 10 >= f0.len() * 9, "{} voiced", voiced.len());
    assert!(voiced.iter().all(|hz| cents(*hz, 220.0).abs() < 20.0));
    assert!(
        !run("mix", &tmp.path().join("mix")),
        "the mix's track is another one"
    );
    assert!(run("right", &tmp.path().join("again")));

    let separated = singerid(&[
        "melody",
        s(&stereo),
        "--out",
        s(&tmp.path().join("sep")),
        "--channel",
        "right",
        "--vocals",
        "separated",
    ]);
    assert!(!separated.status.success());
    let stderr = String::from_utf8_lossy(&separated.stderr);
    assert!(
        stderr.contains("--channel right does not apply"),
        "{stderr}"
    );
}

/// The rows of a CSV with the given header, as numbers.
fn rows(path: &Path, header: &str) -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(header), "{}", path.display());
    lines
        .map(|l| l.split(',').map(|v| v.parse().expect("number")).collect())
        .collect()
}

fn cents(hz: f64, reference: f64) -> f64 {
    1200.0 * (hz / reference).log2()
}

#[test]
fn sine_and_silence_with_tiny() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (sine, silence) = (tmp.path().join("sine.wav"), tmp.path().join("silence.wav"));
    write_wav(&sine, 220.0);
    write_wav(&silence, 0.0);
    let out = tmp.path().join("out");
    let cache = tmp.path().join("cache");
    let melody = |out: &Path| {
        let args = ["melody", s(&sine), s(&silence), "--out", s(out)];
        let run = singerid(&[&args[..], &["--cache", s(&cache), "--format", "json"]].concat());
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let summary: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON");
        summary["files"]
            .as_array()
            .expect("files")
            .iter()
            .map(|f| f["cached"].as_bool().expect("cached"))
            .collect::<Vec<bool>>()
    };
    assert_eq!(melody(&out), [false, false]);
    // Again into another folder: both tracks come from the cache, and the CSVs are the same.
    let again = tmp.path().join("again");
    assert_eq!(melody(&again), [true, true]);
    for stem in ["sine", "silence"] {
        let csv = |dir: &Path| std::fs::read(dir.join(format!("{stem}.f0.csv"))).expect("csv");
        assert_eq!(csv(&out), csv(&again), "{stem}");
    }

    // 10 ms steps, centred: 1 + 32000 / 160 frames.
    let f0 = rows(&out.join("sine.f0.csv"), "time_s,f0_hz,confidence");
    assert_eq!(f0.len(), 1 + SAMPLES / 160);
    assert!((f0[100][0] - 1.0).abs() < 1e-9);
    let voiced: Vec<f64> = f0.iter().map(|r| r[1]).filter(|&hz| hz > 0.0).collect();
    assert!(voiced.len() * 10 >= f0.len() * 9, "{} voiced", voiced.len());
    for hz in &voiced {
        assert!(cents(*hz, 220.0).abs() < 20.0, "{hz} Hz");
    }
    let quiet = rows(&out.join("silence.f0.csv"), "time_s,f0_hz,confidence");
    assert_eq!(quiet.len(), 1 + SAMPLES / 160);
    let pitched = quiet.iter().filter(|r| r[1] > 0.0).count();
    assert!(pitched * 20 <= quiet.len(), "{pitched} pitched frames");

    for stem in ["sine", "silence"] {
        let png = std::fs::read(out.join(format!("{stem}.png"))).expect("picture");
        assert!(png.starts_with(b"\x89PNG"), "{stem}.png");
    }
    let leftovers: Vec<PathBuf> = std::fs::read_dir(&out)
        .expect("out")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(!out.join("sine.contour.csv").exists());
}

/// `--authors` with tiny: 32 ms steps (1 + 32000 / 512 frames) and the contour. 220 Hz lies
/// on row 8 of librosa's default mel grid (8 x 26.20 = 209.6 Hz <= 220 < 235.8 Hz).
#[test]
fn authors_contour() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sine = tmp.path().join("sine.wav");
    write_wav(&sine, 220.0);
    let out = tmp.path().join("out");
    let run = singerid(&[
        "melody",
        s(&sine),
        "--out",
        s(&out),
        "--authors",
        "--model",
        "tiny",
        "--format",
        "json",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON summary");
    assert_eq!(summary["step_ms"], 32.0);
    assert_eq!(summary["decoder"], "crepe_viterbi");
    let frames = 1 + SAMPLES / 512;
    assert_eq!(summary["files"][0]["frames"], frames);
    let f0 = rows(&out.join("sine.f0.csv"), "time_s,f0_hz,confidence");
    let contour = rows(&out.join("sine.contour.csv"), "frame,bin");
    assert_eq!((f0.len(), contour.len()), (frames, frames));
    for (t, (row, f0_row)) in contour.iter().zip(&f0).enumerate() {
        assert_eq!(row[0], t as f64);
        if f0_row[1] > 0.0 {
            assert_eq!(row[1], 8.0, "frame {t}: f0 {}", f0_row[1]);
        }
    }
}

#[test]
fn failures_exit_2_and_spare_the_others() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let empty = tmp.path().join("no-audio");
    std::fs::create_dir(&empty).expect("mkdir");
    std::fs::write(empty.join("notes.txt"), "not audio").expect("write");
    let out = tmp.path().join("out");
    let run = singerid(&["melody", s(&empty), "--out", s(&out)]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("no audio files"), "{stderr}");

    let (bad, sine) = (tmp.path().join("bad.wav"), tmp.path().join("sine.wav"));
    std::fs::write(&bad, "not a wav file").expect("write");
    write_wav(&sine, 220.0);
    let run = singerid(&["melody", s(&bad), s(&sine), "--out", s(&out), "--quiet"]);
    assert_eq!(run.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        stdout.lines().filter(|l| l.contains("error")).count(),
        1,
        "{stdout}"
    );
    assert!(out.join("sine.f0.csv").is_file() && !out.join("bad.f0.csv").exists());

    // Without models/crepe-full, `--model full` names the conversion command.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if !repo.join("models/crepe-full").exists() {
        let run = singerid(&["melody", s(&sine), "--out", s(&out), "--model", "full"]);
        assert_eq!(run.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(stderr.contains("convert_crepe"), "{stderr}");
    }
}
