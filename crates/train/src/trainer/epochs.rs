//! The loop itself: seeded epochs of shuffled mini-batches (softmax cross-entropy, or the
//! multi-label binary cross-entropy of [`super::multilabel`]; one optimiser step per batch
//! through [`singerid_models::SingerModel::step`]), validation after every epoch, model
//! selection, early stopping and the time budget.

use std::path::Path;
use std::time::Instant;

use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use singerid_eval::vote::ClipDecision as Decision;
use singerid_eval::{ConfusionMatrix, Predictions};

use super::config::{Objective, RunSpec, TrainConfig};
use super::observer::{Control, StartInfo, StepProgress, StopReason, TrainObserver, TrainOutcome};
use super::resume::{
    close_epoch, note_no_improvement, outcome, resume_or_start, save_best, stop_before_epoch,
};
use super::run_dir::{EpochLog, prepare_run_dir, run_error};
use crate::Error;
use crate::clips::ClipSet;
use crate::predict::{mean_cross_entropy, predict, predict_tags};

/// A 64-bit mix (splitmix64's finaliser): seeds for different streams and epochs.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of one random stream (0: init, 1: dropout, 2: shuffle) of one epoch.
pub(crate) fn stream_seed(seed: u64, epoch: usize, stream: u64) -> u64 {
    mix(mix(seed) ^ mix(((epoch as u64) << 2) | stream))
}

/// Trains a model on `train_set`, validating on `val_set` after every epoch, in `run_dir`
/// (see the module docs for the folder and for resuming).
///
/// `device` is where training runs (the plain device: the trainer adds autodiff itself);
/// the caller chooses it (`singerid_infer::DeviceChoice`).
///
/// # Errors
/// - [`Error::Model`] for an invalid config (clips too short, ...).
/// - [`Error::Run`] naming the run folder for an empty training set, a validation set without
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
    if let Objective::Contrastive(siamese) = &config.objective {
        return super::siamese::train_siamese(
            run_dir, config, siamese, spec, train_set, val_set, restart, device, observer,
        );
    }
    let tagging = config.objective.is_multilabel();
    let n_classes = spec.classes.len();
    let (entry, model_config) = config.validate(n_classes)?;
    if tagging {
        super::multilabel::check_vocabulary(&spec.classes, run_dir)?;
    }
    // Softmax trains on the clips of the training singers; multi-label on every clip (one
    // without tags is a negative for every tag).
    let train_indices: Vec<usize> = (0..train_set.len())
        .filter(|&i| tagging || train_set.label(i).is_some())
        .collect();
    if train_indices.is_empty() {
        return Err(run_error(run_dir, "the training set has no labelled clip"));
    }
    // Without validation data (e.g. two songs per singer: one to train, one to test) there is
    // no model selection: every epoch is saved to `best/`, so it holds the last one, and early
    // stopping is off. The log's validation columns are NaN.
    let has_val = if tagging {
        super::multilabel::has_validation(val_set, &spec.classes)
    } else {
        (0..val_set.len()).any(|i| val_set.label(i).is_some())
    };
    for set in [train_set, val_set] {
        if set.classes() != spec.classes.as_slice() || set.clip_frames() != config.clip_frames {
            return Err(run_error(
                run_dir,
                "the clip sets were built with other classes or another clip length than the \
                 run's",
            ));
        }
        if set.has_melody() != entry.uses_melody() || spec.melody.is_some() != entry.uses_melody() {
            return Err(run_error(
                run_dir,
                format!(
                    "{} {} a melody input; the clip sets and the run must {} one (see \
                     singerid_train::melody)",
                    entry.name,
                    if entry.uses_melody() {
                        "takes"
                    } else {
                        "takes no"
                    },
                    if entry.uses_melody() {
                        "carry"
                    } else {
                        "not carry"
                    },
                ),
            ));
        }
    }

    prepare_run_dir(run_dir, config, spec, restart)?;

    let plain = device.clone();
    let device = plain.clone().autodiff();
    let (mut model, mut optim, mut state, mut log, resumed_from) =
        resume_or_start(run_dir, entry, &model_config, config, &plain, &device)?;

    let batch_size = config.batch_size;
    let steps = train_indices.len().div_ceil(batch_size);
    observer.on_start(&StartInfo {
        completed_epochs: state.epoch,
        max_epochs: config.max_epochs,
        steps_per_epoch: steps,
        elapsed_seconds: state.elapsed_seconds,
    });
    let class_weights = config
        .class_weights
        .then(|| balanced_weights(&train_set.class_counts()));
    let loss_fn = CrossEntropyLossConfig::new()
        .with_weights(class_weights)
        .init(&device);
    let mut epochs_this_call = 0;

    let stop = loop {
        if let Some(reason) = stop_before_epoch(&state, config) {
            break reason;
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

        let mut augment_rng = ChaCha8Rng::seed_from_u64(stream_seed(config.seed, epoch, 3));
        let learning_rate = state.learning_rate.unwrap_or(config.learning_rate);
        // `judged`: the clips (softmax) or (clip, tag) cells (multi-label) the accuracy counts.
        let (mut loss_sum, mut correct, mut judged, mut seen) =
            (0.0_f64, 0_usize, 0_usize, 0_usize);
        let mut interrupted = false;
        for (step, chunk) in order.chunks(batch_size).enumerate() {
            let (x, melody) = if config.augment.is_off() {
                train_set.inputs(chunk, &device)
            } else {
                train_set.batch_augmented(chunk, &config.augment, &mut augment_rng, &device)
            };
            let output = model.forward(x, melody);
            let (loss, right, cells) = if tagging {
                let logits = output.logits.clone();
                super::multilabel::batch_loss(logits, train_set, chunk, &spec.classes, &device)
            } else {
                softmax_batch_loss(&loss_fn, output.logits.clone(), train_set, chunk, &device)
            };
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
            correct += right;
            judged += cells;
            loss_sum += loss_value * chunk.len() as f64;
            seen += chunk.len();
            // The logged loss is the cross-entropy (comparable with the validation loss); the
            // step also follows the model's own weight penalty, if it has one.
            let objective = match model.regularization(&output) {
                Some(penalty) => loss + penalty,
                None => loss,
            };
            model = model.step(&mut optim, learning_rate, objective);
            let progress = StepProgress {
                epoch,
                step: step + 1,
                steps,
                loss: loss_sum / seen as f64,
                accuracy: correct as f64 / judged.max(1) as f64,
            };
            if observer.on_step(&progress) == Control::Stop {
                interrupted = true;
                break;
            }
        }
        if interrupted {
            break StopReason::Interrupted;
        }

        let (val, is_best, unknown_below) = if has_val {
            let (val, unknown_below) = if tagging {
                let predictions = predict_tags(&*model, val_set, batch_size.max(32));
                let val = super::multilabel::validation_scores(&predictions, val_set)?;
                (val, None)
            } else {
                let predictions = predict(&*model, val_set, batch_size.max(32));
                let val = validation_scores(&predictions, n_classes)?;
                (val, singerid_eval::vote::calibrate_unknown(&predictions))
            };
            let is_best = state.best_score.is_none_or(|best| val.score > best);
            (val, is_best, unknown_below)
        } else {
            (ValScores::missing(), true, None)
        };
        let mut row = EpochLog {
            epoch,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: correct as f64 / judged.max(1) as f64,
            val_loss: val.loss,
            val_accuracy: val.accuracy,
            val_macro_f1: val.macro_f1,
            val_weighted_f1: val.weighted_f1,
            val_macro_auc: val.macro_auc,
            epoch_seconds: 0.0,
            elapsed_seconds: 0.0,
            is_best,
        };
        if is_best {
            let selected_by = if !has_val {
                "last_epoch (no validation data)"
            } else if tagging {
                "val_macro_auc"
            } else {
                "val_weighted_f1"
            };
            save_best(
                run_dir,
                &*model.valid(),
                spec,
                config,
                epoch,
                selected_by,
                &row,
                unknown_below,
            )?;
            state.best_epoch = Some(epoch);
            state.best_score = has_val.then_some(val.score);
            state.epochs_without_improvement = 0;
        } else {
            note_no_improvement(&mut state, config, learning_rate);
        }
        close_epoch(
            run_dir,
            &*model,
            &optim,
            &mut state,
            config,
            epoch,
            started.elapsed().as_secs_f64(),
            &mut row,
            &mut log,
        )?;
        epochs_this_call += 1;
        if observer.on_epoch(&row) == Control::Stop {
            break StopReason::Interrupted;
        }
    };

    Ok(outcome(
        state,
        log,
        epochs_this_call,
        resumed_from,
        stop,
        run_dir,
    ))
}

/// Loss weights `n / (classes * n_c)` from the clip count of each class; a class without
/// clips gets weight 1 (it never occurs as a target).
fn balanced_weights(counts: &[usize]) -> Vec<f32> {
    let total: usize = counts.iter().sum();
    let present = counts.iter().filter(|&&c| c > 0).count().max(1);
    counts
        .iter()
        .map(|&c| {
            if c == 0 {
                1.0
            } else {
                (total as f64 / (present * c) as f64) as f32
            }
        })
        .collect()
}

/// Validation scores of one epoch (the [`EpochLog`] columns of the same names).
pub(super) struct ValScores {
    pub(super) loss: f64,
    pub(super) accuracy: f64,
    pub(super) macro_f1: f64,
    pub(super) weighted_f1: f64,
    pub(super) macro_auc: f64,
    /// The model-selection score, higher is better: the weighted F1 (softmax) or the macro
    /// AUC-ROC (multi-label).
    pub(super) score: f64,
}

impl ValScores {
    /// The scores of a run without validation data.
    fn missing() -> Self {
        Self {
            loss: f64::NAN,
            accuracy: f64::NAN,
            macro_f1: f64::NAN,
            weighted_f1: f64::NAN,
            macro_auc: f64::NAN,
            score: f64::NAN,
        }
    }
}

/// A batch's logits as a flat row-major vector, off the autodiff graph (empty when they cannot
/// be read as f32: no clip then counts as right).
pub(super) fn logit_values(logits: &Tensor<2>) -> Vec<f32> {
    logits
        .clone()
        .detach()
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap_or_default()
}

/// The softmax cross-entropy of one training batch (`chunk`: indices into `set`) with how many
/// of its clips the logits classify right and how many clips it has.
fn softmax_batch_loss(
    loss_fn: &CrossEntropyLoss,
    logits: Tensor<2>,
    set: &ClipSet,
    chunk: &[usize],
    device: &Device,
) -> (Tensor<1>, usize, usize) {
    let [_, n_classes] = logits.dims();
    let labels: Vec<i64> = chunk
        .iter()
        .map(|&i| set.label(i).map_or(0, |l| l as i64))
        .collect();
    let right = logit_values(&logits)
        .chunks(n_classes.max(1))
        .zip(&labels)
        .filter(|(row, label)| Decision::from_probs(row).is_some_and(|d| d.class as i64 == **label))
        .count();
    let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [chunk.len()]), device);
    (loss_fn.forward(logits, y), right, chunk.len())
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
        macro_auc: f64::NAN,
        score: matrix.weighted_f1(),
    })
}
