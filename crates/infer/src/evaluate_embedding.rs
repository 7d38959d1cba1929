//! Scoring an embedding (a siamese network's, or any model's embedding layer) on a dataset the
//! way Lee et al. evaluate theirs ("Singer identification and singing performance embedding",
//! ICLR 2018 submission, Sec. 3.5, Figs. 4-5), with a report folder.
//!
//! Recordings are embedded as the mean of their clips' embeddings (the paper's "embedding of a
//! performance"). Then, over recordings:
//!
//! - **kNN singer accuracy**: the enrolment split's recordings (default `train`) are labelled
//!   references, each query recording (default `val`) takes the majority singer of its `k`
//!   Euclidean-nearest references ([`singerid_eval::knn`]); for k = 1, 3, 5 (those not above
//!   the number of references). The paper's Fig. 5 uses leave-one-out kNN on one set; enrolling
//!   on other songs than the queries' keeps the song effect out of the score.
//! - **Verification EER**: every pair of query recordings is a trial scored by cosine
//!   similarity, same singer or not ([`singerid_eval::verification`]).
//! - **t-SNE map** of the query recordings coloured by singer (`tsne.png`, as the paper's
//!   Fig. 4) and its coordinates (`tsne.csv`).
//!
//! Files: `<out>/embedding_report.json` (everything below, stable key order) and
//! `report.md`, `tsne.png`, `tsne.csv`.

use std::path::{Path, PathBuf};

use serde::Serialize;
use singerid_audio::Channel;
use singerid_data::{CacheOptions, Progress};
use singerid_eval::tsne::{TsneConfig, effective_perplexity, tsne};
use singerid_eval::{Eer, KnnMetric, Predictions, eer, knn_accuracy, pair_scores};

use crate::Bundle;
use crate::error::Error;
use crate::evaluate::predict_split;

/// The neighbour counts scored.
pub const KNN_KS: [usize; 3] = [1, 3, 5];

/// What to evaluate and where the report goes.
#[derive(Debug, Clone)]
pub struct EmbeddingEvalRequest {
    /// The model folder (for the report).
    pub model_dir: PathBuf,
    /// The dataset (`None`: the one the model was trained on).
    pub data: Option<PathBuf>,
    /// The enrolment split: labelled references for kNN (`train`).
    pub enrol_split: String,
    /// The query split: kNN queries, verification trials and the map (`val`).
    pub query_split: String,
    /// Override of the bundle's channel.
    pub channel: Option<Channel>,
    /// The feature cache.
    pub cache: CacheOptions,
    /// The report folder.
    pub out: PathBuf,
    /// Clips per forward pass.
    pub batch_size: usize,
    /// The command line, for the report.
    pub command: String,
}

/// One kNN score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KnnScore {
    /// Neighbours that vote.
    pub k: usize,
    /// The distance.
    pub metric: KnnMetric,
    /// Fraction of query recordings whose singer is right, in [0, 1].
    pub accuracy: f64,
}

/// The verification result over all pairs of query recordings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Verification {
    /// The equal error rate and its threshold (cosine similarity).
    pub eer: Eer,
    /// Same-singer trials.
    pub same_pairs: usize,
    /// Different-singer trials.
    pub different_pairs: usize,
}

/// The result of [`evaluate_embedding`].
#[derive(Debug, Clone, Serialize)]
pub struct EmbeddingEvaluation {
    /// The model's registry name.
    pub model: String,
    /// The model folder.
    pub model_dir: PathBuf,
    /// The model's vocal source.
    pub vocals: String,
    /// The dataset.
    pub data: PathBuf,
    /// Embedding dimension.
    pub dim: usize,
    /// The enrolment split and its size.
    pub enrol_split: String,
    /// Enrolment recordings embedded.
    pub enrol_recordings: usize,
    /// Enrolment singers.
    pub enrol_singers: usize,
    /// The query split.
    pub query_split: String,
    /// Query recordings embedded.
    pub query_recordings: usize,
    /// Query singers.
    pub query_singers: usize,
    /// Query recordings whose singer has no enrolment recording (always wrong in kNN).
    pub query_recordings_of_unenrolled_singers: usize,
    /// kNN accuracies, by k.
    pub knn: Vec<KnnScore>,
    /// Verification over query pairs; `None` when the queries lack same or different pairs.
    pub verification: Option<Verification>,
    /// The t-SNE map of the query recordings (absent below three recordings).
    pub tsne_png: Option<PathBuf>,
    /// The JSON report.
    pub report_json: PathBuf,
    /// The Markdown report.
    pub report_md: PathBuf,
    /// The command line.
    pub command: String,
}

/// Recording embeddings: singer and the mean of the recording's clip embeddings, in order of
/// first appearance, with the recording paths.
fn by_recording(predictions: &Predictions) -> (Vec<(String, Vec<f32>)>, Vec<String>) {
    predictions
        .by_recording()
        .into_iter()
        .map(|r| ((r.singer.to_owned(), r.embedding()), r.recording.to_owned()))
        .unzip()
}

/// Embeds the enrolment and query splits with `bundle` (through the feature cache and the
/// bundle's separator), scores kNN accuracy and the verification EER, draws the t-SNE map and
/// writes the report; see the module docs.
///
/// # Errors
/// As [`predict_split`] for either split; [`Error::Eval`] for a query set of fewer than two
/// recordings or non-finite embeddings; [`Error::Io`] for an unwritable report.
pub fn evaluate_embedding(
    bundle: &Bundle,
    request: &EmbeddingEvalRequest,
    progress: &dyn Progress,
) -> Result<EmbeddingEvaluation, Error> {
    let predict = |split: &str| {
        predict_split(
            bundle,
            &request.model_dir,
            request.data.as_deref(),
            Some(split),
            request.channel,
            &request.cache,
            request.batch_size,
            progress,
        )
    };
    let enrol_split = predict(&request.enrol_split)?;
    let query_split = predict(&request.query_split)?;
    let (enrol, _) = by_recording(&enrol_split.predictions);
    let (query, query_paths) = by_recording(&query_split.predictions);
    let dim = query.first().map_or(0, |(_, e)| e.len());
    fn singers(set: &[(String, Vec<f32>)]) -> std::collections::BTreeSet<&str> {
        set.iter().map(|(s, _)| s.as_str()).collect()
    }
    let (enrol_singers, query_singers) = (singers(&enrol), singers(&query));

    let knn = KNN_KS
        .iter()
        .filter(|&&k| k <= enrol.len())
        .map(|&k| {
            Ok(KnnScore {
                k,
                metric: KnnMetric::Euclidean,
                accuracy: knn_accuracy(&enrol, &query, k, KnnMetric::Euclidean)?,
            })
        })
        .collect::<Result<Vec<_>, singerid_eval::Error>>()?;
    let trials = pair_scores(&query)?;
    let same_pairs = trials.same.iter().filter(|&&s| s).count();
    let verification = match eer(&trials.scores, &trials.same) {
        Ok(eer) => Some(Verification {
            eer,
            same_pairs,
            different_pairs: trials.same.len() - same_pairs,
        }),
        Err(singerid_eval::Error::SingleClass { .. }) => {
            tracing::warn!(
                "no EER: the {} query recordings give {same_pairs} same-singer and {} \
                 different-singer pairs; both kinds are needed",
                query.len(),
                trials.same.len() - same_pairs
            );
            None
        }
        Err(e) => return Err(e.into()),
    };

    std::fs::create_dir_all(&request.out).map_err(|e| Error::Io {
        path: request.out.clone(),
        source: e,
    })?;
    let tsne_png = if query.len() >= 3 {
        let points: Vec<Vec<f32>> = query.iter().map(|(_, e)| e.clone()).collect();
        let config = TsneConfig::default();
        let map = tsne(&points, &config)?;
        let names: Vec<String> = query_singers.iter().map(|s| (*s).to_owned()).collect();
        let groups: Vec<usize> = query
            .iter()
            .map(|(s, _)| names.iter().position(|n| n == s).unwrap_or(0))
            .collect();
        let png = request.out.join("tsne.png");
        let title = format!(
            "{} embeddings of {} {} recordings (t-SNE, perplexity {:.0})",
            bundle.model.name(),
            query.len(),
            request.query_split,
            effective_perplexity(config.perplexity, query.len())
        );
        singerid_eval::plot::scatter_png(&png, &title, &map, &groups, &names)?;
        let mut csv = String::from("recording,singer,x,y\n");
        for ((path, (singer, _)), [x, y]) in query_paths.iter().zip(&query).zip(&map) {
            csv.push_str(&format!("{},{singer},{x:.6},{y:.6}\n", csv_field(path)));
        }
        write(&request.out.join("tsne.csv"), &csv)?;
        Some(png)
    } else {
        None
    };

    let evaluation = EmbeddingEvaluation {
        model: bundle.model.name().to_owned(),
        model_dir: request.model_dir.clone(),
        vocals: bundle.vocals(),
        data: query_split.data.clone(),
        dim,
        enrol_split: enrol_split.split.clone(),
        enrol_recordings: enrol.len(),
        enrol_singers: enrol_singers.len(),
        query_split: query_split.split.clone(),
        query_recordings: query.len(),
        query_singers: query_singers.len(),
        query_recordings_of_unenrolled_singers: query
            .iter()
            .filter(|(s, _)| !enrol_singers.contains(s.as_str()))
            .count(),
        knn,
        verification,
        tsne_png,
        report_json: request.out.join("embedding_report.json"),
        report_md: request.out.join("report.md"),
        command: request.command.clone(),
    };
    write_json(&evaluation.report_json, &evaluation)?;
    write(&evaluation.report_md, &markdown(&evaluation))?;
    Ok(evaluation)
}

/// `report.md`: the scores in two tables.
pub fn markdown(e: &EmbeddingEvaluation) -> String {
    let mut out = format!(
        "# Embedding evaluation: {}\n\n- model: `{}` ({}, {}-d, {})\n- data: `{}`\n- enrolment: \
         split `{}`, {} recordings of {} singers\n- queries: split `{}`, {} recordings of {} \
         singers ({} of singers never enrolled)\n- command: `{}`\n\n\
         ## kNN singer accuracy (recordings, Euclidean)\n\n| k | accuracy |\n|---|---|\n",
        e.model,
        e.model_dir.display(),
        e.model,
        e.dim,
        e.vocals,
        e.data.display(),
        e.enrol_split,
        e.enrol_recordings,
        e.enrol_singers,
        e.query_split,
        e.query_recordings,
        e.query_singers,
        e.query_recordings_of_unenrolled_singers,
        e.command
    );
    for s in &e.knn {
        out.push_str(&format!("| {} | {:.2} % |\n", s.k, 100.0 * s.accuracy));
    }
    out.push_str("\n## Verification (all pairs of query recordings, cosine)\n\n");
    match &e.verification {
        Some(v) => out.push_str(&format!(
            "EER {:.2} % at similarity {:.4} ({} same-singer, {} different-singer pairs)\n",
            100.0 * v.eer.eer,
            v.eer.threshold,
            v.same_pairs,
            v.different_pairs
        )),
        None => out.push_str("No EER: the queries lack same-singer or different-singer pairs.\n"),
    }
    if e.tsne_png.is_some() {
        out.push_str("\n![t-SNE map of the query recordings](tsne.png)\n");
    }
    out
}

/// Writes `value` as pretty JSON (a report, stable key order) atomically.
pub(crate) fn write_json(path: &Path, value: &impl Serialize) -> Result<(), Error> {
    let json = serde_json::to_string_pretty(value).map_err(|e| Error::Io {
        path: path.to_owned(),
        source: std::io::Error::other(e),
    })?;
    write(path, &(json + "\n"))
}

/// Writes a report file atomically.
pub(crate) fn write(path: &Path, text: &str) -> Result<(), Error> {
    singerid_data::atomic::write_atomic(path, text.as_bytes()).map_err(|e| Error::Io {
        path: path.to_owned(),
        source: e,
    })
}

/// A CSV field, quoted (with doubled quotes) when it holds a comma, quote or line break.
pub(crate) fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use singerid_eval::ClipPrediction;

    use super::*;

    /// Two clips of `a.wav` (embeddings (1, 0) and (3, 2)) and one of `b.wav` ((0, 1)): the
    /// recordings, in order of appearance, are `a.wav` = (2, 1) and `b.wav` = (0, 1).
    #[test]
    fn recordings_are_the_mean_of_their_clips() {
        let clip = |recording: &str, singer: &str, embedding: Vec<f32>| ClipPrediction {
            recording: recording.into(),
            song: recording.into(),
            singer: singer.into(),
            label: Some(0),
            clip_index: 0,
            start_frame: 0,
            probs: vec![1.0],
            embedding,
        };
        let predictions = Predictions {
            classes: vec!["x".into()],
            clip_frames: 10,
            seconds_per_frame: 0.1,
            clips: vec![
                clip("a.wav", "x", vec![1.0, 0.0]),
                clip("b.wav", "y", vec![0.0, 1.0]),
                clip("a.wav", "x", vec![3.0, 2.0]),
            ],
        };
        let (set, order) = by_recording(&predictions);
        assert_eq!(order, ["a.wav", "b.wav"]);
        assert_eq!(
            set,
            [
                ("x".to_owned(), vec![2.0, 1.0]),
                ("y".to_owned(), vec![0.0, 1.0])
            ]
        );
    }
}
