//! The paper's grid (models x clip lengths x settings x seeds): one training run and one test
//! evaluation per cell, and Table 1 in the paper's layout.
//!
//! Every cell is an ordinary training run folder under `<out>/runs/<cell>/` plus `report/` (the
//! evaluation report) and `result.json` (the scores for the table). A cell with a `result.json`
//! is done and skipped; an unfinished one resumes from its last completed epoch, so rerunning the
//! same grid after a kill continues where it stopped. `<out>/table.md` and `<out>/results.json`
//! are rewritten after every cell.

use std::path::{Path, PathBuf};

use singerid_audio::Channel;
use singerid_data::Progress;
use singerid_eval::evaluate;
use singerid_eval::report::{CurvePoint, RunInfo, write_report};
use singerid_eval::reproduce::{
    Cell, CellResult, Grid, Setting, read_cell_result, table_document, write_cell_result,
    write_table_files,
};
use singerid_train::{ClipSet, ExperimentSpec, TrainObserver, bundle, predict, prepare};

use crate::device::DeviceChoice;
use crate::error::Error;

/// A grid to run.
#[derive(Debug, Clone)]
pub struct ReproduceRequest {
    /// The grid.
    pub grid: Grid,
    /// Everything but the cell's model, clip length, seed and channel (taken from the cell).
    pub base: ExperimentSpec,
    /// The channel that holds the voice in the vocal-only setting (MIR-1K: right).
    pub vocal_channel: Channel,
    /// The output folder.
    pub out: PathBuf,
    /// Where the models run.
    pub device: DeviceChoice,
    /// The command line, for the reports.
    pub command: String,
    /// How the split was chosen, for the table's header.
    pub split_description: String,
}

/// What a cell run reports to the caller.
pub trait GridObserver {
    /// Cell `index` (0-based) of `total` starts; `done` when its result was found on disk.
    fn on_cell(&mut self, index: usize, total: usize, cell: &Cell, done: bool);
    /// The training observer for the cell's run.
    fn training(&mut self) -> &mut dyn TrainObserver;
}

/// Runs (or resumes) the grid; returns the table as Markdown.
///
/// # Errors
/// An empty grid, a melody model, or a cell whose data cannot be prepared or whose training or
/// evaluation fails.
pub fn reproduce(
    request: &ReproduceRequest,
    observer: &mut dyn GridObserver,
    progress: &dyn Progress,
) -> Result<String, Error> {
    let grid = &request.grid;
    if grid.models.is_empty() || grid.clip_seconds.is_empty() || grid.seeds.is_empty() {
        return Err(Error::Evaluation(
            "the grid needs at least one model, one clip length and one seed".into(),
        ));
    }
    let cells = grid.cells();
    let header = table_header(request);
    let mut results = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        let dir = request.out.join("runs").join(cell.run_name());
        let done = read_cell_result(&dir)?;
        observer.on_cell(i, cells.len(), cell, done.is_some());
        let result = match done {
            Some(done) => done,
            None => run_cell(request, cell, &dir, observer.training(), progress)?,
        };
        results.push(result);
        write_table_files(&request.out, &header, grid, &results)?;
    }
    Ok(table_document(&header, grid, &results))
}

fn run_cell(
    request: &ReproduceRequest,
    cell: &Cell,
    dir: &Path,
    observer: &mut dyn TrainObserver,
    progress: &dyn Progress,
) -> Result<CellResult, Error> {
    let in_cell = |e: Error| Error::Evaluation(format!("cell {}: {e}", cell.run_name()));
    let mut spec = request.base.clone();
    spec.model = cell.model.clone();
    spec.seed = cell.seed;
    spec.clip_seconds = cell.clip_seconds;
    if cell.setting == Setting::VocalOnly {
        spec.features.channel = request.vocal_channel;
    }
    let device = request.device.device()?;
    let prepared = prepare(&spec, progress).map_err(|e| in_cell(e.into()))?;
    let outcome = prepared
        .run(dir, false, &device, observer)
        .map_err(|e| in_cell(e.into()))?;
    let Some(best) = &outcome.best else {
        return Err(in_cell(Error::Evaluation(
            "no epoch completed, so there is no model to evaluate".into(),
        )));
    };

    // Score the test part; data without one (e.g. a manifest with train/val only) is scored on
    // validation, and the table says so.
    let (scored_split, set): (&str, &ClipSet) = if prepared.test.is_empty() {
        ("val", &prepared.val)
    } else {
        ("test", &prepared.test)
    };
    let bundle = bundle::load(&outcome.best_dir, &device)?;
    let predictions = predict(&*bundle.model, set, 64);
    let evaluation = evaluate(&predictions)?;
    let curve = outcome
        .log
        .iter()
        .map(|row| CurvePoint {
            epoch: row.epoch,
            train_loss: row.train_loss,
            train_accuracy: row.train_accuracy,
            val_loss: row.val_loss,
            val_weighted_f1: row.val_weighted_f1,
        })
        .collect();
    let has_val = (0..prepared.val.len()).any(|i| prepared.val.label(i).is_some());
    let mut notes = vec![if has_val {
        format!(
            "Training stopped: {} after {} epochs; the checkpoint of epoch {} (best validation \
             weighted F1) is evaluated.",
            outcome.stop, outcome.epochs, best.epoch
        )
    } else {
        format!(
            "Training stopped: {} after {} epochs. The split left no validation data for the \
             training singers, so there was no model selection: the last epoch ({}) is \
             evaluated.",
            outcome.stop, outcome.epochs, best.epoch
        )
    }];
    if scored_split == "val" {
        notes.push(
            "The data has no test part, so this report scores the validation part, which also \
             selected the checkpoint: an optimistic figure."
                .into(),
        );
    }
    let info = RunInfo {
        model: cell.model.clone(),
        params: bundle.model.num_params(),
        features: prepared.features,
        clip_frames: prepared.config.clip_frames,
        last_clip: prepared.config.last_clip,
        data: format!(
            "{}, {} split (seed {}), scored on {} ({} clips), setting {} (channel {})",
            prepared.dataset_name(),
            prepared.partition.mode.as_str(),
            cell.seed,
            scored_split,
            set.len(),
            cell.setting.name(),
            prepared.features.channel.name()
        ),
        checkpoint: Some(outcome.best_dir.clone()),
        command: request.command.clone(),
        notes,
        learning_curve: Some(curve),
    };
    write_report(&dir.join("report"), &evaluation, &predictions, &info)?;

    let result = CellResult {
        cell: cell.clone(),
        params: bundle.model.num_params(),
        frame_weighted_f1: evaluation.frame.weighted_f1,
        frame_macro_f1: evaluation.frame.macro_f1,
        song_weighted_f1: evaluation.song.weighted_f1,
        song_macro_f1: evaluation.song.macro_f1,
        epochs: outcome.epochs,
        best_epoch: best.epoch,
        scored_split: scored_split.to_owned(),
    };
    write_cell_result(dir, &result)?;
    Ok(result)
}

/// The table's opening paragraph: the data, split and training options of the grid.
fn table_header(request: &ReproduceRequest) -> String {
    let base = &request.base;
    format!(
        "Data: {}. Split: {}. Learning rate {}, batch {}, at most {} epochs, patience {}{}.",
        base.data.display(),
        request.split_description,
        base.learning_rate,
        base.batch_size,
        base.max_epochs,
        base.patience,
        base.time_budget_seconds.map_or(String::new(), |s| format!(
            ", time budget {} min per run",
            s / 60.0
        )),
    )
}
