//! Embedding audio files: one vector per recording and per clip, from any model's embedding
//! layer (the classifiers' penultimate layer, the CRNNs' last GRU state, a siamese network's
//! output), written as a safetensors file plus a CSV index.
//!
//! The path is [`identify`](crate::identify()): audio -> [separated vocals] -> log-mel (the
//! bundle's feature config) -> every full clip -> model. A clip's embedding is
//! [`singerid_models::ModelOutput::embedding`] in inference mode; a recording's is the mean of
//! its clips' (Lee et al., "Singer identification and singing performance embedding", ICLR 2018
//! submission, Sec. 3.5: "the embedding of a performance is obtained by taking the mean of the
//! embeddings from all the chopped input samples of that performance").
//!
//! # Files
//!
//! - `<out>` (safetensors, f32): `recordings` `[n_recordings, dim]` and `clips`
//!   `[n_clips, dim]`, with string metadata `format` ([`FORMAT`]), `model` (the model folder),
//!   `model_name` (registry name), `dim`, `vocals`, `clip_frames`, `index` (the CSV's file name).
//! - `<out>` with extension `.csv`: one row per recording, then one per clip:
//!   `path,tensor,row,clip_index,start_s,end_s`, where `tensor` names the tensor and `row` the
//!   row in it; a recording row has an empty `clip_index`, `start_s` 0 and `end_s` the seconds
//!   analysed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::Dtype;
use safetensors::tensor::TensorView;
use serde::Serialize;
use singerid_data::Progress;

use crate::Bundle;
use crate::error::Error;
use crate::identify::{Failure, IdentifyOptions, identify};

/// Value of the `format` metadata of an embeddings file.
pub const FORMAT: &str = "singerid-embeddings";
/// Name of the recording-level tensor.
pub const RECORDINGS_TENSOR: &str = "recordings";
/// Name of the clip-level tensor.
pub const CLIPS_TENSOR: &str = "clips";
/// The CSV index's header.
pub const INDEX_HEADER: &str = "path,tensor,row,clip_index,start_s,end_s";

/// One recording's embedding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordingEmbedding {
    /// The file.
    pub path: PathBuf,
    /// Seconds of audio analysed.
    pub duration_s: f64,
    /// Its clips' rows in [`Embeddings::clips`]: `first_clip..first_clip + n_clips`.
    pub first_clip: usize,
    /// Number of clips.
    pub n_clips: usize,
    /// The mean of its clips' embeddings.
    #[serde(skip)]
    pub embedding: Vec<f32>,
}

/// One clip's embedding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClipEmbedding {
    /// The recording's row in [`Embeddings::recordings`].
    pub recording: usize,
    /// Clip index within the file.
    pub index: usize,
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// The model's embedding of the clip.
    #[serde(skip)]
    pub embedding: Vec<f32>,
}

/// What [`embed`] computed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Embeddings {
    /// The model's registry name.
    pub model: String,
    /// Embedding dimension.
    pub dim: usize,
    /// One per embedded file, in input order.
    pub recordings: Vec<RecordingEmbedding>,
    /// Every clip, recording after recording, in time order.
    pub clips: Vec<ClipEmbedding>,
    /// Inputs that could not be read or embedded.
    pub failures: Vec<Failure>,
}

/// Embeds every audio file named by `inputs` (files, or folders searched recursively) with
/// `bundle`; see the module docs. Per-file problems are [`Embeddings::failures`] (logged), and
/// the others go on; `progress` counts files.
///
/// # Errors
/// [`Error::Evaluation`] when the model gives an empty embedding or embeddings of different
/// lengths (a model bug: every registered model has an embedding layer).
pub fn embed(
    bundle: &Bundle,
    inputs: &[PathBuf],
    options: &IdentifyOptions,
    progress: &dyn Progress,
) -> Result<Embeddings, Error> {
    let found = identify(bundle, inputs, options, progress, &mut |_| {});
    let mut out = Embeddings {
        model: bundle.model.name().to_owned(),
        failures: found.failures,
        ..Embeddings::default()
    };
    for file in found.files {
        let row = out.recordings.len();
        let first_clip = out.clips.len();
        for clip in file.clips {
            out.clips.push(ClipEmbedding {
                recording: row,
                index: clip.index,
                start_s: clip.start_s,
                end_s: clip.end_s,
                embedding: clip.embedding,
            });
        }
        out.recordings.push(RecordingEmbedding {
            path: file.path,
            duration_s: file.duration_s,
            first_clip,
            n_clips: out.clips.len() - first_clip,
            embedding: file.embedding,
        });
    }
    out.dim = out.recordings.first().map_or(0, |r| r.embedding.len());
    let lengths = out
        .recordings
        .iter()
        .map(|r| (&r.path, r.embedding.len()))
        .chain(
            out.clips
                .iter()
                .map(|c| (&out.recordings[c.recording].path, c.embedding.len())),
        );
    for (path, len) in lengths {
        if len == 0 || len != out.dim {
            return Err(Error::Evaluation(format!(
                "{} gave an embedding of {len} values for {} (expected {}); the model has no \
                 usable embedding layer",
                out.model,
                path.display(),
                out.dim
            )));
        }
    }
    Ok(out)
}

/// The files [`write_embeddings`] wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmbeddingFiles {
    /// The safetensors file.
    pub tensors: PathBuf,
    /// The CSV index.
    pub index: PathBuf,
}

/// The CSV index beside the safetensors file `out`: `out` with the extension `.csv`.
pub fn index_path(out: &Path) -> PathBuf {
    out.with_extension("csv")
}

/// Writes `embeddings` to `out` (safetensors) and its CSV index ([`index_path`]), each
/// atomically; see the module docs for the layout. `model_dir` and `bundle` describe the model
/// in the metadata.
///
/// # Errors
/// [`Error::Evaluation`] when `out` ends in `.csv` (it would be its own index);
/// [`Error::Io`] naming the file that could not be written.
pub fn write_embeddings(
    embeddings: &Embeddings,
    bundle: &Bundle,
    model_dir: &Path,
    out: &Path,
) -> Result<EmbeddingFiles, Error> {
    let index = index_path(out);
    if index == out {
        return Err(Error::Evaluation(format!(
            "--out {} would be overwritten by its own CSV index; name the safetensors file, e.g. \
             embeddings.safetensors",
            out.display()
        )));
    }
    let dim = embeddings.dim;
    let bytes = |rows: &mut dyn Iterator<Item = &Vec<f32>>| -> Vec<u8> {
        rows.flat_map(|e| e.iter().flat_map(|v| v.to_le_bytes()))
            .collect()
    };
    let recordings = bytes(&mut embeddings.recordings.iter().map(|r| &r.embedding));
    let clips = bytes(&mut embeddings.clips.iter().map(|c| &c.embedding));
    let tensors = vec![
        (
            RECORDINGS_TENSOR,
            f32_view(&recordings, [embeddings.recordings.len(), dim], out)?,
        ),
        (
            CLIPS_TENSOR,
            f32_view(&clips, [embeddings.clips.len(), dim], out)?,
        ),
    ];
    let index_name = index
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let metadata = HashMap::from([
        ("format".to_owned(), FORMAT.to_owned()),
        ("model".to_owned(), model_dir.display().to_string()),
        ("model_name".to_owned(), embeddings.model.clone()),
        ("dim".to_owned(), dim.to_string()),
        ("vocals".to_owned(), bundle.vocals()),
        (
            "clip_frames".to_owned(),
            bundle.meta.clip_frames.to_string(),
        ),
        ("index".to_owned(), index_name),
    ]);
    let serialized = safetensors::serialize(tensors, Some(metadata))
        .map_err(|e| io_error(out, e.to_string()))?;
    singerid_data::atomic::write_atomic(out, &serialized).map_err(|e| Error::Io {
        path: out.to_owned(),
        source: e,
    })?;
    singerid_data::atomic::write_atomic(&index, index_csv(embeddings).as_bytes()).map_err(|e| {
        Error::Io {
            path: index.clone(),
            source: e,
        }
    })?;
    Ok(EmbeddingFiles {
        tensors: out.to_owned(),
        index,
    })
}

/// The CSV index: [`INDEX_HEADER`], the recording rows, then the clip rows (RFC 4180 quoting).
pub fn index_csv(embeddings: &Embeddings) -> String {
    let mut out = format!("{INDEX_HEADER}\n");
    for (row, r) in embeddings.recordings.iter().enumerate() {
        out.push_str(&format!(
            "{},{RECORDINGS_TENSOR},{row},,0.000,{:.3}\n",
            csv_field(&r.path.display().to_string()),
            r.duration_s
        ));
    }
    for (row, c) in embeddings.clips.iter().enumerate() {
        let path = &embeddings.recordings[c.recording].path;
        out.push_str(&format!(
            "{},{CLIPS_TENSOR},{row},{},{:.3},{:.3}\n",
            csv_field(&path.display().to_string()),
            c.index,
            c.start_s,
            c.end_s
        ));
    }
    out
}

/// A CSV field, quoted (with doubled quotes) when it holds a comma, quote or line break
/// (RFC 4180); `identify --format csv` writes its fields with it too.
pub fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// A `[rows, dim]` f32 view of little-endian bytes.
fn f32_view<'a>(data: &'a [u8], shape: [usize; 2], out: &Path) -> Result<TensorView<'a>, Error> {
    TensorView::new(Dtype::F32, shape.to_vec(), data).map_err(|e| io_error(out, e.to_string()))
}

fn io_error(path: &Path, message: String) -> Error {
    Error::Io {
        path: path.to_owned(),
        source: std::io::Error::other(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Embeddings {
        let clip = |recording, index: usize, embedding: Vec<f32>| ClipEmbedding {
            recording,
            index,
            start_s: index as f64 * 3.0,
            end_s: index as f64 * 3.0 + 3.0,
            embedding,
        };
        Embeddings {
            model: "m".into(),
            dim: 2,
            recordings: vec![
                RecordingEmbedding {
                    path: "a.wav".into(),
                    duration_s: 6.5,
                    first_clip: 0,
                    n_clips: 2,
                    embedding: vec![2.0, 3.0],
                },
                RecordingEmbedding {
                    path: "b,c.wav".into(),
                    duration_s: 3.2,
                    first_clip: 2,
                    n_clips: 1,
                    embedding: vec![-1.0, 0.0],
                },
            ],
            clips: vec![
                clip(0, 0, vec![1.0, 2.0]),
                clip(0, 1, vec![3.0, 4.0]),
                clip(1, 0, vec![-1.0, 0.0]),
            ],
            failures: Vec::new(),
        }
    }

    /// Recording rows first (empty clip index, 0 to the seconds analysed), then clip rows
    /// with their recording's path; a comma in a path is quoted.
    #[test]
    fn index_rows_name_tensor_and_row() {
        let text = index_csv(&sample());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                INDEX_HEADER,
                "a.wav,recordings,0,,0.000,6.500",
                "\"b,c.wav\",recordings,1,,0.000,3.200",
                "a.wav,clips,0,0,0.000,3.000",
                "a.wav,clips,1,1,3.000,6.000",
                "\"b,c.wav\",clips,2,0,0.000,3.000",
            ]
        );
    }
}
