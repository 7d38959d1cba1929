//! Issue 15 item 2: the embedding evaluation on the MIR-1K mini fixture (4 singers x 2 songs x
//! 2 clips): kNN accuracy (enrol the `train` songs, query the `val` songs), the verification
//! EER over all pairs of `val` recordings and the t-SNE map run on a small siamese twin's
//! bundle and give values in range.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use singerid_audio::Preset;
use singerid_data::CacheOptions;
use singerid_data::clip::LastClip;
use singerid_infer::{DeviceChoice, EmbeddingEvalRequest, evaluate_embedding, load_model};
use singerid_models::registry;
use singerid_train::bundle::{self, BundleMeta};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/fixtures/mir1k-mini")
}

/// The fixture's manifest with a split column: song `_1` of each singer is `train`, the other
/// song `val`; paths made absolute.
fn manifest_with_splits(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(fixture().join("metadata.csv")).expect("manifest");
    let mut out = String::from("path,singer,song,split\n");
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let split = if fields[2].ends_with("_1") {
            "train"
        } else {
            "val"
        };
        let path = fixture().join(fields[0]);
        out.push_str(&format!(
            "{},{},{},{split}\n",
            path.display(),
            fields[1],
            fields[2]
        ));
    }
    let path = dir.join("metadata.csv");
    std::fs::write(&path, out).expect("write manifest");
    path
}

#[test]
fn embedding_evaluation_gives_values_in_range() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = manifest_with_splits(dir.path());
    let classes: Vec<String> = ["abjones", "amy", "annar", "ariel"]
        .map(str::to_owned)
        .to_vec();
    // A small, untrained iclr_resnext_siamese (8 filters, 32 dense units, 16-d embedding).
    let mut config = (registry::get("iclr_resnext_siamese")
        .expect("registered")
        .default_config)(classes.len());
    config["first_filters"] = 8.into();
    config["stages"] = serde_json::json!([{"channels": 8, "blocks": 1}]);
    config["dense_units"] = 32.into();
    let model = registry::build("iclr_resnext_siamese", 4, Some(&config), &Device::default())
        .expect("model");
    let mut features = Preset::Iclr2018.config();
    features.channel = singerid_audio::Channel::Right;
    let meta = BundleMeta {
        format: bundle::FORMAT.into(),
        version: bundle::VERSION,
        classes,
        features,
        clip_frames: 64,
        last_clip: LastClip::Keep,
        provenance: serde_json::json!({"train_config": {"objective": {"kind": "contrastive"}}}),
        separator: None,
        melody: None,
        unknown_below: None,
    };
    let model_dir = dir.path().join("model");
    bundle::save(&*model, &meta, &model_dir).expect("save");
    let bundle = load_model(&model_dir, DeviceChoice::Cpu).expect("load");

    let out = dir.path().join("report");
    let request = EmbeddingEvalRequest {
        model_dir: model_dir.clone(),
        data: Some(manifest),
        enrol_split: "train".into(),
        query_split: "val".into(),
        channel: None,
        cache: CacheOptions::new(dir.path().join("cache")),
        out: out.clone(),
        batch_size: 8,
        command: "test".into(),
    };
    let e = evaluate_embedding(&bundle, &request, &singerid_data::Silent).expect("evaluate");
    assert_eq!(e.dim, 16);
    assert_eq!((e.enrol_recordings, e.query_recordings), (8, 8));
    assert_eq!((e.enrol_singers, e.query_singers), (4, 4));
    assert_eq!(e.query_recordings_of_unenrolled_singers, 0);
    let ks: Vec<usize> = e.knn.iter().map(|s| s.k).collect();
    assert_eq!(ks, [1, 3, 5]);
    for s in &e.knn {
        assert!((0.0..=1.0).contains(&s.accuracy), "{s:?}");
        // 8 queries: accuracies are multiples of 1/8.
        assert!((s.accuracy * 8.0 - (s.accuracy * 8.0).round()).abs() < 1e-9);
    }
    let v = e.verification.expect("both kinds of pair");
    // 8 recordings, 2 per singer: 4 same-singer pairs of 28.
    assert_eq!((v.same_pairs, v.different_pairs), (4, 24));
    assert!((0.0..=1.0).contains(&v.eer.eer), "{v:?}");
    for file in ["tsne.png", "tsne.csv", "embedding_report.json", "report.md"] {
        assert!(out.join(file).is_file(), "{file}");
    }
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("embedding_report.json")).expect("json"),
    )
    .expect("parse");
    assert_eq!(json["knn"][0]["metric"], "euclidean");
}
