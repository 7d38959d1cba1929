//! `singerid train`: one experiment (`singerid_train::prepare` builds it, `Prepared::run` trains
//! it), with a progress bar per epoch and a summary on stdout.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::ValueEnum;
use indicatif::ProgressBar;
use singerid_data::PartitionMode;
use singerid_data::cache::fill::DEFAULT_LOCK_WAIT;
use singerid_data::clip::LastClip;
use singerid_train::trainer::StartInfo;
use singerid_train::{
    Augment, ContrastiveForm, Control, EpochLog, ExperimentSpec, LrPlateau, Objective,
    SiameseConfig, StepProgress, TrainObserver, TrainOutcome,
};

use crate::args::{
    CacheArgs, DeviceArgs, FeatureConfigArgs, GlobalArgs, model_help, parse_json_object,
    parse_model,
};
use crate::logging;

/// Arguments of `singerid train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// The dataset: a folder holding `<artist>/<album>/<song>.<ext>`, or a manifest `.csv` with
    /// columns `path,singer[,album][,song][,split][,tags]` (paths relative to its folder; `tags`:
    /// `;`-separated, for --objective multilabel).
    #[arg(long, value_name = "ROOT|CSV")]
    pub data: PathBuf,

    /// Seed of the album or song split and of training (weights, dropout, shuffling). The same
    /// seed gives the same metrics on the same machine and thread count.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// The model to train, by registry name (`--help` lists them all).
    #[arg(long, value_name = "NAME", default_value = "crnn", value_parser = parse_model,
          long_help = model_help("The model to train"))]
    pub model: String,

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

    #[command(flatten)]
    pub device: DeviceArgs,
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

    #[command(flatten)]
    pub cache: CacheArgs,

    /// Fields of the model's config to change from its default, as a JSON object, e.g.
    /// `'{"l2": 0.0004}'` for mel_stats_linear or `'{"head_dropout": 0.5}'` for the CRNNs (the
    /// run folder's train.json shows every field).
    #[arg(long, value_name = "JSON", value_parser = parse_json_object)]
    pub model_config: Option<serde_json::Map<String, serde_json::Value>>,

    /// Adam's learning rate (constant unless --lr-plateau).
    #[arg(long, value_name = "LR", default_value_t = 1e-4)]
    pub lr: f64,

    /// Clips per training batch.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub batch_size: usize,

    /// Maximum number of epochs.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub epochs: usize,

    /// Stop after this many epochs without a better validation weighted F1 (with --objective
    /// contrastive: a lower validation contrastive loss; with --objective multilabel: a better
    /// validation macro AUC-ROC) (0: never stop early).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub patience: usize,

    /// Do not start an epoch expected to end after this many minutes of training (counted
    /// across resumes; the estimate is the mean epoch time so far).
    #[arg(long, value_name = "MINUTES")]
    pub time_budget: Option<f64>,

    /// Learning-rate plateau schedule as FACTOR,EPOCHS: multiply the rate by FACTOR after every
    /// EPOCHS epochs without a better validation weighted F1 (e.g. 0.3,3). Default: constant.
    #[arg(long, value_name = "FACTOR,EPOCHS", value_parser = parse_plateau)]
    pub lr_plateau: Option<LrPlateau>,

    /// Weight each singer's loss inversely to its number of training clips, so that rare
    /// singers count as much as frequent ones.
    #[arg(long)]
    pub class_weights: bool,

    /// Cut training clips at random frames of their recordings instead of a fixed grid (each
    /// epoch sees other windows; validation and evaluation keep the grid).
    #[arg(long)]
    pub random_offsets: bool,

    /// SpecAugment-style masks on training clips as TIME,FRAMES,FREQ,BANDS: TIME masks of up to
    /// FRAMES frames and FREQ masks of up to BANDS mel bands per clip, filled with the clip's
    /// mean (e.g. 2,10,2,16).
    #[arg(long, value_name = "TIME,FRAMES,FREQ,BANDS", value_parser = parse_masks)]
    pub spec_augment: Option<[usize; 4]>,

    /// Add N remixes of every training recording: its voice stem (right channel) over the
    /// accompaniment stem (left channel) of a random training recording of another singer, with
    /// random gains, separated like the rest with --vocals separated. Needs stereo stems such
    /// as MIR-1K's and --channel mix. The remixes are cached beside the features.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub remixes: usize,

    /// What the network learns: `softmax` classifies the training singers (cross-entropy);
    /// `contrastive` trains a siamese embedding (Lee et al., ICLR 2018 submission, Sec. 3.5):
    /// both clips of each pair go through the one network (shared weights), the model's
    /// embedding output is trained with the contrastive loss on pairs drawn half same-singer,
    /// half different-singer, from different songs wherever possible; --batch-size counts
    /// pairs, log.csv's accuracy columns are the fraction of pairs on the right side of half
    /// the margin, and best/ is the epoch of lowest validation loss. Use --model
    /// iclr_resnext_siamese --preset iclr2018 for the paper's network (16-d output); any other
    /// model trains its own embedding layer. `eval` on the result reports kNN accuracy,
    /// verification EER and a t-SNE map instead of F1.
    /// `multilabel` trains a tagger on the manifest's `tags` column (`;`-separated tags per
    /// recording; Choi et al., ICASSP 2017): the classes are the sorted tags of the training
    /// recordings, each output an independent sigmoid trained with binary cross-entropy against
    /// the clip's recording's tags (a recording without tags is a negative for every tag); best/
    /// is the epoch of highest validation macro AUC-ROC (log.csv gains a val_macro_auc column;
    /// its accuracy columns count (clip, tag) cells on the right side of 0.5). Any model works
    /// (e.g. choi_k2c2, choi_crnn, mel_stats_linear). `eval` on the result reports AUC-ROC per
    /// tag, macro and micro, over clips and recordings; `identify` refuses it.
    #[arg(long, value_enum, default_value_t = ObjectiveArg::Softmax)]
    pub objective: ObjectiveArg,

    /// With --objective contrastive: the loss's form. `squared-distance` is the paper's Eq. (5),
    /// `½ y D + ½ (1 - y) max(0, m - D)` over `D = ‖a - b‖²`; `hadsell` is Hadsell, Chopra &
    /// LeCun (2006), `½ y d² + ½ (1 - y) max(0, m - d)²` over the distance `d`.
    #[arg(long, value_enum, default_value_t = ContrastiveFormArg::SquaredDistance)]
    pub contrastive_form: ContrastiveFormArg,

    /// With --objective contrastive: the margin m beyond which different-singer pairs cost
    /// nothing (the paper: 1), in the units of D or d as the form says.
    #[arg(long, value_name = "M", default_value_t = 1.0)]
    pub margin: f64,

    /// With --objective contrastive: training pairs per epoch [default: as many as training
    /// clips].
    #[arg(long, value_name = "N")]
    pub pairs_per_epoch: Option<usize>,

    /// With --objective contrastive: validation pairs, drawn once from the seed and scored
    /// after every epoch.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub val_pairs: usize,

    #[command(flatten)]
    pub features: FeatureConfigArgs,

    /// The vocal source: `channel` uses each file's --channel as it is (the mixture, or a stem
    /// channel such as MIR-1K's right = voice); `separated` uses the voice separated from the
    /// channel mix by --separator (the separated audio is cached beside the features, and the
    /// model's bundle keeps a copy of the separator so `eval` and `identify` separate the same way).
    #[arg(long, value_enum, default_value_t = VocalsArg::Channel)]
    pub vocals: VocalsArg,

    /// With --vocals separated: the separator folder (or a `train-separator` run folder)
    /// [default: the shipped models/open_unmix-mir1k].
    #[arg(long, value_name = "DIR")]
    pub separator: Option<PathBuf>,

    /// For the models with a melody input (crnnm, crnnm_fgnl): the CREPE network whose
    /// contour feeds it, computed on the same vocal source as the log-mel with the FGNL
    /// authors' settings (32 ms step, Viterbi) and cached: `full` (the authors' choice;
    /// models/crepe-full, made once by the conversion command printed when it is missing),
    /// `tiny` (shipped), or a CREPE model folder. Ignored by other models.
    #[arg(long, value_name = "tiny|full|DIR", default_value = "full")]
    pub crepe: String,
}

/// The training objectives, for clap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ObjectiveArg {
    /// Softmax cross-entropy over the training singers.
    Softmax,
    /// A siamese embedding trained with the contrastive loss.
    Contrastive,
    /// Multi-label tagging on the manifest's `tags` column (sigmoid + binary cross-entropy).
    Multilabel,
}

/// The contrastive loss forms, for clap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ContrastiveFormArg {
    /// Lee et al. (2018) Eq. (5), over the squared distance (the paper's).
    SquaredDistance,
    /// Hadsell, Chopra & LeCun (2006), over the distance.
    Hadsell,
}

/// The vocal sources, for clap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VocalsArg {
    /// Each file's --channel.
    Channel,
    /// The voice separated from the channel mix.
    Separated,
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

impl TrainingOptions {
    /// The experiment these options describe for `data`, `model`, `clip_seconds` and `seed`.
    pub fn spec(
        &self,
        data: &std::path::Path,
        model: &str,
        clip_seconds: f64,
        seed: u64,
    ) -> anyhow::Result<ExperimentSpec> {
        let separator = match (self.vocals, &self.separator) {
            (VocalsArg::Channel, None) => None,
            (VocalsArg::Channel, Some(_)) => {
                anyhow::bail!("--separator is only used with --vocals separated")
            }
            (VocalsArg::Separated, Some(dir)) => Some(dir.clone()),
            (VocalsArg::Separated, None) => Some(singerid_infer::default_separator()?),
        };
        let crepe = if singerid_models::registry::get(model)?.uses_melody() {
            let choice = singerid_infer::CrepeChoice::from_arg(&self.crepe);
            Some(singerid_infer::melody::crepe_dir(&choice)?)
        } else {
            None
        };
        Ok(ExperimentSpec {
            data: data.to_owned(),
            split: self.split.map(PartitionMode::from),
            seed,
            model: model.to_owned(),
            model_overrides: self.model_config.clone().unwrap_or_default(),
            clip_seconds,
            last_clip: if self.drop_last_clip {
                LastClip::Drop
            } else {
                LastClip::Keep
            },
            features: self.features.resolve(),
            cache: self.cache.options(DEFAULT_LOCK_WAIT),
            learning_rate: self.lr,
            batch_size: self.batch_size,
            max_epochs: self.epochs,
            patience: self.patience,
            time_budget_seconds: self.time_budget.map(|minutes| minutes * 60.0),
            separator,
            crepe,
            augment: Augment {
                random_offsets: self.random_offsets,
                time_masks: self.spec_augment.map_or(0, |m| m[0]),
                time_mask_frames: self.spec_augment.map_or(0, |m| m[1]),
                freq_masks: self.spec_augment.map_or(0, |m| m[2]),
                freq_mask_bands: self.spec_augment.map_or(0, |m| m[3]),
            },
            class_weights: self.class_weights,
            lr_plateau: self.lr_plateau,
            objective: self.objective()?,
            remixes: self.remixes,
        })
    }
}

impl TrainingOptions {
    /// The objective the options describe.
    ///
    /// # Errors
    /// Contrastive settings given with the softmax objective, or invalid ones.
    fn objective(&self) -> anyhow::Result<Objective> {
        if self.objective != ObjectiveArg::Contrastive && self.pairs_per_epoch.is_some() {
            anyhow::bail!("--pairs-per-epoch is only used with --objective contrastive");
        }
        match self.objective {
            ObjectiveArg::Softmax => Ok(Objective::Softmax),
            ObjectiveArg::Multilabel => {
                if self.class_weights {
                    anyhow::bail!(
                        "--class-weights balances the singers of a softmax classifier; \
                         --objective multilabel has none"
                    );
                }
                Ok(Objective::Multilabel)
            }
            ObjectiveArg::Contrastive => {
                let mut siamese = SiameseConfig::paper();
                siamese.loss.margin = self.margin;
                siamese.loss.form = match self.contrastive_form {
                    ContrastiveFormArg::SquaredDistance => ContrastiveForm::SquaredDistance,
                    ContrastiveFormArg::Hadsell => ContrastiveForm::Hadsell,
                };
                siamese.pairs_per_epoch = self.pairs_per_epoch;
                siamese.val_pairs = self.val_pairs;
                siamese.validate()?;
                Ok(Objective::Contrastive(siamese))
            }
        }
    }
}

/// Parses `--lr-plateau FACTOR,EPOCHS`.
fn parse_plateau(text: &str) -> Result<LrPlateau, String> {
    let (factor, patience) = text
        .split_once(',')
        .ok_or_else(|| format!("expected FACTOR,EPOCHS such as 0.3,3, got {text:?}"))?;
    let factor: f64 = factor
        .trim()
        .parse()
        .map_err(|_| format!("the factor {factor:?} is not a number"))?;
    let patience: usize = patience
        .trim()
        .parse()
        .map_err(|_| format!("the epoch count {patience:?} is not a whole number"))?;
    if !(factor > 0.0 && factor < 1.0) || patience == 0 {
        return Err(format!(
            "the factor must be in (0, 1) and the epochs at least 1, got {factor} and {patience}"
        ));
    }
    Ok(LrPlateau { factor, patience })
}

/// Parses `--spec-augment TIME,FRAMES,FREQ,BANDS`.
fn parse_masks(text: &str) -> Result<[usize; 4], String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let numbers: Vec<usize> = parts.iter().filter_map(|p| p.parse().ok()).collect();
    match <[usize; 4]>::try_from(numbers) {
        Ok(masks) if parts.len() == 4 => Ok(masks),
        _ => Err(format!(
            "expected four whole numbers TIME,FRAMES,FREQ,BANDS such as 2,10,2,16, got {text:?}"
        )),
    }
}

/// Runs the command; `Ok(true)` when training ran (or was already complete) without problems.
///
/// # Errors
/// An unreadable dataset, an impossible split, an unusable cache, a run folder holding another
/// run, a corrupt checkpoint.
pub fn run(args: &TrainArgs, global: &GlobalArgs) -> anyhow::Result<bool> {
    let spec = args
        .options
        .spec(&args.data, &args.model, args.clip_seconds, args.seed)?;
    let progress = logging::Bar::new(global.quiet, 0);
    let prepared = singerid_train::prepare(&spec, &progress)
        .with_context(|| format!("preparing the experiment on {}", args.data.display()))?;
    if !global.quiet {
        eprintln!("{}", prepared.summary());
    }
    let device = args.device.device.device()?;
    let mut observer = CliObserver::new(global.quiet);
    let outcome = prepared.run(&args.out, args.restart, &device, &mut observer);
    observer.finish();
    print_outcome(&outcome?)?;
    Ok(prepared.problems.is_empty())
}

/// Progress bar (terminal) or one line per epoch (no terminal), nothing with `--quiet`.
pub struct CliObserver {
    bar: Option<ProgressBar>,
    quiet: bool,
    max_epochs: usize,
}

impl CliObserver {
    /// An observer printing to stderr unless `quiet`.
    pub fn new(quiet: bool) -> Self {
        Self {
            bar: None,
            quiet,
            max_epochs: 0,
        }
    }

    /// Removes the bar.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            logging::show_progress_bar(None);
        }
    }
}

fn epoch_line(row: &EpochLog, max_epochs: usize) -> String {
    if !row.val_macro_auc.is_nan() {
        return format!(
            "epoch {}/{max_epochs}: train loss {:.4} acc {:.3} | val loss {:.4} acc {:.3} macro \
             AUC {:.4}{} | {:.0} s",
            row.epoch,
            row.train_loss,
            row.train_accuracy,
            row.val_loss,
            row.val_accuracy,
            row.val_macro_auc,
            if row.is_best { " (best)" } else { "" },
            row.epoch_seconds
        );
    }
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
            self.bar = Some(logging::Bar::create(
                false,
                Some(info.steps_per_epoch as u64),
                "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} steps {msg} (eta {eta})",
            ));
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
        Some(best) if !best.val_macro_auc.is_nan() => text.push_str(&format!(
            "  best epoch        {}\n  val macro AUC     {:.4}\n  val loss          {:.4}\n  \
             model bundle      {}\n",
            best.epoch,
            best.val_macro_auc,
            best.val_loss,
            outcome.best_dir.display()
        )),
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
