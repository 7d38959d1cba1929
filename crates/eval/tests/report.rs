//! Report files on hand-built predictions: the JSON fields and their values, the CSV tables,
//! decodable PNGs, and the t-SNE map (deterministic, separating two blobs).

use std::path::Path;

use singerid_audio::Preset;
use singerid_data::clip::LastClip;
use singerid_eval::predictions::ClipPrediction;
use singerid_eval::{CurvePoint, Predictions, RunInfo, TsneConfig, evaluate, tsne, write_report};

/// A seeded normal deviate stream (splitmix64 + Box-Muller), so the fixtures need no RNG crate.
struct Normal(u64);

impl Normal {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    fn sample(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// `n` points around `centre` in `dim` dimensions, standard deviation 1.
fn blob(rng: &mut Normal, n: usize, dim: usize, centre: f64) -> Vec<Vec<f32>> {
    (0..n)
        .map(|_| (0..dim).map(|_| (centre + rng.sample()) as f32).collect())
        .collect()
}

/// Two known singers with 3 songs x 4 clips each, embeddings in two blobs, plus one unknown
/// singer's song of 2 clips.
fn fixture() -> Predictions {
    let mut rng = Normal(7);
    let mut clips = Vec::new();
    for (label, singer) in ["ann", "bob"].into_iter().enumerate() {
        let embeddings = blob(&mut rng, 12, 8, if label == 0 { -6.0 } else { 6.0 });
        for (i, embedding) in embeddings.into_iter().enumerate() {
            let song = format!("{singer}/song{}", i / 4);
            // Clip 3 of every song is wrong and unconfident.
            let probs = if i % 4 == 3 {
                if label == 0 {
                    vec![0.45, 0.55]
                } else {
                    vec![0.6, 0.4]
                }
            } else if label == 0 {
                vec![0.9, 0.1]
            } else {
                vec![0.2, 0.8]
            };
            clips.push(ClipPrediction {
                recording: format!("{song}.wav"),
                song,
                singer: singer.to_owned(),
                label: Some(label),
                clip_index: i % 4,
                start_frame: (i % 4) * 94,
                probs,
                embedding,
            });
        }
    }
    for i in 0..2 {
        clips.push(ClipPrediction {
            recording: "cy/x.wav".into(),
            song: "cy/x".into(),
            singer: "cy".into(),
            label: None,
            clip_index: i,
            start_frame: i * 94,
            probs: vec![0.3, 0.7],
            embedding: vec![0.0; 8],
        });
    }
    Predictions {
        classes: vec!["ann".into(), "bob".into()],
        clip_frames: 94,
        seconds_per_frame: 512.0 / 16000.0,
        clips,
    }
}

fn run_info(curve: bool) -> RunInfo {
    RunInfo {
        model: "crnn".into(),
        params: 12345,
        features: Preset::Fgnl.config(),
        clip_frames: 94,
        last_clip: LastClip::Keep,
        data: "hand-built fixture".into(),
        checkpoint: Some("runs/x".into()),
        command: "singerid eval --model runs/x".into(),
        notes: vec!["A note.".into()],
        learning_curve: curve.then(|| {
            (1..=4)
                .map(|epoch| CurvePoint {
                    epoch,
                    train_loss: 2.0 / epoch as f64,
                    train_accuracy: 0.2 * epoch as f64,
                    val_loss: 2.2 / epoch as f64,
                    val_weighted_f1: 0.18 * epoch as f64,
                })
                .collect()
        }),
    }
}

/// Checks the PNG signature, decodes the image and requires a plausible size and some ink.
fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    assert!(
        bytes.len() > 5_000,
        "{}: {} bytes",
        path.display(),
        bytes.len()
    );
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("png data");
    assert!(info.width >= 400 && info.height >= 300, "{info:?}");
    let dark = buf
        .chunks_exact(3)
        .filter(|px| px.iter().all(|&c| c < 100))
        .count();
    assert!(
        dark > 500,
        "{}: only {dark} dark pixels (no text?)",
        path.display()
    );
}

#[test]
fn report_json_holds_the_headline_numbers() {
    let p = fixture();
    let eval = evaluate(&p).expect("evaluate");
    let dir = tempfile::tempdir().expect("tempdir");
    let files = write_report(dir.path(), &eval, &p, &run_info(true)).expect("report");
    let text = std::fs::read_to_string(&files.json).expect("report.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(json["model"], "crnn");
    assert_eq!(json["params"], 12345);
    assert_eq!(
        json["features"],
        serde_json::to_value(Preset::Fgnl.config()).expect("config")
    );
    // Frame level: 18 of 24 right; per class F1 ann: tp 9, fp 3, fn 3 -> 18/24; bob the same.
    assert_eq!(json["frame"]["accuracy"], 0.75);
    assert_eq!(json["frame"]["macro_f1"], 0.75);
    assert_eq!(json["frame"]["weighted_f1"], 0.75);
    // Song level: the wrong clip never votes (0.55 and 0.6 are confident, but 3 : 1).
    assert_eq!(json["song"]["accuracy"], 1.0);
    assert_eq!(json["song"]["macro_f1"], 1.0);
    assert_eq!(json["song"]["weighted_f1"], 1.0);
    assert_eq!(json["song"]["n_samples"], 6);
    assert_eq!(
        json["frame"]["confusion"],
        serde_json::json!([[9, 3], [3, 9]])
    );
    assert_eq!(json["frame"]["per_class"][1]["singer"], "bob");
    assert_eq!(json["unknown_clips"], 2);
    assert_eq!(json["unknown_singers"][0]["singer"], "cy");
    assert_eq!(json["learning_curve"][3]["epoch"], 4);
    assert_eq!(json["tsne"]["points"], 26);

    let md = std::fs::read_to_string(&files.markdown).expect("report.md");
    for needle in [
        "crnn",
        "12345",
        "| frame | 24 | 75.00 % | 0.7500 | 0.7500 |",
        "| song | 6 | 100.00 % | 1.0000 | 1.0000 |",
        "| cy | 2 | 1 | bob (1) |",
        "](confusion_frame.png)",
        "](tsne.png)",
        "](learning_curve.png)",
        "channel mix",
    ] {
        assert!(md.contains(needle), "report.md lacks {needle:?}:\n{md}");
    }
}

#[test]
fn report_writes_tables_and_decodable_pngs() {
    let p = fixture();
    let eval = evaluate(&p).expect("evaluate");
    let dir = tempfile::tempdir().expect("tempdir");
    let files = write_report(dir.path(), &eval, &p, &run_info(true)).expect("report");
    for png in [
        Some(&files.confusion_frame),
        Some(&files.confusion_song),
        files.tsne_png.as_ref(),
        files.learning_curve.as_ref(),
    ] {
        assert_png(png.expect("written"));
    }
    let mut csv = csv::Reader::from_path(&files.predictions_csv).expect("predictions.csv");
    let header: Vec<String> = csv
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(
        header,
        [
            "recording",
            "song",
            "singer",
            "clip_index",
            "start_s",
            "predicted",
            "confidence"
        ]
    );
    let rows: Vec<csv::StringRecord> = csv.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 26);
    assert_eq!(&rows[3][4], "9.024"); // clip 3 starts at frame 282 = 9.024 s
    assert_eq!(&rows[3][5], "bob");
    assert_eq!(&rows[3][6], "0.550000");
    let tsne_rows = csv::Reader::from_path(files.tsne_csv.as_ref().expect("tsne.csv"))
        .expect("tsne.csv")
        .records()
        .count();
    assert_eq!(tsne_rows, 26);

    // Without a curve there is no learning-curve plot.
    let dir = tempfile::tempdir().expect("tempdir");
    let files = write_report(dir.path(), &eval, &p, &run_info(false)).expect("report");
    assert!(files.learning_curve.is_none());
    assert!(!dir.path().join("learning_curve.png").exists());
}

#[test]
fn tsne_is_deterministic_and_separates_two_blobs() {
    let mut rng = Normal(42);
    let mut points = blob(&mut rng, 40, 16, 0.0);
    points.extend(blob(&mut rng, 40, 16, 8.0));
    let config = TsneConfig {
        seed: 3,
        ..TsneConfig::default()
    };
    let first = tsne(&points, &config).expect("tsne");
    let second = tsne(&points, &config).expect("tsne");
    assert_eq!(first, second, "same seed, same map");
    let other = tsne(
        &points,
        &TsneConfig {
            seed: 4,
            ..TsneConfig::default()
        },
    )
    .expect("tsne");
    assert_ne!(first, other, "the seed matters");

    // Every point's nearest neighbour in the map is from its own blob, and the blobs'
    // centroids are far apart compared with their spread.
    let dist = |a: &[f64; 2], b: &[f64; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
    for (i, a) in first.iter().enumerate() {
        let nearest = (0..first.len())
            .filter(|&j| j != i)
            .min_by(|&j, &k| dist(a, &first[j]).total_cmp(&dist(a, &first[k])))
            .expect("neighbours");
        assert_eq!(
            i / 40,
            nearest / 40,
            "point {i}'s nearest neighbour is {nearest}"
        );
    }
    let centroid = |range: std::ops::Range<usize>| {
        let n = range.len() as f64;
        let (x, y) = first[range]
            .iter()
            .fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
        [x / n, y / n]
    };
    let (c0, c1) = (centroid(0..40), centroid(40..80));
    let spread = |c: &[f64; 2], range: std::ops::Range<usize>| {
        first[range].iter().map(|p| dist(p, c)).sum::<f64>() / 40.0
    };
    let gap = dist(&c0, &c1);
    assert!(
        gap > 2.0 * spread(&c0, 0..40).max(spread(&c1, 40..80)),
        "gap {gap}, spreads {} {}",
        spread(&c0, 0..40),
        spread(&c1, 40..80)
    );
}
