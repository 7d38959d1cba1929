//! Issue 15 item 3 end to end: `train --objective multilabel` on fixture tags, `eval` of the
//! tagging model, `identify` refusing it, and the objective refusing a manifest without tags.
//!
//! No tagging corpus is available here, so the tags are made up per singer of the MIR-1K mini
//! fixture (4 singers x 2 songs x 2 clips; the audio is read in place from `../shared`, never
//! copied) and written with a split column into a manifest in a temporary folder: each singer's
//! song `_1` trains; the other songs of abjones and amy validate, those of Ani and yifen test,
//! so that every tag has positive and negative recordings in both. The model is
//! `mel_stats_linear` (seconds per epoch), 3 s clips of the vocal channel, 3 epochs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const MINI: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/fixtures/mir1k-mini"
);

/// The made-up tags of each singer (cells as a user might write them: spaces around names).
const TAGS: [(&str, &str); 4] = [
    ("abjones", "low"),
    ("amy", " high ; bright"),
    ("Ani", "high"),
    ("yifen", "low;bright"),
];

fn singerid(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_singerid"))
        .args(args)
        .env_remove("SINGERID_FEATURES_DIR")
        .env_remove("SINGERID_MODEL")
        .env_remove("RUST_LOG")
        .output()
        .expect("run singerid")
}

fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Writes `tags.csv` (absolute paths into the fixture, a split column, the tags above; one
/// test recording also carries `live`, a tag the training part lacks) and returns its path and
/// every recording's tags by absolute path.
fn tagged_manifest(dir: &Path) -> (PathBuf, BTreeMap<String, Vec<String>>) {
    let fixture = Path::new(MINI).canonicalize().expect("the mini fixture");
    let metadata =
        std::fs::read_to_string(fixture.join("metadata.csv")).expect("the fixture's manifest");
    let mut csv = String::from("path,singer,song,split,tags\n");
    let mut tags_of = BTreeMap::new();
    for line in metadata.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let (path, singer, song) = (fields[0], fields[1], fields[2]);
        let split = if song.ends_with("_1") {
            "train"
        } else if singer == "abjones" || singer == "amy" {
            "val"
        } else {
            "test"
        };
        let mut tags = TAGS
            .iter()
            .find(|(name, _)| *name == singer)
            .expect("a tagged singer")
            .1
            .to_owned();
        if path.ends_with("yifen_3_09.mp3") {
            tags.push_str(";live");
        }
        let absolute = fixture.join(path);
        csv.push_str(&format!(
            "{},{singer},{song},{split},{tags}\n",
            s(&absolute)
        ));
        let parsed: Vec<String> = tags.split(';').map(|t| t.trim().to_owned()).collect();
        tags_of.insert(s(&absolute).to_owned(), parsed);
    }
    let manifest = dir.join("tags.csv");
    std::fs::write(&manifest, csv).expect("write the manifest");
    (manifest, tags_of)
}

fn train_args<'a>(manifest: &'a str, cache: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        "--quiet",
        "--data",
        manifest,
        "--model",
        "mel_stats_linear",
        "--channel",
        "right",
        "--clip-seconds",
        "3",
        "--objective",
        "multilabel",
        "--lr",
        "0.01",
        "--epochs",
        "3",
        "--batch-size",
        "8",
        "--seed",
        "3",
        "--cache",
        cache,
        "--out",
        out,
    ]
}

#[test]
fn multilabel_training_then_tag_eval_and_identify_refuses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (manifest, tags_of) = tagged_manifest(dir.path());
    let run = dir.path().join("run");
    let cache = dir.path().join("cache");

    let trained = singerid(&train_args(s(&manifest), s(&cache), s(&run)));
    assert_eq!(trained.status.code(), Some(0), "{}", stderr(&trained));

    // The bundle's classes are the tag vocabulary of the training part, sorted (`live` is
    // only in the test part), and it records the objective.
    let meta: Value = serde_json::from_str(
        &std::fs::read_to_string(run.join("best/singerid.json")).expect("best/ bundle"),
    )
    .expect("JSON");
    assert_eq!(
        meta["classes"],
        serde_json::json!(["bright", "high", "low"])
    );
    assert_eq!(
        meta["provenance"]["train_config"]["objective"]["kind"],
        "multilabel"
    );
    assert_eq!(meta["provenance"]["selected_by"], "val_macro_auc");

    // The log: the tagging column, a finite macro AUC in [0, 1] every epoch, a falling loss.
    let log = std::fs::read_to_string(run.join("log.csv")).expect("log.csv");
    let mut lines = log.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let rows: Vec<Vec<f64>> = lines
        .map(|l| {
            l.split(',')
                .map(|v| v.parse().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 3, "{log}");
    for row in &rows {
        let auc = row[column("val_macro_auc")];
        assert!((0.0..=1.0).contains(&auc), "{log}");
        assert!(row[column("val_weighted_f1")].is_nan(), "{log}");
    }
    let loss = column("train_loss");
    assert!(
        rows[2][loss] < rows[0][loss],
        "the training loss should fall over 3 epochs:\n{log}"
    );

    // eval: per-tag, macro and micro AUC at both levels, and the report files.
    let out = dir.path().join("eval");
    let eval = |format: &str| {
        singerid(&[
            "eval",
            "--quiet",
            "--model",
            s(&run),
            "--split",
            "test",
            "--format",
            format,
            "--cache",
            s(&cache),
            "--out",
            s(&out),
        ])
    };
    let evaluated = eval("json");
    assert_eq!(evaluated.status.code(), Some(0), "{}", stderr(&evaluated));
    let report: Value = serde_json::from_slice(&evaluated.stdout).expect("JSON summary");
    assert_eq!(report["split"], "test");
    assert_eq!(report["recordings"], 4);
    let scores = &report["scores"];
    assert_eq!(scores["tags"], serde_json::json!(["bright", "high", "low"]));
    assert_eq!(
        scores["unknown_tags"],
        serde_json::json!([{"tag": "live", "recordings": 1}])
    );
    for level in ["clip", "recording"] {
        for key in ["macro_auc", "micro_auc"] {
            let auc = scores[level][key].as_f64().expect(key);
            assert!((0.0..=1.0).contains(&auc), "{level} {key}: {auc}");
        }
        assert_eq!(
            scores[level]["tags_scored"], 3,
            "every tag is defined on test"
        );
    }
    for file in ["report.md", "tagging_report.json", "scores.csv"] {
        assert!(out.join(file).is_file(), "{file}");
    }

    // The recording-level AUCs are singerid_eval::tagging's on the scores the report wrote.
    let csv = std::fs::read_to_string(out.join("scores.csv")).expect("scores.csv");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("recording,tags,bright,high,low"));
    let tags = ["bright", "high", "low"];
    let (mut matrix, mut labels) = (Vec::new(), Vec::new());
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        let listed = &tags_of[fields[0]];
        matrix.push(
            fields[2..]
                .iter()
                .map(|v| v.parse::<f64>().expect("a score"))
                .collect::<Vec<_>>(),
        );
        labels.push(
            tags.iter()
                .map(|t| listed.iter().any(|l| l == t))
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(matrix.len(), 4);
    let per_tag = singerid_eval::roc_auc_per_tag(&matrix, &labels).expect("per tag");
    for (k, auc) in per_tag.iter().enumerate() {
        let reported = scores["recording"]["per_tag"][k]["auc"].as_f64();
        assert_eq!(reported, *auc, "tag {}", tags[k]);
    }
    let macro_auc = singerid_eval::roc_auc_macro(&matrix, &labels).expect("macro");
    let micro_auc = singerid_eval::roc_auc_micro(&matrix, &labels).expect("micro");
    assert_eq!(scores["recording"]["macro_auc"].as_f64(), Some(macro_auc));
    assert_eq!(scores["recording"]["micro_auc"].as_f64(), Some(micro_auc));

    // The text summary names the levels.
    let text = String::from_utf8_lossy(&eval("text").stdout).into_owned();
    assert!(
        text.contains("eval (tagging)") && text.contains("recording"),
        "{text}"
    );

    // identify refuses a tagging model rather than naming a singer.
    let clip = format!("{MINI}/audio/amy/amy_2/amy_2_03.mp3");
    let identified = singerid(&["identify", "--quiet", "--model", s(&run), &clip]);
    assert_eq!(identified.status.code(), Some(2), "{}", stderr(&identified));
    assert!(
        stderr(&identified).contains("tagging model"),
        "{}",
        stderr(&identified)
    );
    assert!(identified.stdout.is_empty());

    // So do the library commands, with or without a library: its answers are singers.
    let db = dir.path().join("library.db");
    for args in [
        vec![
            "identify",
            "--quiet",
            "--model",
            s(&run),
            "--db",
            s(&db),
            &clip,
        ],
        vec!["scan", "--quiet", "--model", s(&run), "--db", s(&db), MINI],
    ] {
        let refused = singerid(&args);
        assert_eq!(
            refused.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&refused)
        );
        assert!(
            stderr(&refused).contains("tagging model"),
            "{}",
            stderr(&refused)
        );
    }
}

#[test]
fn multilabel_without_tags_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = Path::new(MINI).join("metadata.csv");
    let run = dir.path().join("run");
    let cache = dir.path().join("cache");
    let output = singerid(&train_args(s(&manifest), s(&cache), s(&run)));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("lists none") && message.contains("`tags` column"),
        "{message}"
    );
    assert!(!run.join("train.json").exists(), "nothing is trained");

    // A malformed tags cell is a row problem naming the line, not a panic; the other row has
    // no tag, so nothing is left to train on.
    let bad = dir.path().join("bad.csv");
    let path = Path::new(MINI).join("audio/amy/amy_1/amy_1_05.mp3");
    let other = Path::new(MINI).join("audio/amy/amy_1/amy_1_06.mp3");
    std::fs::write(
        &bad,
        format!(
            "path,singer,tags\n{},amy,rock;;pop\n{},amy,\n",
            s(&path),
            s(&other)
        ),
    )
    .expect("write");
    let output = singerid(&train_args(s(&bad), s(&cache), s(&run)));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("line 2") && message.contains("empty name"),
        "{message}"
    );
    assert!(message.contains("lists none"), "{message}");
}
