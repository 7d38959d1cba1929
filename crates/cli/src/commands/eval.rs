//! `singerid eval`: score a trained model on a dataset split the way the FGNL paper does
//! (frame-level and song-level accuracy, macro F1, weighted F1) and write a report folder.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use burn::tensor::Device;
use clap::ValueEnum;
use serde::Serialize;
use singerid_data::{Dataset, Outcome, Recording, Split};
use singerid_train::clips::ClipSet;
use singerid_train::predict::predict;
use singerid_train::{Evaluation, RunInfo, bundle, evaluate, write_report};

use crate::args::{ChannelArg, GlobalArgs, OutputFormat, json_name};
use crate::commands::features::{LockWait, fill_cache};

/// How long to wait for another run that is filling the same feature cache.
const CACHE_LOCK_WAIT: Duration = Duration::from_secs(30 * 60);

/// Which recordings to evaluate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SplitArg {
    /// The manifest's `train` rows.
    Train,
    /// The manifest's `val` rows.
    Val,
    /// The manifest's `test` rows.
    Test,
    /// Every recording.
    All,
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// The trained-model bundle folder (`model.safetensors`, `config.json`, `singerid.json`).
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,

    /// The dataset: a folder of `<artist>/<album>/<song>.<ext>` or a manifest `.csv`
    /// (`path,singer[,album][,song][,split]`).
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,

    /// Which recordings to score, by the manifest's split column [default: val when the
    /// manifest has a split column, else all].
    #[arg(long, value_enum)]
    pub split: Option<SplitArg>,

    /// Feature cache folder; features missing from it are computed and stored.
    #[arg(
        long,
        value_name = "DIR",
        env = "SINGERID_FEATURES_DIR",
        default_value = "singerid-features"
    )]
    pub cache: PathBuf,

    /// Override only the channel of the bundle's feature config (e.g. `right` to score a
    /// mixture-trained model on MIR-1K's vocals).
    #[arg(long, value_enum)]
    pub channel: Option<ChannelArg>,

    /// Report folder (created): report.md, report.json, predictions.csv, PNG plots.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Clips per forward pass.
    #[arg(long, value_name = "N", default_value = "32")]
    pub batch_size: NonZeroUsize,

    /// Worker threads for feature extraction [default: one per CPU core].
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<NonZeroUsize>,

    /// Summary format on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// The stdout summary.
#[derive(Debug, Serialize)]
struct Summary<'a> {
    model: String,
    data: String,
    split: &'static str,
    recordings: usize,
    failed_recordings: usize,
    skipped_recordings: usize,
    clips: usize,
    frame: Level,
    song: Level,
    unknown_clips: usize,
    unknown_songs: usize,
    unknown_singers: Vec<&'a str>,
    report: PathBuf,
}

#[derive(Debug, Serialize)]
struct Level {
    samples: u64,
    accuracy: f64,
    macro_f1: f64,
    weighted_f1: f64,
}

impl Level {
    fn new(level: &singerid_train::LevelScores) -> Self {
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
/// Fatal problems: an unreadable bundle or dataset, an empty split, no clip of a known singer,
/// an unwritable cache or report folder.
pub fn run(args: &EvalArgs, global: &GlobalArgs) -> anyhow::Result<bool> {
    let device = Device::default();
    let bundle = bundle::load(&args.model, &device)
        .with_context(|| format!("loading the model bundle {}", args.model.display()))?;
    let meta = &bundle.meta;
    if bundle.model.config().kind.uses_melody() {
        bail!(
            "{} is a {} model, which needs a melody input; eval supports mel-only models",
            args.model.display(),
            bundle.model.config().kind
        );
    }
    let mut config = meta.features;
    if let Some(channel) = args.channel {
        config.channel = channel.into();
    }
    config.validate()?;

    let dataset = Dataset::open(&args.data)
        .with_context(|| format!("reading the dataset {}", args.data.display()))?;
    for problem in &dataset.problems {
        tracing::error!("{problem}");
    }
    let has_split = dataset.recordings.iter().any(|r| r.split.is_some());
    let split = args.split.unwrap_or(if has_split {
        SplitArg::Val
    } else {
        SplitArg::All
    });
    let recordings: Vec<Recording> = match split_filter(split) {
        None => dataset.recordings.clone(),
        Some(wanted) => {
            if !has_split {
                bail!(
                    "{} has no split column; use --split all (or a manifest with a split column)",
                    args.data.display()
                );
            }
            dataset
                .recordings
                .iter()
                .filter(|r| r.split_role() == Some(wanted))
                .cloned()
                .collect()
        }
    };
    if recordings.is_empty() {
        bail!(
            "no recordings in split `{}` of {}",
            split_name(split),
            args.data.display()
        );
    }
    tracing::info!(
        recordings = recordings.len(),
        split = split_name(split),
        "evaluating"
    );

    // Fill the cache for these recordings (cached ones are only looked up).
    let subset = Dataset {
        root: dataset.root.clone(),
        source: dataset.source.clone(),
        recordings: recordings.clone(),
        problems: Vec::new(),
    };
    let (cache, outcomes) = fill_cache(
        &subset,
        &args.cache,
        &config,
        args.jobs,
        global.quiet,
        LockWait::Wait(CACHE_LOCK_WAIT),
    )?;
    let failed: std::collections::BTreeSet<PathBuf> = outcomes
        .iter()
        .filter(|o| matches!(o.outcome, Outcome::Failed(_)))
        .map(|o| o.path.clone())
        .collect();
    let usable: Vec<Recording> = recordings
        .iter()
        .filter(|r| !failed.contains(&r.path))
        .cloned()
        .collect();

    let (set, skipped) = ClipSet::from_cache(
        &usable,
        &cache,
        &meta.classes,
        meta.clip_frames,
        meta.last_clip,
    )
    .with_context(|| format!("slicing clips from {}", args.cache.display()))?;
    for message in &skipped {
        tracing::warn!("{message}");
    }
    let predictions = predict(&bundle.model, &set, args.batch_size.get());
    if predictions.clips.is_empty() {
        bail!(
            "no clips to evaluate: every recording of split `{}` failed or is shorter than one \
             clip ({} frames)",
            split_name(split),
            meta.clip_frames
        );
    }
    let evaluation = match evaluate(&predictions) {
        Err(singerid_train::Error::NoSamples) => {
            let singers: std::collections::BTreeSet<&str> = predictions
                .clips
                .iter()
                .map(|c| c.singer.as_str())
                .collect();
            bail!(
                "none of the {} clips belongs to a singer the model knows (found: {}; the model \
                 knows: {})",
                predictions.clips.len(),
                singers.into_iter().collect::<Vec<_>>().join(", "),
                meta.classes.join(", ")
            );
        }
        other => other.context("scoring the predictions")?,
    };

    let model_name = bundle.model.config().kind.name().to_owned();
    let data = format!(
        "{}, split {} ({} recordings, {} failed, {} without a full clip)",
        args.data.display(),
        split_name(split),
        recordings.len(),
        failed.len(),
        skipped.len()
    );
    let mut notes = Vec::new();
    if config.channel != meta.features.channel {
        notes.push(format!(
            "Channel overridden: the model was trained on `{}`, evaluated on `{}`.",
            json_name(&meta.features.channel),
            json_name(&config.channel)
        ));
    }
    let info = RunInfo {
        model: model_name.clone(),
        params: bundle.model.num_params(),
        features: config,
        clip_frames: meta.clip_frames,
        last_clip: meta.last_clip,
        data: data.clone(),
        checkpoint: Some(args.model.clone()),
        command: command_line(),
        notes,
        learning_curve: None,
    };
    let files = write_report(&args.out, &evaluation, &predictions, &info)
        .with_context(|| format!("writing the report to {}", args.out.display()))?;

    let summary = Summary {
        model: format!("{} ({})", args.model.display(), model_name),
        data,
        split: split_name(split),
        recordings: recordings.len(),
        failed_recordings: failed.len(),
        skipped_recordings: skipped.len(),
        clips: predictions.clips.len(),
        frame: Level::new(&evaluation.frame),
        song: Level::new(&evaluation.song),
        unknown_clips: evaluation.unknown_clips,
        unknown_songs: evaluation.unknown_songs,
        unknown_singers: evaluation
            .unknown
            .iter()
            .map(|u| u.singer.as_str())
            .collect(),
        report: files.markdown.clone(),
    };
    super::print_summary(args.format, &summary, || render_text(&summary, &evaluation))?;
    Ok(failed.is_empty() && dataset.problems.is_empty())
}

fn split_filter(split: SplitArg) -> Option<Split> {
    match split {
        SplitArg::Train => Some(Split::Train),
        SplitArg::Val => Some(Split::Val),
        SplitArg::Test => Some(Split::Test),
        SplitArg::All => None,
    }
}

fn split_name(split: SplitArg) -> &'static str {
    match split {
        SplitArg::Train => "train",
        SplitArg::Val => "val",
        SplitArg::Test => "test",
        SplitArg::All => "all",
    }
}

/// The command line as typed (arguments quoted when they hold spaces).
pub fn command_line() -> String {
    std::env::args()
        .map(|a| {
            if a.contains(char::is_whitespace) {
                format!("'{a}'")
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn render_text(s: &Summary<'_>, eval: &Evaluation) -> String {
    let mut out = format!(
        "eval: {model}\n  data      {data}\n  clips     {clips}\n\n\
         \x20 level   samples  accuracy  macro F1  weighted F1\n",
        model = s.model,
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
    if eval.unknown.is_empty() {
        out.push_str("\n  unknown singers: none\n");
    } else {
        out.push_str(&format!(
            "\n  unknown singers (not scored): {} clips, {} songs\n",
            s.unknown_clips, s.unknown_songs
        ));
        for u in &eval.unknown {
            out.push_str(&format!(
                "    {:<20} {} clips, {} songs\n",
                u.singer, u.clips, u.songs
            ));
        }
    }
    out.push_str(&format!("\n  report    {}\n", s.report.display()));
    out
}
