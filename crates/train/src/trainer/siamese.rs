//! The siamese training mode ([`Objective::Contrastive`](super::Objective)): one network
//! embeds both clips of each pair (shared weights), and the contrastive loss pulls same-singer
//! pairs together and pushes different-singer pairs a margin apart.
//!
//! Lee, Rafii, Stoller and Bello, "Singer identification and singing performance embedding"
//! (ICLR 2018 submission), Sec. 3.5: "a copy of the network is used to construct a siamese
//! architecture"; pairs "from the same singer or different ones are randomly sampled in a 1 : 1
//! ratio"; Eq. (4) `D = ‖G(x₁) - G(x₂)‖₂²`, Eq. (5) `L = ½ y D + ½ (1 - y) max(0, m - D)`,
//! `m = 1`; 16-d embeddings; Adam, learning rate 1e-4, batch 32; early stopping on the
//! validation loss. The loss is [`crate::objective::contrastive`] (Hadsell, Chopra & LeCun
//! 2006's form is the other [`ContrastiveForm`]), the pairs [`crate::pairs::PairSampler`]
//! (balanced, song-disjoint).
//!
//! **Shared weights.** The two members of every pair of a batch go through the network as one
//! batch of `2 × pairs` clips (all first members, then all second members), so there is one
//! set of weights by construction and batch-norm sees both members; the embedding rows are then
//! split back into the two halves. This is the same function as two tied copies.
//!
//! **Everything else is the classifier's run** ([`super::train`]): the run folder, `train.json`
//! (the objective is part of [`TrainConfig`]), `log.csv`, the resumable `last/`, the `best/`
//! bundle, the time budget and the observer. The log's columns mean, for this mode:
//! `train_loss` / `val_loss` the mean contrastive loss over the epoch's training pairs / the
//! fixed validation pairs, `train_accuracy` / `val_accuracy` the fraction of pairs on the right
//! side of half the margin (a pair is called "same" when its distance, in the loss's units: `d`
//! for Hadsell, `D` for the squared form, is below `m / 2`), and the two F1 columns are NaN.
//! The epoch with the lowest validation loss is `best/` (the paper's criterion); without
//! validation pairs every epoch is saved. The bundle's classes are the training singers and
//! its class output is untrained: use it through `embed`, the embedding evaluation
//! (`singerid eval` on a contrastive model) or the library, not `identify`.

use std::path::Path;
use std::time::Instant;

use burn::tensor::{Bool, Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::config::{RunSpec, TrainConfig};
use super::epochs::stream_seed;
use super::observer::{Control, StartInfo, StepProgress, StopReason, TrainObserver, TrainOutcome};
use super::resume::{
    close_epoch, note_no_improvement, outcome, resume_or_start, save_best, stop_before_epoch,
};
use super::run_dir::{EpochLog, prepare_run_dir, run_error};
use crate::Error;
use crate::clips::ClipSet;
use crate::objective::{ContrastiveForm, ContrastiveLoss, ContrastiveLossConfig};
use crate::pairs::{ClipPair, PairSampler};
use crate::predict::predict;
use singerid_models::{ModelError, SingerModel};

/// The settings of a siamese run beyond [`TrainConfig`]'s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiameseConfig {
    /// The contrastive loss: form and margin (the paper: [`ContrastiveForm::SquaredDistance`],
    /// `m = 1`; see [`SiameseConfig::paper`]).
    pub loss: ContrastiveLossConfig,
    /// Training pairs drawn per epoch (half same, half different); `None`: as many as there
    /// are labelled training clips.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairs_per_epoch: Option<usize>,
    /// Validation pairs, drawn once from the seed and scored after every epoch (default 1024).
    pub val_pairs: usize,
}

impl SiameseConfig {
    /// Lee et al. (2018), Sec. 3.5: Eq. (5) (the squared-distance form) with margin 1; pairs
    /// per epoch as many as training clips; 1024 validation pairs.
    pub fn paper() -> Self {
        Self {
            loss: ContrastiveLossConfig::new()
                .with_form(ContrastiveForm::SquaredDistance)
                .with_margin(1.0),
            pairs_per_epoch: None,
            val_pairs: 1024,
        }
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::Model`] with [`ModelError::InvalidConfig`] naming the field.
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |m: String| Err(Error::Model(ModelError::InvalidConfig(m)));
        if !(self.loss.margin.is_finite() && self.loss.margin > 0.0) {
            return invalid(format!(
                "the contrastive margin must be positive, got {}",
                self.loss.margin
            ));
        }
        if self.pairs_per_epoch == Some(0) || self.val_pairs == 0 {
            return invalid("pairs per epoch and validation pairs must be at least 1".into());
        }
        Ok(())
    }
}

/// Labelled clips of a set as `(set index, (singer, song))`, the [`PairSampler`]'s input.
fn labelled(set: &ClipSet) -> (Vec<usize>, Vec<(String, String)>) {
    (0..set.len())
        .filter(|&i| set.label(i).is_some())
        .map(|i| {
            let key = (
                set.singer(i).unwrap_or_default().to_owned(),
                set.song(i).unwrap_or_default().to_owned(),
            );
            (i, key)
        })
        .unzip()
}

/// How many pairs have their distance on the right side of `m / 2` (see the module docs).
///
/// `squared[i]` is pair `i`'s `D = ‖a - b‖²`.
pub fn pairs_right(squared: &[f32], same: &[bool], loss: &ContrastiveLossConfig) -> usize {
    let threshold = loss.margin / 2.0;
    squared
        .iter()
        .zip(same)
        .filter(|(d2, same)| {
            let distance = match loss.form {
                ContrastiveForm::Hadsell => f64::from(**d2).max(0.0).sqrt(),
                ContrastiveForm::SquaredDistance => f64::from(**d2),
            };
            (distance < threshold) == **same
        })
        .count()
}

/// One optimiser step of the siamese network on `pairs` of clips of `set` (indices into
/// `set`): both members through the one network, the contrastive loss (plus the model's own
/// weight penalty, if any), backward, Adam. Returns the model, the batch's mean contrastive loss
/// and how many pairs were on the right side of half the margin before the step.
///
/// `device` must be an autodiff device (the model's).
///
/// # Errors
/// [`Error::Run`] (naming `what`) when the loss is not finite.
#[allow(
    clippy::too_many_arguments,
    reason = "the pieces of one step; a struct would only rename them"
)]
pub fn siamese_step(
    model: Box<dyn SingerModel>,
    optim: &mut burn::optim::ModuleOptimizer,
    loss_fn: &ContrastiveLoss,
    loss_config: &ContrastiveLossConfig,
    set: &ClipSet,
    pairs: &[(usize, usize, bool)],
    learning_rate: f64,
    device: &Device,
    what: &Path,
) -> Result<(Box<dyn SingerModel>, f64, usize), Error> {
    let n = pairs.len();
    let indices: Vec<usize> = pairs
        .iter()
        .map(|p| p.0)
        .chain(pairs.iter().map(|p| p.1))
        .collect();
    let same: Vec<bool> = pairs.iter().map(|p| p.2).collect();
    let x = set.batch(&indices, device); // [2n, 1, mels, frames]: first members, then second
    let output = model.forward(x, None);
    let [_, dim] = output.embedding.dims();
    let first = output.embedding.clone().narrow(0, 0, n); // [n, dim]
    let second = output.embedding.clone().narrow(0, n, n); // [n, dim]
    let squared: Vec<f32> = (first.clone().detach() - second.clone().detach())
        .square()
        .sum_dim(1)
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap_or_else(|_| vec![f32::NAN; n]);
    let right = pairs_right(&squared, &same, loss_config);
    let same_t = Tensor::<1, Bool>::from_bool(TensorData::new(same, [n]), device);
    let loss = loss_fn.forward(first, second, same_t);
    let value = f64::from(loss.clone().into_scalar::<f32>());
    if !value.is_finite() {
        return Err(run_error(
            what,
            format!(
                "training diverged: the contrastive loss is {value} ({dim}-d embeddings); try a \
                 lower learning rate"
            ),
        ));
    }
    let objective = match model.regularization(&output) {
        Some(penalty) => loss + penalty,
        None => loss,
    };
    Ok((model.step(optim, learning_rate, objective), value, right))
}

/// The mean contrastive loss and the pairs on the right side of half the margin, of `pairs`
/// (indices into `embeddings`), computed from stored embeddings on the plain `device`.
pub fn pair_loss(
    embeddings: &[Vec<f32>],
    pairs: &[(usize, usize, bool)],
    loss_fn: &ContrastiveLoss,
    loss_config: &ContrastiveLossConfig,
    device: &Device,
) -> (f64, usize) {
    let n = pairs.len();
    let dim = embeddings.first().map_or(0, Vec::len);
    let rows = |pick: fn(&(usize, usize, bool)) -> usize| -> Tensor<2> {
        let values: Vec<f32> = pairs
            .iter()
            .flat_map(|p| embeddings[pick(p)].iter().copied())
            .collect();
        Tensor::from_data(TensorData::new(values, [n, dim]), device)
    };
    let (first, second) = (rows(|p| p.0), rows(|p| p.1));
    let squared: Vec<f32> = (first.clone() - second.clone())
        .square()
        .sum_dim(1)
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap_or_else(|_| vec![f32::NAN; n]);
    let same: Vec<bool> = pairs.iter().map(|p| p.2).collect();
    let right = pairs_right(&squared, &same, loss_config);
    let same = Tensor::<1, Bool>::from_bool(TensorData::new(same, [n]), device);
    let loss = loss_fn.forward(first, second, same).into_scalar::<f32>();
    (f64::from(loss), right)
}

/// Pairs as `(set index, set index, same)`.
fn as_set_indices(pairs: &[ClipPair], clips: &[usize]) -> Vec<(usize, usize, bool)> {
    pairs
        .iter()
        .map(|p| (clips[p.first], clips[p.second], p.same))
        .collect()
}

/// [`super::train`] for [`Objective::Contrastive`](super::Objective); see the module docs.
#[allow(
    clippy::too_many_arguments,
    reason = "the same inputs as train(), plus the siamese settings"
)]
pub(super) fn train_siamese(
    run_dir: &Path,
    config: &TrainConfig,
    siamese: &SiameseConfig,
    spec: &RunSpec,
    train_set: &ClipSet,
    val_set: &ClipSet,
    restart: bool,
    device: &Device,
    observer: &mut dyn TrainObserver,
) -> Result<TrainOutcome, Error> {
    siamese.validate()?;
    let (entry, model_config) = config.validate(spec.classes.len())?;
    if entry.uses_melody() {
        return Err(run_error(
            run_dir,
            format!(
                "{} takes a melody input, which the siamese mode does not pair; choose a \
                 mel-only model",
                entry.name
            ),
        ));
    }
    for set in [train_set, val_set] {
        if set.classes() != spec.classes.as_slice() || set.clip_frames() != config.clip_frames {
            return Err(run_error(
                run_dir,
                "the clip sets were built with other classes or another clip length than the \
                 run's",
            ));
        }
    }
    let (train_clips, train_keys) = labelled(train_set);
    let sampler = PairSampler::new(&train_keys)?;
    // Fixed validation pairs (one draw from the seed), or none when the validation clips cannot
    // form both kinds of pair.
    let (val_clips, val_keys) = labelled(val_set);
    let val_pairs = match PairSampler::new(&val_keys) {
        Ok(val_sampler) => Some(as_set_indices(
            &val_sampler.sample(siamese.val_pairs, stream_seed(config.seed, 0, 4)),
            &val_clips,
        )),
        Err(e) if val_clips.is_empty() => {
            let _ = e;
            None
        }
        Err(e) => {
            tracing::warn!("no validation pairs ({e}); every epoch is saved to best/");
            None
        }
    };

    prepare_run_dir(run_dir, config, spec, restart)?;
    let plain = device.clone();
    let device = plain.clone().autodiff();
    let (mut model, mut optim, mut state, mut log, resumed_from) =
        resume_or_start(run_dir, entry, &model_config, config, &plain, &device)?;

    let n_pairs = siamese.pairs_per_epoch.unwrap_or(train_clips.len());
    let batch_size = config.batch_size;
    let steps = n_pairs.div_ceil(batch_size);
    observer.on_start(&StartInfo {
        completed_epochs: state.epoch,
        max_epochs: config.max_epochs,
        steps_per_epoch: steps,
        elapsed_seconds: state.elapsed_seconds,
    });
    let loss_fn = siamese.loss.init();
    let mut epochs_this_call = 0;

    let stop = loop {
        if let Some(reason) = stop_before_epoch(&state, config) {
            break reason;
        }
        let epoch = state.epoch + 1;
        let started = Instant::now();
        plain.seed(stream_seed(config.seed, epoch, 1));
        device.seed(stream_seed(config.seed, epoch, 1));
        let pairs = as_set_indices(
            &sampler.sample(n_pairs, stream_seed(config.seed, epoch, 2)),
            &train_clips,
        );
        let learning_rate = state.learning_rate.unwrap_or(config.learning_rate);
        let (mut loss_sum, mut right, mut seen) = (0.0_f64, 0_usize, 0_usize);
        let mut interrupted = false;
        for (step, chunk) in pairs.chunks(batch_size).enumerate() {
            let (next, loss, chunk_right) = siamese_step(
                model,
                &mut optim,
                &loss_fn,
                &siamese.loss,
                train_set,
                chunk,
                learning_rate,
                &device,
                run_dir,
            )?;
            model = next;
            loss_sum += loss * chunk.len() as f64;
            right += chunk_right;
            seen += chunk.len();
            let progress = StepProgress {
                epoch,
                step: step + 1,
                steps,
                loss: loss_sum / seen as f64,
                accuracy: right as f64 / seen as f64,
            };
            if observer.on_step(&progress) == Control::Stop {
                interrupted = true;
                break;
            }
        }
        if interrupted {
            break StopReason::Interrupted;
        }

        let (val_loss, val_accuracy) = match &val_pairs {
            Some(val_pairs) => {
                let predictions = predict(&*model, val_set, batch_size.max(32));
                let embeddings: Vec<Vec<f32>> =
                    predictions.clips.into_iter().map(|c| c.embedding).collect();
                let (loss, right) =
                    pair_loss(&embeddings, val_pairs, &loss_fn, &siamese.loss, &plain);
                (loss, right as f64 / val_pairs.len() as f64)
            }
            None => (f64::NAN, f64::NAN),
        };
        // Higher is better in the state file: the negated validation loss.
        let is_best = val_pairs.is_none()
            || (val_loss.is_finite() && state.best_score.is_none_or(|best| -val_loss > best));
        let mut row = EpochLog {
            epoch,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: right as f64 / seen.max(1) as f64,
            val_loss,
            val_accuracy,
            val_macro_f1: f64::NAN,
            val_weighted_f1: f64::NAN,
            val_macro_auc: f64::NAN,
            epoch_seconds: 0.0,
            elapsed_seconds: 0.0,
            is_best,
        };
        if is_best {
            let selected_by = if val_pairs.is_some() {
                "val_contrastive_loss"
            } else {
                "last_epoch (no validation pairs)"
            };
            save_best(
                run_dir,
                &*model.valid(),
                spec,
                config,
                epoch,
                selected_by,
                &row,
                None,
            )?;
            state.best_epoch = Some(epoch);
            state.best_score = val_pairs.is_some().then_some(-val_loss);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Margin 1, so the threshold is 0.5 in the loss's units. Squared distances 0.16, 0.36,
    /// 0.81: Hadsell's d = 0.4, 0.6, 0.9 (same, not, not), the squared form's D = 0.16, 0.36,
    /// 0.81 (same, same, not). With truths (same, same, different): Hadsell gets pairs 0 and
    /// 2 right, the squared form all three.
    #[test]
    fn pairs_are_called_same_below_half_the_margin() {
        let squared = [0.16, 0.36, 0.81];
        let same = [true, true, false];
        let hadsell = ContrastiveLossConfig::new();
        assert_eq!(pairs_right(&squared, &same, &hadsell), 2);
        assert_eq!(
            pairs_right(&squared, &same, &SiameseConfig::paper().loss),
            3
        );
    }

    /// Two pairs from stored embeddings, the paper's loss (m = 1): a same pair at D = 0.25
    /// costs ½·0.25 = 0.125, a different pair at D = 0.25 costs ½(1 - 0.25) = 0.375; mean 0.25.
    #[test]
    fn pair_loss_from_stored_embeddings() {
        let device = Device::default();
        let embeddings = vec![vec![0.0, 0.0], vec![0.3, 0.4], vec![0.0, 0.5]];
        let config = SiameseConfig::paper().loss;
        let (loss, right) = pair_loss(
            &embeddings,
            &[(0, 1, true), (0, 2, false)],
            &config.init(),
            &config,
            &device,
        );
        assert!((loss - 0.25).abs() < 1e-6, "{loss}");
        assert_eq!(
            right, 1,
            "the same pair is right, the different one inside m/2"
        );
    }

    #[test]
    fn paper_settings_validate_and_round_trip() {
        let config = SiameseConfig::paper();
        config.validate().expect("valid");
        assert_eq!(config.loss.form, ContrastiveForm::SquaredDistance);
        assert_eq!(config.loss.margin, 1.0);
        let json = serde_json::to_value(&config).expect("json");
        let back: SiameseConfig = serde_json::from_value(json).expect("parse");
        assert_eq!(back, config);
        let mut bad = config;
        bad.loss.margin = 0.0;
        assert!(bad.validate().is_err());
    }
}
