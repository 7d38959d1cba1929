//! `singerid eval`: score a trained model on a dataset split the way the FGNL paper does
//! (frame-level and song-level accuracy, macro F1, weighted F1) and write a report folder
//! (`singerid_infer::evaluate_split` does the work; this prints it). A model trained with
//! `--objective contrastive` (or any model with `--embedding`) is scored as an embedding
//! instead: kNN singer accuracy, verification EER and a t-SNE map
//! (`singerid_infer::evaluate_embedding`). A model trained with `--objective multilabel` is
//! scored on its tags: AUC-ROC per tag, macro and micro, over clips and recordings
//! (`singerid_infer::evaluate_tagging`).

use std::num::NonZeroUsize;
use std::path::PathBuf;

use anyhow::Context;
use serde::Serialize;
use singerid_data::cache::fill::DEFAULT_LOCK_WAIT;
use singerid_infer::{EmbeddingEvalRequest, EvalOutcome, EvalRequest};
use singerid_train::Objective;

use crate::args::{
    CacheArgs, ChannelArg, DeviceArgs, GlobalArgs, ModelArgs, OutputFormat, command_line,
};
use crate::logging;

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub model: ModelArgs,

    /// The dataset: a folder of `<artist>/<album>/<song>.<ext>` or a manifest `.csv`
    /// (`path,singer[,album][,song][,split][,tags]`) [default: the dataset the model was
    /// trained on, as its folder records]. A tagging model is scored against the `tags` column.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,

    /// Which recordings to score: `test`, `val` or `train` of the model's own partition (the
    /// album, song or manifest split it was trained with, as its folder records), any other
    /// split name of the manifest's split column, or `all` [default: test when the model has a
    /// test part, else val when there is one, else all].
    #[arg(long, value_name = "NAME")]
    pub split: Option<String>,

    /// Override only the channel of the model's feature config (e.g. `right` to score a
    /// mixture-trained model on MIR-1K's vocals).
    #[arg(long, value_enum)]
    pub channel: Option<ChannelArg>,

    /// Report folder (created): report.md, report.json, predictions.csv, PNG plots (a tagging
    /// model: report.md, tagging_report.json, scores.csv).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Clips per forward pass.
    #[arg(long, value_name = "N", default_value = "32")]
    pub batch_size: NonZeroUsize,

    #[command(flatten)]
    pub cache: CacheArgs,

    #[command(flatten)]
    pub device: DeviceArgs,

    /// Score the model's embedding instead of its classes: every recording is the mean of its
    /// clips' embeddings; kNN singer accuracy (k = 1, 3, 5, Euclidean) of the --split
    /// recordings [default: val] against the model's `train` recordings, the verification EER
    /// over all pairs of --split recordings (cosine), and a t-SNE map coloured by singer
    /// (report.md, embedding_report.json, tsne.png, tsne.csv). Always on for a model trained
    /// with `--objective contrastive`.
    #[arg(long)]
    pub embedding: bool,

    /// Summary format on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// The stdout summary.
#[derive(Debug, Serialize)]
struct Summary<'a> {
    model: String,
    vocals: &'a str,
    data: String,
    split: &'a str,
    split_source: &'a str,
    recordings: usize,
    failed_recordings: usize,
    skipped_recordings: usize,
    clips: usize,
    frame: Level,
    song: Level,
    unknown_clips: usize,
    unknown_songs: usize,
    unknown_singers: Vec<&'a str>,
    /// 95 % intervals by bootstrap over songs.
    intervals: Option<&'a singerid_eval::bootstrap::Intervals>,
    report: &'a std::path::Path,
}

#[derive(Debug, Serialize)]
struct Level {
    samples: u64,
    accuracy: f64,
    macro_f1: f64,
    weighted_f1: f64,
}

impl Level {
    fn new(level: &singerid_eval::LevelScores) -> Self {
        Self {
            samples: level.n_samples,
            accuracy: level.accuracy,
            macro_f1: level.macro_f1,
            weighted_f1: level.weighted_f1,
        }
    }
}

/// Runs the command; `Ok(true)` when every recording could be scored.
///
/// # Errors
/// Fatal problems: an unreadable model or dataset, an empty split, no clip of a known singer,
/// an unwritable cache or report folder.
pub fn run(args: &EvalArgs, global: &GlobalArgs) -> anyhow::Result<bool> {
    let model = args.model.path()?;
    let bundle = singerid_infer::load_model(&model, args.device.device)
        .with_context(|| format!("loading the model {}", model.display()))?;
    let contrastive = matches!(
        Objective::of_provenance(&bundle.meta.provenance),
        Objective::Contrastive(_)
    );
    if args.embedding || contrastive {
        return run_embedding(args, global, &model, &bundle);
    }
    let request = EvalRequest {
        model_dir: model.clone(),
        data: args.data.clone(),
        split: args.split.clone(),
        channel: args.channel.map(Into::into),
        cache: args.cache.options(DEFAULT_LOCK_WAIT),
        out: args.out.clone(),
        batch_size: args.batch_size.get(),
        command: command_line(),
    };
    if singerid_infer::is_tagging_model(&bundle) {
        return run_tagging(args, global, &request, &bundle);
    }
    let progress = logging::Bar::new(global.quiet, 0);
    let outcome = singerid_infer::evaluate_split(&bundle, &request, &progress)
        .with_context(|| format!("evaluating {}", model.display()))?;
    let e = &outcome.evaluation;
    let summary = Summary {
        model: format!("{} ({})", model.display(), outcome.model),
        vocals: &outcome.vocals,
        data: outcome.counts.describe(),
        split: &outcome.counts.split,
        split_source: outcome.counts.split_source,
        recordings: outcome.counts.recordings,
        failed_recordings: outcome.counts.failed_recordings,
        skipped_recordings: outcome.counts.skipped_recordings,
        clips: outcome.predictions.clips.len(),
        frame: Level::new(&e.frame),
        song: Level::new(&e.song),
        unknown_clips: e.unknown_clips,
        unknown_songs: e.unknown_songs,
        unknown_singers: e.unknown.iter().map(|u| u.singer.as_str()).collect(),
        intervals: e.intervals.as_ref(),
        report: &outcome.report.markdown,
    };
    super::print_summary(args.format, &summary, || render_text(&summary, &outcome))?;
    Ok(outcome.counts.failed_recordings == 0 && outcome.counts.dataset_problems == 0)
}

/// `eval --embedding` (and eval of a contrastive model).
fn run_embedding(
    args: &EvalArgs,
    global: &GlobalArgs,
    model: &std::path::Path,
    bundle: &singerid_infer::Bundle,
) -> anyhow::Result<bool> {
    let request = EmbeddingEvalRequest {
        model_dir: model.to_owned(),
        data: args.data.clone(),
        enrol_split: "train".into(),
        query_split: args.split.clone().unwrap_or_else(|| "val".into()),
        channel: args.channel.map(Into::into),
        cache: args.cache.options(DEFAULT_LOCK_WAIT),
        out: args.out.clone(),
        batch_size: args.batch_size.get(),
        command: command_line(),
    };
    let progress = logging::Bar::new(global.quiet, 0);
    let e = singerid_infer::evaluate_embedding(bundle, &request, &progress)
        .with_context(|| format!("evaluating the embedding of {}", model.display()))?;
    super::print_summary(args.format, &e, || {
        let mut out = format!(
            "eval (embedding): {} ({}, {}-d, {})\n  enrol     {} recordings of {} singers \
             (split {})\n  queries   {} recordings of {} singers (split {}; {} of singers never \
             enrolled)\n",
            model.display(),
            e.model,
            e.dim,
            e.vocals,
            e.enrol_recordings,
            e.enrol_singers,
            e.enrol_split,
            e.query_recordings,
            e.query_singers,
            e.query_split,
            e.query_recordings_of_unenrolled_singers
        );
        for s in &e.knn {
            out.push_str(&format!(
                "  kNN k={}   {:>6.2} % singer accuracy\n",
                s.k,
                100.0 * s.accuracy
            ));
        }
        match &e.verification {
            Some(v) => out.push_str(&format!(
                "  EER       {:>6.2} % ({} same, {} different pairs)\n",
                100.0 * v.eer.eer,
                v.same_pairs,
                v.different_pairs
            )),
            None => out.push_str("  EER       none (the queries lack a kind of pair)\n"),
        }
        out.push_str(&format!("\n  report    {}\n", e.report_md.display()));
        out
    })?;
    Ok(true)
}

/// `eval` of a tagging model (`--objective multilabel`).
fn run_tagging(
    args: &EvalArgs,
    global: &GlobalArgs,
    request: &EvalRequest,
    bundle: &singerid_infer::Bundle,
) -> anyhow::Result<bool> {
    let progress = logging::Bar::new(global.quiet, 0);
    let e = singerid_infer::evaluate_tagging(bundle, request, &progress)
        .with_context(|| format!("evaluating the tags of {}", request.model_dir.display()))?;
    super::print_summary(args.format, &e, || render_tagging(&e))?;
    Ok(e.counts.failed_recordings == 0 && e.counts.dataset_problems == 0)
}

fn render_tagging(e: &singerid_infer::TaggingEvaluation) -> String {
    let auc = singerid_infer::evaluate_tagging::auc_cell;
    let s = &e.scores;
    let mut out = format!(
        "eval (tagging): {} ({}, {} tags, {})\n  data      {}\n\n\
         \x20 level      samples  macro AUC  (tags)  micro AUC\n",
        e.model_dir.display(),
        e.model,
        s.tags.len(),
        e.vocals,
        e.data_summary(),
    );
    for (name, level) in [("clip", &s.clip), ("recording", &s.recording)] {
        out.push_str(&format!(
            "  {name:<9} {:>8}  {:>9}  {:>2}/{:<2}  {:>9}\n",
            level.samples,
            auc(level.macro_auc),
            level.tags_scored,
            level.per_tag.len(),
            auc(level.micro_auc)
        ));
    }
    out.push_str("\n  tag                   recordings  AUC clips  AUC recordings\n");
    for (clip, recording) in s.clip.per_tag.iter().zip(&s.recording.per_tag) {
        out.push_str(&format!(
            "  {:<20} {:>11}  {:>9}  {:>14}\n",
            clip.tag,
            recording.positives,
            auc(clip.auc),
            auc(recording.auc)
        ));
    }
    if !s.unknown_tags.is_empty() {
        let listed: Vec<&str> = s.unknown_tags.iter().map(|u| u.tag.as_str()).collect();
        out.push_str(&format!(
            "\n  tags the model does not know (not scored): {}\n",
            listed.join(", ")
        ));
    }
    out.push_str(&format!("\n  report    {}\n", e.report_md.display()));
    out
}

fn render_text(s: &Summary<'_>, outcome: &EvalOutcome) -> String {
    let mut out = format!(
        "eval: {model}\n  vocals    {vocals}\n  data      {data}\n  clips     {clips}\n\n\
         \x20 level   samples  accuracy  macro F1  weighted F1\n",
        model = s.model,
        vocals = s.vocals,
        data = s.data,
        clips = s.clips,
    );
    for (name, level) in [("frame", &s.frame), ("song", &s.song)] {
        out.push_str(&format!(
            "  {name:<6} {:>8}  {:>7.2} %  {:>8.4}  {:>11.4}\n",
            level.samples,
            100.0 * level.accuracy,
            level.macro_f1,
            level.weighted_f1
        ));
    }
    if let Some(ci) = s.intervals {
        out.push_str(&format!(
            "  {:.0} % intervals (bootstrap over {} songs): frame accuracy {:.1}-{:.1} %, song \
             accuracy {:.1}-{:.1} %\n",
            100.0 * ci.level,
            ci.songs,
            100.0 * ci.frame_accuracy.low,
            100.0 * ci.frame_accuracy.high,
            100.0 * ci.song_accuracy.low,
            100.0 * ci.song_accuracy.high
        ));
    }
    let unknown = &outcome.evaluation.unknown;
    if unknown.is_empty() {
        out.push_str("\n  unknown singers: none\n");
    } else {
        out.push_str(&format!(
            "\n  unknown singers (not scored): {} clips, {} songs\n",
            s.unknown_clips, s.unknown_songs
        ));
        for u in unknown {
            out.push_str(&format!(
                "    {:<20} {} clips, {} songs\n",
                u.singer, u.clips, u.songs
            ));
        }
    }
    out.push_str(&format!("\n  report    {}\n", s.report.display()));
    out
}
