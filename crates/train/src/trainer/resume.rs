//! The resumable checkpoint `last/`: the model in burnpack format (it keeps the parameter ids
//! that key Adam's state), the optimizer record and `state.json` (epoch, best score, elapsed
//! time, blake3 of both files), staged and renamed into place; loading verifies every file.

use std::fs::File;
use std::path::Path;

use burn::optim::{AdamConfig, ModuleOptimizer, OptimizerRecord};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use singerid_models::{ModelEntry, SingerModel};

use super::run_dir::{
    ASIDE_DIR, LAST_DIR, LAST_MODEL, LAST_OPTIMIZER, LAST_STATE, STAGING_DIR, STATE_FORMAT,
    json_error, run_error, write_atomic,
};
use crate::Error;

/// The contents of `last/state.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct TrainState {
    pub(super) format: String,
    pub(super) version: u32,
    /// Completed epochs.
    pub(super) epoch: usize,
    pub(super) best_epoch: Option<usize>,
    pub(super) best_score: Option<f64>,
    pub(super) epochs_without_improvement: usize,
    pub(super) elapsed_seconds: f64,
    /// The learning rate of the next epoch when a plateau schedule has changed it (absent in
    /// runs written before the schedule existed: the configured rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) learning_rate: Option<f64>,
    /// blake3 of `model.bpk`.
    pub(super) model_blake3: String,
    /// blake3 of `optimizer.bpk`.
    pub(super) optimizer_blake3: String,
}

pub(super) fn fresh_state() -> TrainState {
    TrainState {
        format: STATE_FORMAT.into(),
        version: 1,
        epoch: 0,
        best_epoch: None,
        best_score: None,
        epochs_without_improvement: 0,
        elapsed_seconds: 0.0,
        learning_rate: None,
        model_blake3: String::new(),
        optimizer_blake3: String::new(),
    }
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
pub(super) fn save_last(
    run_dir: &Path,
    model: &dyn SingerModel,
    optim: &ModuleOptimizer,
    state: &mut TrainState,
) -> Result<(), Error> {
    let staging = run_dir.join(STAGING_DIR);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(Error::io(&staging))?;
    }
    std::fs::create_dir_all(&staging).map_err(Error::io(&staging))?;
    let model_path = staging.join(LAST_MODEL);
    model
        .save_burnpack(&model_path)
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

pub(super) type Resumed = (Box<dyn SingerModel>, ModuleOptimizer, TrainState);

/// Loads `last/` when there is one, checking every file.
pub(super) fn load_last(
    run_dir: &Path,
    entry: &ModelEntry,
    model_config: &serde_json::Value,
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
    let mut model = entry.init(model_config, device)?;
    let applied = model
        .load_burnpack(&model_path)
        .map_err(|e| refuse(&model_path, format!("cannot be loaded ({e})")))?;
    if !applied.missing.is_empty() || !applied.unused.is_empty() || !applied.errors.is_empty() {
        return Err(refuse(
            &model_path,
            format!(
                "does not fit a {} model with {} classes (missing: {:?}, unused: {:?}, errors: {})",
                model.name(),
                model.n_classes(),
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

/// Why the run stops before another epoch, if it does: the epoch limit, the patience, or an
/// epoch that would overrun the time budget at the mean epoch time so far. Shared by the
/// classifier and siamese loops.
pub(super) fn stop_before_epoch(
    state: &TrainState,
    config: &super::config::TrainConfig,
) -> Option<super::observer::StopReason> {
    use super::observer::StopReason;
    if state.epoch >= config.max_epochs {
        return Some(StopReason::MaxEpochs);
    }
    if config.patience > 0 && state.epochs_without_improvement >= config.patience {
        return Some(StopReason::Patience);
    }
    if let Some(budget) = config.time_budget_seconds {
        let mean = if state.epoch > 0 {
            state.elapsed_seconds / state.epoch as f64
        } else {
            0.0
        };
        if state.elapsed_seconds + mean > budget {
            return Some(StopReason::TimeBudget);
        }
    }
    None
}

/// After an epoch that did not improve on the best: count it, and lower the learning rate
/// when the plateau schedule says so.
pub(super) fn note_no_improvement(
    state: &mut TrainState,
    config: &super::config::TrainConfig,
    learning_rate: f64,
) {
    state.epochs_without_improvement += 1;
    if let Some(plateau) = config.lr_plateau
        && state
            .epochs_without_improvement
            .is_multiple_of(plateau.patience)
    {
        state.learning_rate = Some(learning_rate * plateau.factor);
    }
}

/// The run's outcome from its final state and log.
pub(super) fn outcome(
    state: TrainState,
    log: Vec<super::run_dir::EpochLog>,
    epochs_this_call: usize,
    resumed_from: Option<usize>,
    stop: super::observer::StopReason,
    run_dir: &Path,
) -> super::observer::TrainOutcome {
    let best = state
        .best_epoch
        .and_then(|b| log.iter().find(|row| row.epoch == b).cloned());
    super::observer::TrainOutcome {
        epochs: state.epoch,
        epochs_this_call,
        resumed_from,
        best,
        stop,
        run_dir: run_dir.to_owned(),
        best_dir: run_dir.join(super::run_dir::BEST_DIR),
        log,
    }
}

/// What [`resume_or_start`] gives: the model, its optimiser, the run state, the log so far and
/// the epoch resumed from.
pub(super) type Started = (
    Box<dyn SingerModel>,
    ModuleOptimizer,
    TrainState,
    Vec<super::run_dir::EpochLog>,
    Option<usize>,
);

/// The run's model, optimiser, state and log: from `last/` when the run has one (the log cut
/// to its epochs, and refused when it lacks some), else a fresh model seeded from the run's
/// seed. Shared by the classifier and siamese loops.
pub(super) fn resume_or_start(
    run_dir: &Path,
    entry: &ModelEntry,
    model_config: &serde_json::Value,
    config: &super::config::TrainConfig,
    plain: &Device,
    device: &Device,
) -> Result<Started, Error> {
    let resumed = load_last(run_dir, entry, model_config, config.adam_epsilon, device)?;
    let resumed_from = resumed.as_ref().map(|(_, _, s)| s.epoch);
    let (model, optim, state) = match resumed {
        Some(resumed) => resumed,
        None => {
            plain.seed(super::epochs::stream_seed(config.seed, 0, 0));
            let model = entry.init(model_config, device)?;
            let optim = AdamConfig::new().with_epsilon(config.adam_epsilon).init();
            (model, optim, fresh_state())
        }
    };
    let mut log = super::run_dir::read_log(run_dir)?;
    let done = resumed_from.unwrap_or(0);
    log.retain(|row| row.epoch <= done);
    if log.len() != done {
        return Err(super::run_dir::run_error(
            &run_dir.join(super::run_dir::LOG_JSONL),
            format!(
                "holds {} rows up to epoch {done}, but the checkpoint in {} is at epoch {done}; \
                 the log is incomplete (rerun with restart to start over)",
                log.len(),
                run_dir.join(LAST_DIR).display()
            ),
        ));
    }
    super::run_dir::write_log(run_dir, &log, &config.objective)?;
    Ok((model, optim, state, log, resumed_from))
}

/// Saves the epoch's model as the run's `best/` bundle, with the provenance every loop records
/// (the epoch, what selected it, its log row, the config and the data).
#[allow(
    clippy::too_many_arguments,
    reason = "each input is distinct; grouping them would only rename the list"
)]
pub(super) fn save_best(
    run_dir: &Path,
    model: &dyn SingerModel,
    spec: &super::config::RunSpec,
    config: &super::config::TrainConfig,
    epoch: usize,
    selected_by: &str,
    row: &super::run_dir::EpochLog,
    unknown_below: Option<f32>,
) -> Result<(), Error> {
    let meta = crate::bundle::BundleMeta {
        format: crate::bundle::FORMAT.into(),
        version: crate::bundle::VERSION,
        classes: spec.classes.clone(),
        features: spec.features,
        clip_frames: config.clip_frames,
        last_clip: config.last_clip,
        provenance: serde_json::json!({
            "epoch": epoch,
            "selected_by": selected_by,
            "val": row,
            "train_config": config,
            "data": &spec.data,
        }),
        separator: spec.separator.clone(),
        melody: spec.melody.clone(),
        unknown_below,
    };
    crate::bundle::save(model, &meta, &run_dir.join(super::run_dir::BEST_DIR))
}

/// The end of every epoch: its wall time into the state and its row, the row appended to the
/// log files and to `log`, and `last/` saved.
#[allow(
    clippy::too_many_arguments,
    reason = "each input is distinct; grouping them would only rename the list"
)]
pub(super) fn close_epoch(
    run_dir: &Path,
    model: &dyn SingerModel,
    optim: &ModuleOptimizer,
    state: &mut TrainState,
    config: &super::config::TrainConfig,
    epoch: usize,
    epoch_seconds: f64,
    row: &mut super::run_dir::EpochLog,
    log: &mut Vec<super::run_dir::EpochLog>,
) -> Result<(), Error> {
    state.epoch = epoch;
    state.elapsed_seconds += epoch_seconds;
    row.epoch_seconds = epoch_seconds;
    row.elapsed_seconds = state.elapsed_seconds;
    super::run_dir::append_log(run_dir, row, &config.objective)?;
    log.push(row.clone());
    save_last(run_dir, model, optim, state)
}
