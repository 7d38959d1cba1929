//! `singerid train`: fill the feature cache, partition the dataset, build the clip sets, train
//! with progress, and print a summary.
//!
//! [`prepare`] does everything up to the clip sets and [`train_prepared`] the training, so that a
//! caller (an evaluation step after training) can reuse the validation and test clips.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use singerid_audio::FeatureConfig;
use singerid_data::clip::{ClipLength, LastClip};
use singerid_data::split::Split;
use singerid_data::{Dataset, Outcome, Partition, PartitionMode, partition};
use singerid_models::ModelKind;
use singerid_train::trainer::{self, StartInfo};
use singerid_train::{
    ClipSet, Control, EpochLog, RunSpec, StepProgress, TrainConfig, TrainObserver, TrainOutcome,
};

use crate::args::{FeatureConfigArgs, GlobalArgs};
use crate::commands::features::{LockWait, fill_cache};
use crate::logging;

/// How long `train` waits for another run that is filling the same feature cache.
const CACHE_LOCK_WAIT: Duration = Duration::from_secs(30 * 60);

/// Arguments of `singerid train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// The dataset: a folder holding `<artist>/<album>/<song>.<ext>`, or a manifest `.csv` with
    /// columns `path,singer[,album][,song][,split]` (paths relative to its folder).
    #[arg(long, value_name = "ROOT|CSV")]
    pub data: PathBuf,

    /// Seed of the album or song split and of training (weights, dropout, shuffling). The same
    /// seed gives the same metrics on the same machine and thread count.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// The model to train.
    #[arg(long, value_enum, default_value_t = ModelArg::Crnn)]
    pub model: ModelArg,

    /// Clip length in seconds; at 16 kHz and hop 512, 3, 5 and 10 s are the paper's 94, 157 and
    /// 313 frames (1 + floor(seconds * sample_rate / hop)).
    #[arg(long, value_name = "SECONDS", default_value_t = 3.0)]
    pub clip_seconds: f64,

    /// The run folder: train.json, log.csv, log.jsonl, split.csv, best/ (the bundle of the best
    /// validation epoch, for `eval` and `identify`), last/ (the resumable checkpoint). Rerunning
    /// the same command resumes after the last completed epoch; a different configuration is
    /// refused unless --restart.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Delete the run folder's training files and start over.
    #[arg(long)]
    pub restart: bool,

    #[command(flatten)]
    pub options: TrainingOptions,
}

/// The data and training options shared by `train` and `reproduce`.
#[derive(Clone, Debug, clap::Args)]
pub struct TrainingOptions {
    /// How recordings are divided into train / validation / test: the manifest's `split` column,
    /// the papers' album split (one test and one validation album per singer, seeded), or a
    /// stratified song split (10 % test, 10 % of the rest validation, seeded). Songs never
    /// straddle two sides. [default: manifest when the manifest has a split column, else album]
    #[arg(long, value_enum)]
    pub split: Option<SplitArg>,

    /// Drop the last full clip of every recording, as the authors' code did (for exact
    /// reproduction; by default every full clip is used).
    #[arg(long)]
    pub drop_last_clip: bool,

    /// Feature cache folder (filled with the missing features first; shared safely between runs
    /// and with `singerid features`).
    #[arg(
        long,
        value_name = "DIR",
        env = "SINGERID_FEATURES_DIR",
        default_value = "singerid-features"
    )]
    pub cache: PathBuf,

    /// Adam's learning rate (constant).
    #[arg(long, value_name = "LR", default_value_t = 1e-4)]
    pub lr: f64,

    /// Clips per training batch.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub batch_size: usize,

    /// Maximum number of epochs.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub epochs: usize,

    /// Stop after this many epochs without a better validation weighted F1 (0: never stop early).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub patience: usize,

    /// Do not start an epoch expected to end after this many minutes of training (counted
    /// across resumes; the estimate is the mean epoch time so far).
    #[arg(long, value_name = "MINUTES")]
    pub time_budget: Option<f64>,

    #[command(flatten)]
    pub features: FeatureConfigArgs,
}

/// The partition modes, for clap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SplitArg {
    /// The manifest's `split` column (train / val / test).
    Manifest,
    /// The papers' album split.
    Album,
    /// A stratified song split.
    Song,
}

impl From<SplitArg> for PartitionMode {
    fn from(value: SplitArg) -> Self {
        match value {
            SplitArg::Manifest => Self::Manifest,
            SplitArg::Album => Self::Album,
            SplitArg::Song => Self::Song,
        }
    }
}

/// The model kinds, for clap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum ModelArg {
    /// Nasrullah & Zhao's CRNN, the baseline.
    Crnn,
    /// CRNN with the fully generalised non-local block (the FGNL paper's model).
    CrnnFgnl,
    /// The FGNL backbone without attention (the fair control).
    FgnlBackbone,
    /// The FGNL backbone with Wang et al.'s non-local block.
    CrnnNl,
    /// FGNL over the last block only.
    CrnnFgnlLight,
    /// CRNNM (not trainable here: needs a melody input singerid does not compute).
    Crnnm,
    /// CRNNM_FGNL (not trainable here: needs a melody input).
    CrnnmFgnl,
}

impl From<ModelArg> for ModelKind {
    fn from(value: ModelArg) -> Self {
        match value {
            ModelArg::Crnn => Self::Crnn,
            ModelArg::CrnnFgnl => Self::CrnnFgnl,
            ModelArg::FgnlBackbone => Self::FgnlBackbone,
            ModelArg::CrnnNl => Self::CrnnNl,
            ModelArg::CrnnFgnlLight => Self::CrnnFgnlLight,
            ModelArg::Crnnm => Self::Crnnm,
            ModelArg::CrnnmFgnl => Self::CrnnmFgnl,
        }
    }
}

/// Everything [`prepare`] builds: the data, split and clip sets of a run.
#[derive(Debug)]
pub struct Prepared {
    /// The dataset as read.
    pub dataset: Dataset,
    /// The partition of its recordings.
    pub partition: Partition,
    /// The resolved feature config.
    pub features: FeatureConfig,
    /// Class names: the sorted singers of the training part.
    pub classes: Vec<String>,
    /// Training clips.
    pub train: ClipSet,
    /// Validation clips.
    pub val: ClipSet,
    /// Test clips (empty when the split has no test part).
    pub test: ClipSet,
    /// The training config.
    pub config: TrainConfig,
    /// What `train.json` records about the data.
    pub spec: RunSpec,
    /// Recordings that could not be used (feature failures, too short), one line each.
    pub problems: Vec<String>,
}

/// Runs the command; `Ok(true)` when training ran (or was already complete) without problems.
///
/// # Errors
/// An unreadable dataset, an impossible split, an unusable cache, a run folder holding another
/// run, a corrupt checkpoint.
pub fn run(args: &TrainArgs, global: &GlobalArgs) -> anyhow::Result<bool> {
    let prepared = prepare(args, global)?;
    let outcome = train_prepared(args, global, &prepared)?;
    print_outcome(&outcome)?;
    Ok(prepared.problems.is_empty())
}

/// Reads the dataset, fills the feature cache, partitions and builds the clip sets.
///
/// # Errors
/// As [`run`], before any training.
pub fn prepare(args: &TrainArgs, global: &GlobalArgs) -> anyhow::Result<Prepared> {
    let features = args.options.features.resolve();
    features.validate()?;
    let kind = ModelKind::from(args.model);
    if kind.uses_melody() {
        bail!(
            "{kind} needs a melody input, which singerid does not compute; choose one of crnn, \
             crnn_fgnl, fgnl_backbone, crnn_nl, crnn_fgnl_light"
        );
    }
    let clip = ClipLength::from_seconds(
        args.clip_seconds,
        features.sample_rate_hz,
        features.hop_length,
    )
    .with_context(|| format!("--clip-seconds {}", args.clip_seconds))?;
    let dataset = Dataset::open(&args.data)
        .with_context(|| format!("reading the dataset {}", args.data.display()))?;
    if dataset.recordings.is_empty() {
        bail!("no usable audio files found in {}", args.data.display());
    }
    let mut problems: Vec<String> = dataset.problems.iter().map(ToString::to_string).collect();
    for problem in &dataset.problems {
        tracing::error!("{problem}");
    }
    let mode = match args.options.split {
        Some(split) => PartitionMode::from(split),
        None if dataset.recordings.iter().any(|r| r.split.is_some()) => PartitionMode::Manifest,
        None => PartitionMode::Album,
    };
    let partition = partition(&dataset, mode, args.seed).with_context(|| {
        format!(
            "dividing {} with the {} split",
            args.data.display(),
            mode.as_str()
        )
    })?;
    let mut classes: Vec<String> = partition.train.iter().map(|r| r.singer.clone()).collect();
    classes.sort();
    classes.dedup();
    if classes.is_empty() {
        bail!("the training part of the {} split is empty", mode.as_str());
    }

    let (cache, outcomes) = fill_cache(
        &dataset,
        &args.options.cache,
        &features,
        None,
        global.quiet,
        LockWait::Wait(CACHE_LOCK_WAIT),
    )?;
    for outcome in &outcomes {
        if let Outcome::Failed(err) = &outcome.outcome {
            problems.push(err.to_string());
        }
    }
    let last = if args.options.drop_last_clip {
        LastClip::Drop
    } else {
        LastClip::Keep
    };
    let frames = clip.frames();
    let build = |split: Split, problems: &mut Vec<String>| -> anyhow::Result<ClipSet> {
        let (set, more) =
            ClipSet::from_cache(partition.part(split), &cache, &classes, frames, last)?;
        for problem in &more {
            tracing::warn!("{problem}");
        }
        problems.extend(more);
        Ok(set)
    };
    let train = build(Split::Train, &mut problems)?;
    let val = build(Split::Val, &mut problems)?;
    let test = build(Split::Test, &mut problems)?;
    // Release the cache's writer lock before the long part.
    drop(cache);

    let mut config = TrainConfig::new(kind, frames);
    config.last_clip = last;
    config.learning_rate = args.options.lr;
    config.batch_size = args.options.batch_size;
    config.max_epochs = args.options.epochs;
    config.patience = args.options.patience;
    config.seed = args.seed;
    config.time_budget_seconds = args.options.time_budget.map(|minutes| minutes * 60.0);

    let count = |set: &ClipSet| json!({"recordings": set.recording_count(), "songs": set.song_count(), "clips": set.len()});
    let spec = RunSpec {
        classes: classes.clone(),
        features,
        data: json!({
            "dataset": dataset_name(&dataset),
            "split": mode.as_str(),
            "split_seed": args.seed,
            "train": count(&train),
            "val": count(&val),
            "test": count(&test),
        }),
    };
    Ok(Prepared {
        dataset,
        partition,
        features,
        classes,
        train,
        val,
        test,
        config,
        spec,
        problems,
    })
}

/// The dataset as `train.json` names it: the manifest or tree root, absolute.
fn dataset_name(dataset: &Dataset) -> String {
    match &dataset.source {
        singerid_data::DatasetSource::Manifest(path) => path.display().to_string(),
        singerid_data::DatasetSource::Tree => dataset.root.display().to_string(),
    }
}

/// Prints the data summary, writes `split.csv` and trains with progress on stderr.
///
/// # Errors
/// As [`singerid_train::train`].
pub fn train_prepared(
    args: &TrainArgs,
    global: &GlobalArgs,
    prepared: &Prepared,
) -> anyhow::Result<TrainOutcome> {
    let p = prepared;
    let mut summary = format!(
        "data: {} ({} split{}), {} classes; train {} songs / {} clips, val {} songs / {} clips, \
         test {} songs / {} clips; {} frames per clip ({} s), channel {}, model {}",
        dataset_name(&p.dataset),
        p.partition.mode.as_str(),
        if p.partition.mode == PartitionMode::Manifest {
            String::new()
        } else {
            format!(", seed {}", p.partition.seed)
        },
        p.classes.len(),
        p.train.song_count(),
        p.train.len(),
        p.val.song_count(),
        p.val.len(),
        p.test.song_count(),
        p.test.len(),
        p.config.clip_frames,
        args.clip_seconds,
        crate::args::json_name(&p.features.channel),
        p.config.model,
    );
    let unknown = p.val.unlabelled_count() + p.test.unlabelled_count();
    if unknown > 0 {
        summary.push_str(&format!(
            "; {unknown} val/test clips are of singers absent from training (not scored)"
        ));
    }
    if !p.problems.is_empty() {
        summary.push_str(&format!(
            "; {} recordings unusable (see errors above)",
            p.problems.len()
        ));
    }
    if !global.quiet {
        eprintln!("{summary}");
    }

    trainer::prepare_run_dir(&args.out, &p.config, &p.spec, args.restart)?;
    let split_path = args.out.join("split.csv");
    std::fs::write(&split_path, &p.partition.listing_csv)
        .with_context(|| format!("writing {}", split_path.display()))?;

    let mut observer = CliObserver::new(global.quiet);
    let outcome = singerid_train::train(
        &args.out,
        &p.config,
        &p.spec,
        &p.train,
        &p.val,
        false,
        &mut observer,
    );
    observer.finish();
    Ok(outcome?)
}

/// Progress bar (terminal) or one line per epoch (no terminal), nothing with `--quiet`.
struct CliObserver {
    bar: Option<ProgressBar>,
    quiet: bool,
    max_epochs: usize,
}

impl CliObserver {
    fn new(quiet: bool) -> Self {
        Self {
            bar: None,
            quiet,
            max_epochs: 0,
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            logging::show_progress_bar(None);
        }
    }
}

fn epoch_line(row: &EpochLog, max_epochs: usize) -> String {
    format!(
        "epoch {}/{max_epochs}: train loss {:.4} acc {:.3} | val loss {:.4} acc {:.3} macro F1 \
         {:.3} weighted F1 {:.3}{} | {:.0} s",
        row.epoch,
        row.train_loss,
        row.train_accuracy,
        row.val_loss,
        row.val_accuracy,
        row.val_macro_f1,
        row.val_weighted_f1,
        if row.is_best { " (best)" } else { "" },
        row.epoch_seconds
    )
}

impl TrainObserver for CliObserver {
    fn on_start(&mut self, info: &StartInfo) {
        self.max_epochs = info.max_epochs;
        if self.quiet {
            return;
        }
        if info.completed_epochs > 0 {
            eprintln!(
                "resuming after epoch {} ({:.0} s of training so far)",
                info.completed_epochs, info.elapsed_seconds
            );
        }
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(
                Some(info.steps_per_epoch as u64),
                ProgressDrawTarget::stderr(),
            );
            match ProgressStyle::with_template(
                "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} steps {msg} (eta {eta})",
            ) {
                Ok(style) => bar.set_style(style),
                Err(err) => tracing::debug!("default progress style ({err})"),
            }
            bar.enable_steady_tick(Duration::from_millis(500));
            logging::show_progress_bar(Some(bar.clone()));
            self.bar = Some(bar);
        }
    }

    fn on_step(&mut self, progress: &StepProgress) -> Control {
        if let Some(bar) = &self.bar {
            if progress.step == 1 {
                bar.reset();
                bar.set_prefix(format!("epoch {}/{}", progress.epoch, self.max_epochs));
            }
            bar.set_position(progress.step as u64);
            bar.set_message(format!(
                "loss {:.4} acc {:.3}",
                progress.loss, progress.accuracy
            ));
        }
        Control::Continue
    }

    fn on_epoch(&mut self, row: &EpochLog) -> Control {
        let line = epoch_line(row, self.max_epochs);
        match &self.bar {
            Some(bar) => bar.println(line),
            None if !self.quiet => eprintln!("{line}"),
            None => {}
        }
        Control::Continue
    }
}

/// Prints the final summary on stdout.
fn print_outcome(outcome: &TrainOutcome) -> anyhow::Result<()> {
    let mut text = format!(
        "training stopped: {} after {} epochs ({} in this run{})\n",
        outcome.stop,
        outcome.epochs,
        outcome.epochs_this_call,
        outcome
            .resumed_from
            .map_or_else(String::new, |e| format!(", resumed after epoch {e}")),
    );
    match &outcome.best {
        Some(best) => text.push_str(&format!(
            "  best epoch        {}\n  val accuracy      {:.4}\n  val macro F1      {:.4}\n  \
             val weighted F1   {:.4}\n  val loss          {:.4}\n  model bundle      {}\n",
            best.epoch,
            best.val_accuracy,
            best.val_macro_f1,
            best.val_weighted_f1,
            best.val_loss,
            outcome.best_dir.display()
        )),
        None => text.push_str("  no epoch completed; no model saved\n"),
    }
    text.push_str(&format!(
        "  run folder        {} (log.csv, train.json, split.csv)\n",
        outcome.run_dir.display()
    ));
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("writing the summary to stdout")
}
