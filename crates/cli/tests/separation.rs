//! Issues 12 and 13: the separator end to end on the mini fixture. A tiny Open-Unmix is trained
//! for two short epochs (and resumed), separates a 44.1 kHz stereo file into stems of the same
//! shape, is scored by `separate --eval`, and then a classifier is trained on its separated
//! vocals: the model folder carries the separator, and `eval` and `identify` replay it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const MINI_DIR: &str = "../../../shared/data/fixtures/mir1k-mini";
const STEREO_44K: &str = "../../../shared/data/fixtures/formats/amy_1_01_44k.wav";

fn singerid(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_singerid"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("SINGERID_FEATURES_DIR")
        .env_remove("SINGERID_SEPARATOR")
        .env_remove("SINGERID_MODEL")
        .env_remove("RUST_LOG")
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("run singerid")
}

fn ok(args: &[&str]) -> Output {
    let out = singerid(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// The mini fixture's manifest with absolute paths and a split column: each singer's first
/// song (in file order) trains, the other validates.
fn manifest_with_split(dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(MINI_DIR);
    let text = std::fs::read_to_string(root.join("metadata.csv")).expect("fixture manifest");
    let mut first_song = std::collections::BTreeMap::new();
    let mut out = String::from("path,singer,song,split\n");
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let (path, singer, song) = (fields[0], fields[1], fields[2]);
        let first = first_song
            .entry(singer.to_owned())
            .or_insert(song.to_owned());
        let split = if first == song { "train" } else { "val" };
        let abs = root.join(path).canonicalize().expect("fixture file");
        out += &format!("{},{singer},{song},{split}\n", abs.display());
    }
    let path = dir.join("mini.csv");
    std::fs::write(&path, out).expect("write manifest");
    path
}

#[test]
fn train_separate_score_and_replay_separated_vocals() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = manifest_with_split(tmp.path());
    let sep = tmp.path().join("sep");
    let train_sep = |epochs: &str| {
        ok(&[
            "train-separator",
            "--data",
            s(&data),
            "--out",
            s(&sep),
            "--hidden",
            "8",
            "--layers",
            "1",
            "--batch",
            "2",
            "--seconds",
            "1",
            "--steps-per-epoch",
            "2",
            "--epochs",
            epochs,
            "--format",
            "json",
        ])
    };
    let first: Value = serde_json::from_slice(&train_sep("1").stdout).expect("JSON");
    assert_eq!(first["epochs"], 1);
    // A rerun with more epochs resumes after epoch 1.
    let second: Value = serde_json::from_slice(&train_sep("2").stdout).expect("JSON");
    assert_eq!(second["epochs"], 2);
    let log = std::fs::read_to_string(sep.join("log.csv")).expect("log");
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(sep.join("best/separator.json").is_file());

    // Stems keep the input's rate, channels and length.
    let stems = tmp.path().join("stems");
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join(STEREO_44K);
    ok(&[
        "separate",
        s(&input),
        "--model",
        s(&sep),
        "--out",
        s(&stems),
    ]);
    let original = hound::WavReader::open(&input).expect("input").spec();
    let original_len = hound::WavReader::open(&input).expect("input").duration();
    for stem in ["vocals", "accompaniment"] {
        let reader =
            hound::WavReader::open(stems.join(format!("amy_1_01_44k/{stem}.wav"))).expect("stem");
        assert_eq!(reader.spec().sample_rate, original.sample_rate);
        assert_eq!(reader.spec().channels, original.channels);
        assert_eq!(reader.duration(), original_len);
    }
    assert!(stems.join("amy_1_01_44k/spectrogram.png").is_file());
    // A folder without audio is an error, exit 2.
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let none = singerid(&[
        "separate",
        s(&empty),
        "--model",
        s(&sep),
        "--out",
        s(&stems),
    ]);
    assert_eq!(none.status.code(), Some(2));

    // The report scores the separator beside the ideal ratio mask and the mixture.
    let report_dir = tmp.path().join("report");
    let report = ok(&[
        "separate",
        "--eval",
        s(&data),
        "--split",
        "val",
        "--model",
        s(&sep),
        "--out",
        s(&report_dir),
        "--format",
        "json",
    ]);
    let systems: Value = serde_json::from_slice(&report.stdout).expect("JSON");
    assert_eq!(systems.as_array().map(Vec::len), Some(3));
    // The mixture's own NSDR is 0; the ideal ratio mask is far above it.
    assert!(systems[2]["gnsdr"].as_f64().expect("number").abs() < 1e-6);
    assert!(systems[1]["gnsdr"].as_f64().expect("number") > 3.0);
    for file in [
        "report.md",
        "report.json",
        "clips.csv",
        "sdr.png",
        "spectrogram.png",
    ] {
        assert!(report_dir.join(file).is_file(), "{file}");
    }

    // A classifier on the separated vocals carries its separator...
    let run = tmp.path().join("run");
    let cache = tmp.path().join("cache");
    ok(&[
        "train",
        "--data",
        s(&data),
        "--model",
        "mel_stats_linear",
        "--epochs",
        "1",
        "--vocals",
        "separated",
        "--separator",
        s(&sep),
        "--cache",
        s(&cache),
        "--out",
        s(&run),
    ]);
    let meta: Value = serde_json::from_str(
        &std::fs::read_to_string(run.join("best/singerid.json")).expect("bundle meta"),
    )
    .expect("JSON");
    let id = meta["separator"]["id"]
        .as_str()
        .expect("separator id")
        .to_owned();
    assert!(run.join("best/separator/model.safetensors").is_file());
    // ...and the separated audio is cached under that id.
    assert!(
        cache
            .join("separated")
            .join(&id)
            .read_dir()
            .expect("dir")
            .count()
            > 0
    );

    // Remixes (a voice over another singer's accompaniment, then separated) add training clips
    // and are cached under the separator's id; the augmentation settings are recorded.
    let remixed = tmp.path().join("remixed-run");
    ok(&[
        "train",
        "--data",
        s(&data),
        "--model",
        "mel_stats_linear",
        "--epochs",
        "2",
        "--vocals",
        "separated",
        "--separator",
        s(&sep),
        "--remixes",
        "1",
        "--random-offsets",
        "--spec-augment",
        "1,4,1,8",
        "--class-weights",
        "--lr-plateau",
        "0.5,1",
        "--cache",
        s(&cache),
        "--out",
        s(&remixed),
    ]);
    let train_json = |run: &Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(run.join("train.json")).expect("train.json"))
            .expect("JSON")
    };
    let (plain, more) = (train_json(&run), train_json(&remixed));
    assert_eq!(more["data"]["remixes"], 1);
    let clips = |v: &Value| v["data"]["train"]["clips"].as_u64().expect("clips");
    assert!(
        clips(&more) > clips(&plain),
        "{} vs {}",
        clips(&more),
        clips(&plain)
    );
    assert_eq!(more["config"]["augment"]["random_offsets"], true);
    assert_eq!(more["config"]["augment"]["time_masks"], 1);
    assert_eq!(more["config"]["class_weights"], true);
    assert_eq!(more["config"]["lr_plateau"]["patience"], 1);
    let remixes = cache.join("remixed").join(&id);
    assert!(remixes.read_dir().expect("remix cache").count() > 0);
    // Remixing needs the mixture: a stem channel is refused before any work.
    let refused = singerid(&[
        "train",
        "--data",
        s(&data),
        "--model",
        "mel_stats_linear",
        "--remixes",
        "1",
        "--channel",
        "right",
        "--cache",
        s(&cache),
        "--out",
        s(&tmp.path().join("refused")),
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("set it to mix"));

    // eval and identify replay it, even with the training run's separator folder gone.
    std::fs::remove_dir_all(&sep).expect("rm separator");
    let eval = ok(&[
        "eval",
        "--model",
        s(&run),
        "--cache",
        s(&cache),
        "--out",
        s(&tmp.path().join("eval")),
        "--format",
        "json",
    ]);
    let eval: Value = serde_json::from_slice(&eval.stdout).expect("JSON");
    assert_eq!(eval["vocals"], format!("separated by {id}"));
    let identify = ok(&[
        "identify",
        "--model",
        s(&run),
        s(&input),
        "--format",
        "json",
    ]);
    let identify: Value = serde_json::from_slice(&identify.stdout).expect("JSON");
    assert_eq!(identify["vocals"], format!("separated by {id}"));
    // A channel override does not apply to a separated model.
    let wrong = singerid(&[
        "eval",
        "--model",
        s(&run),
        "--channel",
        "right",
        "--cache",
        s(&cache),
        "--out",
        s(&tmp.path().join("eval2")),
    ]);
    assert_eq!(wrong.status.code(), Some(2));
}

/// The Open-Unmix oracle fixture's state dict alone (the fixture also holds the oracle's
/// inputs and outputs), as a user's converted `vocals.safetensors` would be.
fn oracle_state_dict(dir: &Path) -> PathBuf {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models/tests/fixtures/open_unmix.safetensors");
    let bytes = std::fs::read(&fixture).expect("oracle fixture");
    let tensors = safetensors::SafeTensors::deserialize(&bytes).expect("safetensors");
    let oracle = ["input", "output", "stage.lstm.input", "stage.lstm.output"];
    let kept: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .tensors()
        .into_iter()
        .filter(|(name, _)| !oracle.contains(&name.as_str()))
        .collect();
    let path = dir.join("vocals.safetensors");
    safetensors::serialize_to_file(kept, None, &path).expect("write state dict");
    path
}

#[test]
fn an_imported_stereo_open_unmix_separates_stereo_and_mono_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let state = oracle_state_dict(tmp.path());
    let sep = tmp.path().join("umx");
    // The fixture network: 129 bins (n_fft 256), 2 channels, 64 bins fed in, hidden 16.
    let out = ok(&[
        "import-separator",
        s(&state),
        "--out",
        s(&sep),
        "--rate",
        "16000",
        "--n-fft",
        "256",
        "--hop",
        "64",
        "--format",
        "json",
    ]);
    let summary: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(summary["channels"], 2);
    assert_eq!(summary["hidden_size"], 16);
    assert_eq!(summary["bandwidth_bins"], 64);
    assert!(sep.join("separator.json").is_file() && sep.join("model.safetensors").is_file());

    // A stereo file is separated jointly into stereo stems of its own shape.
    let stems = tmp.path().join("stems");
    ok(&[
        "separate",
        STEREO_44K,
        "--model",
        s(&sep),
        "--out",
        s(&stems),
    ]);
    let vocals = hound::WavReader::open(stems.join("amy_1_01_44k/vocals.wav")).expect("vocals");
    let input = hound::WavReader::open(Path::new(env!("CARGO_MANIFEST_DIR")).join(STEREO_44K))
        .expect("input");
    assert_eq!(vocals.spec().channels, 2);
    assert_eq!(vocals.spec().sample_rate, input.spec().sample_rate);
    assert_eq!(vocals.duration(), input.duration());
    let samples: Vec<f32> = vocals
        .into_samples::<f32>()
        .map(|x| x.expect("f32"))
        .collect();
    assert!(samples.iter().all(|x| x.is_finite()));
    assert!(samples.iter().any(|x| *x != 0.0));

    // A mono file goes to both network channels and comes back mono.
    let mono = tmp.path().join("mono.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&mono, spec).expect("wav");
    for i in 0..16000 {
        let x = (i as f32 * 0.05).sin() * 8000.0;
        writer.write_sample(x as i16).expect("sample");
    }
    writer.finalize().expect("finalize");
    ok(&["separate", s(&mono), "--model", s(&sep), "--out", s(&stems)]);
    let vocals = hound::WavReader::open(stems.join("mono/vocals.wav")).expect("vocals");
    assert_eq!(vocals.spec().channels, 1);
    assert_eq!(vocals.duration(), 16000);

    // A state dict that does not fit the STFT, or has a key the network does not have, is
    // refused, saying why.
    let wrong_fft = singerid(&[
        "import-separator",
        s(&state),
        "--out",
        s(&tmp.path().join("y")),
    ]);
    assert_eq!(wrong_fft.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong_fft.stderr).contains("n_fft 4096 gives 2049"));
    let bad = tmp.path().join("bad.safetensors");
    let fixture = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../models/tests/fixtures/open_unmix.safetensors"),
    )
    .expect("fixture");
    std::fs::write(&bad, fixture).expect("copy");
    let refused = singerid(&[
        "import-separator",
        s(&bad),
        "--n-fft",
        "256",
        "--hop",
        "64",
        "--out",
        s(&tmp.path().join("x")),
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("stage.lstm.input"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
