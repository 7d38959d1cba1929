//! Issue 15 item 5: `embed` with the shipped model on the MIR-1K mini fixture: one embedding
//! per recording (the mean of its clips') and per clip, the safetensors shapes, the CSV index
//! rows, and a bad file reported alone while the others go on.

use std::path::{Path, PathBuf};

use safetensors::SafeTensors;
use singerid_data::progress::Silent;
use singerid_infer::embed::{CLIPS_TENSOR, INDEX_HEADER, RECORDINGS_TENSOR, index_path};
use singerid_infer::{DeviceChoice, IdentifyOptions, embed, load_model, write_embeddings};

fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/fixtures/mir1k-mini")
        .join(relative)
}

fn f32_rows(tensors: &SafeTensors<'_>, name: &str) -> (Vec<usize>, Vec<f32>) {
    let view = tensors.tensor(name).expect(name);
    let values = view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    (view.shape().to_vec(), values)
}

#[test]
fn shipped_model_embeds_recordings_and_clips_and_skips_a_bad_file() {
    let model = singerid_infer::default_model().expect("the shipped model");
    let bundle = load_model(&model, DeviceChoice::Cpu).expect("load");
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("not-audio.wav");
    std::fs::write(&bad, b"this is not a wav file").expect("write");
    let inputs = vec![
        fixture("audio/abjones/abjones_1/abjones_1_04.mp3"),
        bad.clone(),
        fixture("audio/abjones/abjones_3/abjones_3_04.mp3"),
    ];
    let found = embed(&bundle, &inputs, &IdentifyOptions::default(), &Silent).expect("embed");

    // The bad file is a failure; the two good ones are embedded, in input order.
    assert_eq!(found.failures.len(), 1, "{:?}", found.failures);
    assert_eq!(found.failures[0].path, bad);
    assert_eq!(found.recordings.len(), 2);
    assert_eq!(found.recordings[0].path, inputs[0]);
    assert_eq!(found.recordings[1].path, inputs[2]);
    // mel_stats_linear's embedding: mean and standard deviation of each of 128 mel bins.
    assert_eq!(found.dim, 256);
    // 6.56 s at 16 kHz, hop 512: 206 frames, two full 94-frame clips per file.
    for r in &found.recordings {
        assert_eq!(r.n_clips, 2, "{}", r.path.display());
    }
    assert_eq!(found.clips.len(), 4);

    let out = dir.path().join("emb.safetensors");
    let files = write_embeddings(&found, &bundle, &model, &out).expect("write");
    assert_eq!(files.index, index_path(&out));
    let bytes = std::fs::read(&out).expect("read");
    let tensors = SafeTensors::deserialize(&bytes).expect("safetensors");
    let (shape, recordings) = f32_rows(&tensors, RECORDINGS_TENSOR);
    assert_eq!(shape, [2, 256]);
    let (shape, clips) = f32_rows(&tensors, CLIPS_TENSOR);
    assert_eq!(shape, [4, 256]);
    // A recording's row is the mean of its clips' rows.
    for (r, rec) in found.recordings.iter().enumerate() {
        for d in 0..256 {
            let mean = (rec.first_clip..rec.first_clip + rec.n_clips)
                .map(|c| clips[c * 256 + d])
                .sum::<f32>()
                / rec.n_clips as f32;
            let stored = recordings[r * 256 + d];
            assert!(
                (mean - stored).abs() <= 1e-4 * (1.0 + mean.abs()),
                "{r} {d}: {mean} vs {stored}"
            );
        }
    }
    let (_, metadata) = SafeTensors::read_metadata(&bytes).expect("metadata");
    let metadata = metadata.metadata().clone().expect("string metadata");
    assert_eq!(metadata["model_name"], "mel_stats_linear");
    assert_eq!(metadata["dim"], "256");

    let index = std::fs::read_to_string(&files.index).expect("index");
    let lines: Vec<&str> = index.lines().collect();
    assert_eq!(lines.len(), 1 + 2 + 4, "{index}");
    assert_eq!(lines[0], INDEX_HEADER);
    let first = inputs[0].display().to_string();
    assert!(lines[1].starts_with(&format!("{first},recordings,0,,0.000,")));
    assert_eq!(lines[3], format!("{first},clips,0,0,0.000,3.008"));
    assert_eq!(lines[4], format!("{first},clips,1,1,3.008,6.016"));
}
