//! The training loop: epochs of shuffled mini-batches (softmax cross-entropy, Adam), validation
//! after every epoch, early stopping on the validation weighted F1, a time budget, and a run
//! folder that survives being killed at any moment.
//!
//! # Run folder
//!
//! ```text
//! <run>/
//!   train.json      TrainConfig + classes + feature config + data description, written first
//!   log.csv         one row per completed epoch (EpochLog fields, in order)
//!   log.jsonl       the same rows as JSON lines
//!   best/           the bundle (crate::bundle) of the epoch with the best val weighted F1
//!   last/           model.bpk (burnpack: weights, batch-norm statistics, parameter ids),
//!                   optimizer.bpk (Adam moments and step counts), state.json (epoch, best
//!                   score and epoch, epochs without improvement, elapsed time, file hashes)
//! ```
//!
//! Rerunning [`train`] on the same folder resumes after the last completed epoch: `train.json`
//! must match (only `max_epochs`, `patience` and `time_budget_seconds` may change: they decide
//! when to stop, not what is computed), `last/` is verified against the blake3 hashes in its
//! `state.json` and loaded, and log rows past its epoch are dropped. A corrupt or mismatched
//! checkpoint is refused with an error naming the file; nothing is silently retrained. With
//! `restart` the folder's training files are deleted first.
//!
//! Every file is written to a temporary sibling and renamed into place; `last/` is staged as
//! `.last.new/`, the old one moved to `.last.old/` and removed after the new one is in place
//! (a kill between the two renames is repaired on the next start). An epoch's log row is
//! appended before its `last/` is written, and rows past `last/`'s epoch are dropped on resume,
//! so a kill at any point replays at most the interrupted epoch.
//!
//! # Determinism
//!
//! The model is initialised from the device RNG seeded with a function of the seed, and each
//! epoch reseeds both the device RNG (dropout) and the shuffle generator (ChaCha8) with a
//! function of `(seed, epoch)` only, so a resumed run computes exactly what an unbroken one does
//! (on CPU with the same thread count). The Adam state is restored from burn's optimizer record;
//! the model is saved in burnpack format so its parameter ids, which key that record, survive.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, OptimizerRecord};
use burn::tensor::{Device, Int, Tensor, TensorData};
use burn_store::{BurnpackStore, ModuleSnapshot};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use singerid_audio::FeatureConfig;
use singerid_data::clip::LastClip;
use singerid_eval::vote::ClipDecision as Decision;
use singerid_eval::{ConfusionMatrix, Predictions};
use singerid_models::{Model, ModelConfig, ModelError, ModelKind};

use crate::Error;
use crate::bundle::{self, BundleMeta};
use crate::clips::ClipSet;
use crate::predict::{mean_cross_entropy, predict};

/// File name of the run description.
pub const TRAIN_FILE: &str = "train.json";
/// File name of the CSV log.
pub const LOG_CSV: &str = "log.csv";
/// File name of the JSON-lines log.
pub const LOG_JSONL: &str = "log.jsonl";
/// Folder of the best epoch's bundle.
pub const BEST_DIR: &str = "best";
/// Folder of the resumable checkpoint.
pub const LAST_DIR: &str = "last";
/// Model weights inside `last/`.
pub const LAST_MODEL: &str = "model.bpk";
/// Optimizer state inside `last/`.
pub const LAST_OPTIMIZER: &str = "optimizer.bpk";
/// Training state inside `last/`.
pub const LAST_STATE: &str = "state.json";
/// Value of the `format` field of `train.json`.
pub const RUN_FORMAT: &str = "singerid-training-run";
/// Value of the `format` field of `state.json`.
pub const STATE_FORMAT: &str = "singerid-training-state";
const STAGING_DIR: &str = ".last.new";
const ASIDE_DIR: &str = ".last.old";

/// Every setting of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The model to train.
    pub model: ModelKind,
    /// Clip length in frames (94, 157, 313 for the paper's 3, 5, 10 s).
    pub clip_frames: usize,
    /// Keep or drop each recording's last full clip.
    #[serde(default)]
    pub last_clip: LastClip,
    /// Adam's learning rate (the paper: 1e-4, constant).
    pub learning_rate: f64,
    /// Clips per training batch (the paper: 16).
    pub batch_size: usize,
    /// Stop after this many epochs.
    pub max_epochs: usize,
    /// Stop after this many epochs without a better validation weighted F1 (0: never).
    pub patience: usize,
    /// Seed of the weight initialisation, dropout and shuffling.
    pub seed: u64,
    /// Do not start an epoch expected to end later than this many seconds of training.
    pub time_budget_seconds: Option<f64>,
    /// Adam's epsilon (Keras: 1e-7).
    pub adam_epsilon: f32,
}

impl TrainConfig {
    /// The paper's settings for `model` at `clip_frames`: lr 1e-4, batch 16, at most 100 epochs,
    /// patience 10, seed 0, no time budget, Keras' Adam epsilon 1e-7, every clip kept.
    pub fn new(model: ModelKind, clip_frames: usize) -> Self {
        Self {
            model,
            clip_frames,
            last_clip: LastClip::Keep,
            learning_rate: 1e-4,
            batch_size: 16,
            max_epochs: 100,
            patience: 10,
            seed: 0,
            time_budget_seconds: None,
            adam_epsilon: 1e-7,
        }
    }

    fn validate(&self, n_classes: usize) -> Result<ModelConfig, Error> {
        let invalid = |m: String| Error::Model(ModelError::InvalidConfig(m));
        if self.model.uses_melody() {
            return Err(invalid(format!(
                "{} needs a melody input, which singerid does not compute; choose a model without \
                 melody (crnn, crnn_fgnl, fgnl_backbone, crnn_nl, crnn_fgnl_light)",
                self.model
            )));
        }
        if self.batch_size == 0 {
            return Err(invalid("the batch size must be at least 1".into()));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(invalid(format!(
                "the learning rate must be positive, got {}",
                self.learning_rate
            )));
        }
        if !(self.adam_epsilon.is_finite() && self.adam_epsilon > 0.0) {
            return Err(invalid(format!(
                "Adam's epsilon must be positive, got {}",
                self.adam_epsilon
            )));
        }
        if let Some(budget) = self.time_budget_seconds
            && !(budget.is_finite() && budget > 0.0)
        {
            return Err(invalid(format!(
                "the time budget must be a positive number of seconds, got {budget}"
            )));
        }
        let model = ModelConfig::new(self.model, n_classes);
        model.validate()?;
        if self.clip_frames < model.min_frames() {
            return Err(invalid(format!(
                "clips of {} frames are shorter than the {} frames {} needs",
                self.clip_frames,
                model.min_frames(),
                self.model
            )));
        }
        Ok(model)
    }

    /// Whether `other` computes the same training (everything but when to stop is equal).
    fn same_training(&self, other: &Self) -> bool {
        let strip = |c: &Self| Self {
            max_epochs: 0,
            patience: 0,
            time_budget_seconds: None,
            ..c.clone()
        };
        strip(self) == strip(other)
    }
}

/// What the run trains on, written to `train.json` beside the [`TrainConfig`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// Class names in class-index order.
    pub classes: Vec<String>,
    /// The feature config of the clips.
    pub features: FeatureConfig,
    /// Free-form description of the data (dataset, split mode and seed, counts); part of the
    /// identity of the run: a different description is a different run.
    pub data: serde_json::Value,
}

/// The contents of `train.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RunFile {
    format: String,
    version: u32,
    config: TrainConfig,
    #[serde(flatten)]
    spec: RunSpec,
}

/// One completed epoch: a row of `log.csv` / `log.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training cross-entropy over the epoch's batches (per clip).
    pub train_loss: f64,
    /// Training clip accuracy over the epoch (training mode: dropout on).
    pub train_accuracy: f64,
    /// Validation cross-entropy (inference mode), over labelled clips. The four validation
    /// scores are NaN (`null` in JSON) in a run without validation data.
    #[serde(with = "nan_as_null")]
    pub val_loss: f64,
    /// Validation clip accuracy.
    #[serde(with = "nan_as_null")]
    pub val_accuracy: f64,
    /// Validation macro-averaged F1.
    #[serde(with = "nan_as_null")]
    pub val_macro_f1: f64,
    /// Validation support-weighted F1: the early-stopping and model-selection score.
    #[serde(with = "nan_as_null")]
    pub val_weighted_f1: f64,
    /// Wall time of this epoch (training, validation, saving), in seconds.
    pub epoch_seconds: f64,
    /// Wall time of all completed epochs so far, across resumes, in seconds.
    pub elapsed_seconds: f64,
    /// Whether this epoch improved on the best validation weighted F1 (and was saved to `best/`);
    /// without validation data, every epoch (so `best/` holds the last one).
    pub is_best: bool,
}

/// Progress within an epoch, given to [`TrainObserver::on_step`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepProgress {
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based step within the epoch.
    pub step: usize,
    /// Steps in the epoch.
    pub steps: usize,
    /// Mean training loss of the epoch so far.
    pub loss: f64,
    /// Training accuracy of the epoch so far.
    pub accuracy: f64,
}

/// How the run starts, given to [`TrainObserver::on_start`].
#[derive(Debug, Clone, PartialEq)]
pub struct StartInfo {
    /// Epochs already completed (non-zero when resuming).
    pub completed_epochs: usize,
    /// The configured maximum.
    pub max_epochs: usize,
    /// Training steps per epoch.
    pub steps_per_epoch: usize,
    /// Training seconds already spent (resumed runs).
    pub elapsed_seconds: f64,
}

/// Whether training goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop now: mid-epoch, the epoch is abandoned (the run resumes from the last completed
    /// epoch); after an epoch, nothing is lost.
    Stop,
}

/// Receives progress; the library never prints. Every method has a default that does nothing.
pub trait TrainObserver {
    /// Called once before the first epoch of this call.
    fn on_start(&mut self, _info: &StartInfo) {}
    /// Called after every training step.
    fn on_step(&mut self, _progress: &StepProgress) -> Control {
        Control::Continue
    }
    /// Called after every completed (logged and checkpointed) epoch.
    fn on_epoch(&mut self, _row: &EpochLog) -> Control {
        Control::Continue
    }
}

/// An observer that ignores everything.
impl TrainObserver for () {}

/// Why training stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// `max_epochs` epochs are done.
    MaxEpochs,
    /// `patience` epochs passed without a better validation weighted F1.
    Patience,
    /// The next epoch would have ended past the time budget.
    TimeBudget,
    /// The observer asked to stop.
    Interrupted,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::MaxEpochs => "all epochs done",
            Self::Patience => "early stopping (patience reached)",
            Self::TimeBudget => "time budget reached",
            Self::Interrupted => "interrupted",
        })
    }
}

/// What [`train`] did.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// Epochs completed in total (across resumes).
    pub epochs: usize,
    /// Epochs completed by this call.
    pub epochs_this_call: usize,
    /// The epoch that resumed from, when this call resumed.
    pub resumed_from: Option<usize>,
    /// The best epoch's log row, if any epoch completed.
    pub best: Option<EpochLog>,
    /// Why it stopped.
    pub stop: StopReason,
    /// The run folder.
    pub run_dir: PathBuf,
    /// The best bundle folder (`<run>/best`).
    pub best_dir: PathBuf,
    /// Every completed epoch's log row, in order.
    pub log: Vec<EpochLog>,
}

/// The contents of `last/state.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TrainState {
    format: String,
    version: u32,
    /// Completed epochs.
    epoch: usize,
    best_epoch: Option<usize>,
    best_score: Option<f64>,
    epochs_without_improvement: usize,
    elapsed_seconds: f64,
    /// blake3 of `model.bpk`.
    model_blake3: String,
    /// blake3 of `optimizer.bpk`.
    optimizer_blake3: String,
}

fn run_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Bundle {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn json_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Json {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// A 64-bit mix (splitmix64's finaliser): seeds for different streams and epochs.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of one random stream (0: init, 1: dropout, 2: shuffle) of one epoch.
fn stream_seed(seed: u64, epoch: usize, stream: u64) -> u64 {
    mix(mix(seed) ^ mix(((epoch as u64) << 2) | stream))
}

/// Trains a model on `train_set`, validating on `val_set` after every epoch, in `run_dir`
/// (see the module docs for the folder and for resuming).
///
/// `device` is where training runs (the plain device: the trainer adds autodiff itself);
/// the caller chooses it (`singerid_infer::DeviceChoice`).
///
/// # Errors
/// - [`Error::Model`] for an invalid config (melody models, clips too short, ...).
/// - [`Error::Bundle`] naming the run folder for an empty training set, a validation set without
///   labelled clips, or a loss that stops being finite; naming `train.json` when the folder
///   holds a different run (rerun with `restart`); naming the file of a corrupt or mismatched
///   checkpoint.
/// - [`Error::Io`], [`Error::Json`] for files that cannot be written or read.
#[allow(
    clippy::too_many_arguments,
    reason = "each input is distinct; grouping them would only rename the list"
)]
pub fn train(
    run_dir: &Path,
    config: &TrainConfig,
    spec: &RunSpec,
    train_set: &ClipSet,
    val_set: &ClipSet,
    restart: bool,
    device: &Device,
    observer: &mut dyn TrainObserver,
) -> Result<TrainOutcome, Error> {
    let n_classes = spec.classes.len();
    let model_config = config.validate(n_classes)?;
    let train_indices: Vec<usize> = (0..train_set.len())
        .filter(|&i| train_set.label(i).is_some())
        .collect();
    if train_indices.is_empty() {
        return Err(run_error(run_dir, "the training set has no labelled clip"));
    }
    // Without validation data (e.g. two songs per singer: one to train, one to test) there is
    // no model selection: every epoch is saved to `best/`, so it holds the last one, and early
    // stopping is off. The log's validation columns are NaN.
    let has_val = (0..val_set.len()).any(|i| val_set.label(i).is_some());
    for set in [train_set, val_set] {
        if set.classes() != spec.classes.as_slice() || set.clip_frames() != config.clip_frames {
            return Err(run_error(
                run_dir,
                "the clip sets were built with other classes or another clip length than the \
                 run's",
            ));
        }
    }

    prepare_run_dir(run_dir, config, spec, restart)?;

    let plain = device.clone();
    let device = plain.clone().autodiff();
    let resumed = load_last(run_dir, &model_config, config.adam_epsilon, &device)?;
    let resumed_from = resumed.as_ref().map(|(_, _, s)| s.epoch);
    let (mut model, mut optim, mut state) = match resumed {
        Some(resumed) => resumed,
        None => {
            plain.seed(stream_seed(config.seed, 0, 0));
            let model = model_config.init(&device);
            let optim = AdamConfig::new().with_epsilon(config.adam_epsilon).init();
            (model, optim, fresh_state())
        }
    };
    let mut log = read_log(run_dir)?;
    let done = resumed_from.unwrap_or(0);
    log.retain(|row| row.epoch <= done);
    if log.len() != done {
        return Err(run_error(
            &run_dir.join(LOG_JSONL),
            format!(
                "holds {} rows up to epoch {done}, but the checkpoint in {} is at epoch {done}; \
                 the log is incomplete (rerun with restart to start over)",
                log.len(),
                run_dir.join(LAST_DIR).display()
            ),
        ));
    }
    write_log(run_dir, &log)?;

    let batch_size = config.batch_size;
    let steps = train_indices.len().div_ceil(batch_size);
    observer.on_start(&StartInfo {
        completed_epochs: state.epoch,
        max_epochs: config.max_epochs,
        steps_per_epoch: steps,
        elapsed_seconds: state.elapsed_seconds,
    });
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut epochs_this_call = 0;

    let stop = loop {
        if state.epoch >= config.max_epochs {
            break StopReason::MaxEpochs;
        }
        if config.patience > 0 && state.epochs_without_improvement >= config.patience {
            break StopReason::Patience;
        }
        if let Some(budget) = config.time_budget_seconds {
            let mean = if state.epoch > 0 {
                state.elapsed_seconds / state.epoch as f64
            } else {
                0.0
            };
            if state.elapsed_seconds + mean > budget {
                break StopReason::TimeBudget;
            }
        }
        let epoch = state.epoch + 1;
        let started = Instant::now();
        plain.seed(stream_seed(config.seed, epoch, 1));
        device.seed(stream_seed(config.seed, epoch, 1));
        let mut order = train_indices.clone();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(stream_seed(
            config.seed,
            epoch,
            2,
        )));

        let (mut loss_sum, mut correct, mut seen) = (0.0_f64, 0_usize, 0_usize);
        let mut interrupted = false;
        for (step, chunk) in order.chunks(batch_size).enumerate() {
            let labels: Vec<i64> = chunk
                .iter()
                .map(|&i| train_set.label(i).map_or(0, |l| l as i64))
                .collect();
            let x = train_set.batch(chunk, &device);
            let y = Tensor::<1, Int>::from_data(
                TensorData::new(labels.clone(), [chunk.len()]),
                &device,
            );
            let output = model.forward(x, None);
            let loss = loss_fn.forward(output.logits.clone(), y);
            let loss_value = f64::from(loss.clone().into_scalar::<f32>());
            if !loss_value.is_finite() {
                return Err(run_error(
                    run_dir,
                    format!(
                        "training diverged: the loss is {loss_value} at epoch {epoch}, step {}; \
                         try a lower learning rate",
                        step + 1
                    ),
                ));
            }
            let logits = output
                .logits
                .detach()
                .into_data()
                .try_into_vec_as::<f32>()
                .unwrap_or_default();
            correct += logits
                .chunks(n_classes)
                .zip(&labels)
                .filter(|(row, label)| {
                    Decision::from_probs(row).is_some_and(|d| d.class as i64 == **label)
                })
                .count();
            loss_sum += loss_value * chunk.len() as f64;
            seen += chunk.len();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(config.learning_rate, model, grads);
            let progress = StepProgress {
                epoch,
                step: step + 1,
                steps,
                loss: loss_sum / seen as f64,
                accuracy: correct as f64 / seen as f64,
            };
            if observer.on_step(&progress) == Control::Stop {
                interrupted = true;
                break;
            }
        }
        if interrupted {
            break StopReason::Interrupted;
        }

        let (val, is_best) = if has_val {
            let predictions = predict(&model, val_set, batch_size.max(32));
            let val = validation_scores(&predictions, n_classes)?;
            let is_best = state.best_score.is_none_or(|best| val.weighted_f1 > best);
            (val, is_best)
        } else {
            (ValScores::missing(), true)
        };
        let mut row = EpochLog {
            epoch,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: correct as f64 / seen.max(1) as f64,
            val_loss: val.loss,
            val_accuracy: val.accuracy,
            val_macro_f1: val.macro_f1,
            val_weighted_f1: val.weighted_f1,
            epoch_seconds: 0.0,
            elapsed_seconds: 0.0,
            is_best,
        };
        if is_best {
            let meta = BundleMeta {
                format: bundle::FORMAT.into(),
                version: bundle::VERSION,
                classes: spec.classes.clone(),
                features: spec.features,
                clip_frames: config.clip_frames,
                last_clip: config.last_clip,
                provenance: serde_json::json!({
                    "epoch": epoch,
                    "selected_by": if has_val {
                        "val_weighted_f1"
                    } else {
                        "last_epoch (no validation data)"
                    },
                    "val": &row,
                    "train_config": config,
                    "data": &spec.data,
                }),
            };
            bundle::save(&model.valid(), &meta, &run_dir.join(BEST_DIR))?;
            state.best_epoch = Some(epoch);
            state.best_score = has_val.then_some(val.weighted_f1);
            state.epochs_without_improvement = 0;
        } else {
            state.epochs_without_improvement += 1;
        }
        let epoch_seconds = started.elapsed().as_secs_f64();
        state.epoch = epoch;
        state.elapsed_seconds += epoch_seconds;
        row.epoch_seconds = epoch_seconds;
        row.elapsed_seconds = state.elapsed_seconds;
        append_log(run_dir, &row)?;
        log.push(row.clone());
        save_last(run_dir, &model, &optim, &mut state)?;
        epochs_this_call += 1;
        if observer.on_epoch(&row) == Control::Stop {
            break StopReason::Interrupted;
        }
    };

    let best = state
        .best_epoch
        .and_then(|b| log.iter().find(|row| row.epoch == b).cloned());
    Ok(TrainOutcome {
        epochs: state.epoch,
        epochs_this_call,
        resumed_from,
        best,
        stop,
        run_dir: run_dir.to_owned(),
        best_dir: run_dir.join(BEST_DIR),
        log,
    })
}

fn fresh_state() -> TrainState {
    TrainState {
        format: STATE_FORMAT.into(),
        version: 1,
        epoch: 0,
        best_epoch: None,
        best_score: None,
        epochs_without_improvement: 0,
        elapsed_seconds: 0.0,
        model_blake3: String::new(),
        optimizer_blake3: String::new(),
    }
}

/// Validation scores of one epoch.
struct ValScores {
    loss: f64,
    accuracy: f64,
    macro_f1: f64,
    weighted_f1: f64,
}

impl ValScores {
    /// The scores of a run without validation data.
    fn missing() -> Self {
        Self {
            loss: f64::NAN,
            accuracy: f64::NAN,
            macro_f1: f64::NAN,
            weighted_f1: f64::NAN,
        }
    }
}

/// Serde for a score that may be NaN: written as `null`, read back as NaN.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
        if value.is_finite() {
            s.serialize_f64(*value)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

fn validation_scores(predictions: &Predictions, n_classes: usize) -> Result<ValScores, Error> {
    let (mut y_true, mut y_pred) = (Vec::new(), Vec::new());
    for clip in &predictions.clips {
        if let Some(label) = clip.label {
            y_true.push(label);
            // A NaN row counts as a wrong prediction.
            let predicted =
                Decision::from_probs(&clip.probs).map_or((label + 1) % n_classes, |d| d.class);
            y_pred.push(predicted);
        }
    }
    let matrix = ConfusionMatrix::from_labels(&y_true, &y_pred, n_classes)?;
    Ok(ValScores {
        loss: mean_cross_entropy(predictions).unwrap_or(f64::NAN),
        accuracy: matrix.accuracy(),
        macro_f1: matrix.macro_f1(),
        weighted_f1: matrix.weighted_f1(),
    })
}

/// Creates the run folder and writes `train.json`, or checks that the one there describes the
/// same training (see the module docs). With `restart`, the folder's training files (`train.json`,
/// logs, `split.csv`, `best/`, `last/`) are deleted first; other files are left alone.
///
/// [`train`] calls this itself; call it first to write files of your own (e.g. `split.csv`)
/// only once the folder is known to belong to this run.
///
/// # Errors
/// As [`train`]: [`Error::Bundle`] naming `train.json` for another run's folder, [`Error::Io`].
pub fn prepare_run_dir(
    run_dir: &Path,
    config: &TrainConfig,
    spec: &RunSpec,
    restart: bool,
) -> Result<(), Error> {
    std::fs::create_dir_all(run_dir).map_err(Error::io(run_dir))?;
    if restart {
        wipe(run_dir)?;
    }
    prepare_run_file(run_dir, config, spec)
}

/// Removes the training files of a run folder (leaves anything else, e.g. reports).
fn wipe(run_dir: &Path) -> Result<(), Error> {
    for name in [TRAIN_FILE, LOG_CSV, LOG_JSONL, "split.csv"] {
        let path = run_dir.join(name);
        if path.exists() {
            std::fs::remove_file(&path).map_err(Error::io(&path))?;
        }
    }
    for name in [BEST_DIR, LAST_DIR, STAGING_DIR, ASIDE_DIR] {
        let path = run_dir.join(name);
        if path.exists() {
            std::fs::remove_dir_all(&path).map_err(Error::io(&path))?;
        }
    }
    Ok(())
}

/// Writes `train.json`, or checks that the existing one describes the same training.
fn prepare_run_file(run_dir: &Path, config: &TrainConfig, spec: &RunSpec) -> Result<(), Error> {
    let path = run_dir.join(TRAIN_FILE);
    let wanted = RunFile {
        format: RUN_FORMAT.into(),
        version: 1,
        config: config.clone(),
        spec: spec.clone(),
    };
    if path.exists() {
        let text = std::fs::read_to_string(&path).map_err(Error::io(&path))?;
        let found: RunFile = serde_json::from_str(&text).map_err(|e| {
            run_error(
                &path,
                format!("cannot be read ({e}); it is not a singerid training run (use restart)"),
            )
        })?;
        let mut differences = Vec::new();
        if !found.config.same_training(config) {
            differences.push("training config");
        }
        if found.spec.classes != spec.classes {
            differences.push("classes");
        }
        if found.spec.features != spec.features {
            differences.push("feature config");
        }
        if found.spec.data != spec.data {
            differences.push("data");
        }
        if !differences.is_empty() {
            return Err(run_error(
                &path,
                format!(
                    "this folder holds another training run (different {}); use another output \
                     folder, or restart to delete it and start over",
                    differences.join(", ")
                ),
            ));
        }
    } else if run_dir.join(LAST_DIR).exists() || run_dir.join(LOG_JSONL).exists() {
        return Err(run_error(
            &path,
            "is missing but the folder holds training files; refusing to guess what they are \
             (use restart to delete them)",
        ));
    }
    let json = serde_json::to_string_pretty(&wanted).map_err(|e| json_error(&path, e))?;
    write_atomic(&path, (json + "\n").as_bytes())
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    singerid_data::atomic::write_atomic(path, bytes).map_err(Error::io(path))
}

fn read_log(run_dir: &Path) -> Result<Vec<EpochLog>, Error> {
    let path = run_dir.join(LOG_JSONL);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(&path).map_err(Error::io(&path))?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<EpochLog>(line) {
            Ok(row) => rows.push(row),
            // A torn last line (killed mid-append) is dropped; anything else is corrupt.
            Err(_) if n + 1 == text.lines().count() && !text.ends_with('\n') => {}
            Err(e) => {
                return Err(run_error(
                    &path,
                    format!("line {} is not a log row ({e})", n + 1),
                ));
            }
        }
    }
    Ok(rows)
}

const CSV_HEADER: &str = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,val_macro_f1,\
                          val_weighted_f1,epoch_seconds,elapsed_seconds,is_best";

fn csv_line(row: &EpochLog) -> String {
    format!(
        "{},{},{},{},{},{},{},{:.3},{:.3},{}\n",
        row.epoch,
        row.train_loss,
        row.train_accuracy,
        row.val_loss,
        row.val_accuracy,
        row.val_macro_f1,
        row.val_weighted_f1,
        row.epoch_seconds,
        row.elapsed_seconds,
        row.is_best
    )
}

/// Rewrites both logs atomically with `rows`.
fn write_log(run_dir: &Path, rows: &[EpochLog]) -> Result<(), Error> {
    let jsonl_path = run_dir.join(LOG_JSONL);
    let mut jsonl = String::new();
    let mut csv = format!("{CSV_HEADER}\n");
    for row in rows {
        jsonl.push_str(&serde_json::to_string(row).map_err(|e| json_error(&jsonl_path, e))?);
        jsonl.push('\n');
        csv.push_str(&csv_line(row));
    }
    write_atomic(&jsonl_path, jsonl.as_bytes())?;
    write_atomic(&run_dir.join(LOG_CSV), csv.as_bytes())
}

/// Appends one row to both logs (the CSV header is written by [`write_log`]).
fn append_log(run_dir: &Path, row: &EpochLog) -> Result<(), Error> {
    let jsonl_path = run_dir.join(LOG_JSONL);
    let line = serde_json::to_string(row).map_err(|e| json_error(&jsonl_path, e))? + "\n";
    for (path, text) in [(jsonl_path, line), (run_dir.join(LOG_CSV), csv_line(row))] {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .map_err(Error::io(&path))?;
        file.write_all(text.as_bytes()).map_err(Error::io(&path))?;
        file.sync_all().map_err(Error::io(&path))?;
    }
    Ok(())
}

fn hash_file(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(Error::io(path))?;
    Ok(blake3::hash(&bytes).to_hex().to_string())
}

fn sync_file(path: &Path) -> Result<(), Error> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(Error::io(path))
}

/// Writes `last/` (model, optimizer, state) through a staging folder.
fn save_last(
    run_dir: &Path,
    model: &Model,
    optim: &ModuleOptimizer,
    state: &mut TrainState,
) -> Result<(), Error> {
    let staging = run_dir.join(STAGING_DIR);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(Error::io(&staging))?;
    }
    std::fs::create_dir_all(&staging).map_err(Error::io(&staging))?;
    let model_path = staging.join(LAST_MODEL);
    let mut store = BurnpackStore::from_file(&model_path).overwrite(true);
    model
        .save_into(&mut store)
        .map_err(|e| run_error(&model_path, format!("cannot be written: {e}")))?;
    let optim_path = staging.join(LAST_OPTIMIZER);
    optim
        .to_record()
        .save(&optim_path)
        .map_err(|e| run_error(&optim_path, format!("cannot be written: {e}")))?;
    for path in [&model_path, &optim_path] {
        sync_file(path)?;
    }
    state.model_blake3 = hash_file(&model_path)?;
    state.optimizer_blake3 = hash_file(&optim_path)?;
    let state_path = staging.join(LAST_STATE);
    let json = serde_json::to_string_pretty(state).map_err(|e| json_error(&state_path, e))?;
    write_atomic(&state_path, (json + "\n").as_bytes())?;

    let last = run_dir.join(LAST_DIR);
    singerid_data::atomic::replace_dir(&staging, &last, &run_dir.join(ASIDE_DIR))
        .map_err(Error::io(&last))
}

type Resumed = (Model, ModuleOptimizer, TrainState);

/// Loads `last/` when there is one, checking every file.
fn load_last(
    run_dir: &Path,
    model_config: &ModelConfig,
    adam_epsilon: f32,
    device: &Device,
) -> Result<Option<Resumed>, Error> {
    let last = run_dir.join(LAST_DIR);
    let aside = run_dir.join(ASIDE_DIR);
    let staging = run_dir.join(STAGING_DIR);
    // A kill between moving the old `last/` aside and renaming the new one in: the new one is
    // complete only if its state file exists, since that is written last.
    if !last.exists() && aside.exists() {
        let from = if staging.join(LAST_STATE).exists() {
            &staging
        } else {
            &aside
        };
        std::fs::rename(from, &last).map_err(Error::io(&last))?;
    }
    for leftover in [&staging, &aside] {
        if leftover.exists() {
            std::fs::remove_dir_all(leftover).map_err(Error::io(leftover))?;
        }
    }
    if !last.exists() {
        return Ok(None);
    }
    let refuse = |path: &Path, what: String| {
        run_error(
            path,
            format!(
                "{what}; the checkpoint is corrupt or from another run. Refusing to resume: \
                 delete {} (or restart) to train from scratch",
                run_dir.display()
            ),
        )
    };
    let state_path = last.join(LAST_STATE);
    let text = std::fs::read_to_string(&state_path)
        .map_err(|e| refuse(&state_path, format!("cannot be read ({e})")))?;
    let state: TrainState = serde_json::from_str(&text)
        .map_err(|e| refuse(&state_path, format!("is not a training state ({e})")))?;
    if state.format != STATE_FORMAT || state.version != 1 {
        return Err(refuse(
            &state_path,
            format!("has format {:?} version {}", state.format, state.version),
        ));
    }
    let model_path = last.join(LAST_MODEL);
    let optim_path = last.join(LAST_OPTIMIZER);
    for (path, expected) in [
        (&model_path, &state.model_blake3),
        (&optim_path, &state.optimizer_blake3),
    ] {
        let found = hash_file(path).map_err(|e| refuse(path, format!("cannot be read ({e})")))?;
        if &found != expected {
            return Err(refuse(
                path,
                format!("does not match the blake3 hash in {}", state_path.display()),
            ));
        }
    }
    let mut model = model_config.try_init(device)?;
    let mut store = BurnpackStore::from_file(&model_path);
    let applied = model
        .load_from(&mut store)
        .map_err(|e| refuse(&model_path, format!("cannot be loaded ({e})")))?;
    if !applied.missing.is_empty() || !applied.unused.is_empty() || !applied.errors.is_empty() {
        return Err(refuse(
            &model_path,
            format!(
                "does not fit a {} model with {} classes (missing: {:?}, unused: {:?}, errors: {})",
                model_config.kind,
                model_config.n_classes,
                applied.missing.iter().map(|m| &m.0).collect::<Vec<_>>(),
                applied.unused,
                applied.errors.len()
            ),
        ));
    }
    let record = OptimizerRecord::load(&optim_path)
        .map_err(|e| refuse(&optim_path, format!("cannot be loaded ({e})")))?;
    if record.is_empty() && state.epoch > 0 {
        return Err(refuse(&optim_path, "holds no optimizer state".into()));
    }
    // The loaded model carries the saved parameter ids, so the record's states apply to it.
    let optim = AdamConfig::new()
        .with_epsilon(adam_epsilon)
        .init()
        .load_record(record);
    Ok(Some((model, optim, state)))
}
