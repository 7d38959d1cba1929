//! The run folder and its logs: `train.json` written first (or checked on a rerun), the epoch
//! rows in `log.csv` / `log.jsonl`, and the file names of the layout (see [the module
//! docs](super)).

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::config::{Objective, RunSpec, TrainConfig};
use crate::Error;

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
pub(super) const STAGING_DIR: &str = ".last.new";
pub(super) const ASIDE_DIR: &str = ".last.old";

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
    /// Validation macro AUC-ROC over the tags defined in the validation clips: the
    /// model-selection score of a multi-label run ([`super::multilabel`]), whose log files carry
    /// it as a column after `val_weighted_f1`. NaN (and absent from `log.jsonl`) in other runs.
    #[serde(default = "nan", skip_serializing_if = "is_nan", with = "nan_as_null")]
    pub val_macro_auc: f64,
    /// Wall time of this epoch (training, validation, saving), in seconds.
    pub epoch_seconds: f64,
    /// Wall time of all completed epochs so far, across resumes, in seconds.
    pub elapsed_seconds: f64,
    /// Whether this epoch improved on the best validation weighted F1 (and was saved to `best/`);
    /// without validation data, every epoch (so `best/` holds the last one).
    pub is_best: bool,
}

fn nan() -> f64 {
    f64::NAN
}

fn is_nan(value: &f64) -> bool {
    value.is_nan()
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

pub(super) fn run_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Run {
        path: path.to_owned(),
        message: message.into(),
    }
}

pub(super) fn json_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Json {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// Creates the run folder and writes `train.json`, or checks that the one there describes the
/// same training (see the module docs). With `restart`, the folder's training files (`train.json`,
/// logs, `split.csv`, `best/`, `last/`) are deleted first; other files are left alone.
///
/// [`train`](super::train) calls this itself; call it first to write files of your own (e.g. `split.csv`)
/// only once the folder is known to belong to this run.
///
/// # Errors
/// As [`train`](super::train): [`Error::Run`] naming `train.json` for another run's folder, [`Error::Io`].
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
        if found.spec.separator != spec.separator {
            differences.push("vocal separator");
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

pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    singerid_data::atomic::write_atomic(path, bytes).map_err(Error::io(path))
}

pub(super) fn read_log(run_dir: &Path) -> Result<Vec<EpochLog>, Error> {
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

/// The CSV header of a run's log: the tagging column `val_macro_auc` only in multi-label runs.
fn csv_header(objective: &Objective) -> String {
    let auc = if objective.is_multilabel() {
        "val_macro_auc,"
    } else {
        ""
    };
    format!(
        "epoch,train_loss,train_accuracy,val_loss,val_accuracy,val_macro_f1,val_weighted_f1,\
         {auc}epoch_seconds,elapsed_seconds,is_best"
    )
}

fn csv_line(row: &EpochLog, objective: &Objective) -> String {
    let auc = if objective.is_multilabel() {
        format!("{},", row.val_macro_auc)
    } else {
        String::new()
    };
    format!(
        "{},{},{},{},{},{},{},{auc}{:.3},{:.3},{}\n",
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

/// Rewrites both logs atomically with `rows`, with the columns of a run of `objective`.
pub(super) fn write_log(
    run_dir: &Path,
    rows: &[EpochLog],
    objective: &Objective,
) -> Result<(), Error> {
    let jsonl_path = run_dir.join(LOG_JSONL);
    let mut jsonl = String::new();
    let mut csv = csv_header(objective) + "\n";
    for row in rows {
        jsonl.push_str(&serde_json::to_string(row).map_err(|e| json_error(&jsonl_path, e))?);
        jsonl.push('\n');
        csv.push_str(&csv_line(row, objective));
    }
    write_atomic(&jsonl_path, jsonl.as_bytes())?;
    write_atomic(&run_dir.join(LOG_CSV), csv.as_bytes())
}

/// Appends one row to both logs (the CSV header is written by [`write_log`]), with the columns
/// of a run of `objective`.
pub(super) fn append_log(
    run_dir: &Path,
    row: &EpochLog,
    objective: &Objective,
) -> Result<(), Error> {
    let jsonl_path = run_dir.join(LOG_JSONL);
    let line = serde_json::to_string(row).map_err(|e| json_error(&jsonl_path, e))? + "\n";
    let csv = csv_line(row, objective);
    for (path, text) in [(jsonl_path, line), (run_dir.join(LOG_CSV), csv)] {
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
