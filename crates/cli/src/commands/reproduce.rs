//! `singerid reproduce`: the paper's grid (models x clip lengths x settings x seeds), one
//! training run and one test evaluation per cell, and Table 1 in the paper's layout.
//!
//! Every cell is an ordinary `singerid train` run folder under `<out>/runs/<cell>/` plus
//! `report/` (the evaluation report) and `result.json` (the scores for the table). A cell with a
//! `result.json` is done and skipped; an unfinished one resumes from its last completed epoch, so
//! rerunning the same command after a kill continues where it stopped. `<out>/table.md` and
//! `<out>/results.json` are rewritten after every cell.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use burn::tensor::Device;
use serde::Serialize;
use singerid_train::evaluate::evaluate;
use singerid_train::predict::predict;
use singerid_train::report::{CurvePoint, RunInfo, write_report};
use singerid_train::reproduce::{Cell, CellResult, Grid, Score, Setting, table_markdown};
use singerid_train::{ClipSet, bundle};

use crate::args::{ChannelArg, GlobalArgs, json_name};
use crate::commands::train::{
    ModelArg, SplitArg, TrainArgs, TrainingOptions, prepare, train_prepared,
};

/// File name of a finished cell's scores.
const RESULT_FILE: &str = "result.json";

/// Arguments of `singerid reproduce`.
#[derive(Debug, clap::Args)]
pub struct ReproduceArgs {
    /// The dataset: an artist20-style folder (`<artist>/<album>/<song>.<ext>`) or a manifest CSV.
    #[arg(long, value_name = "ROOT|CSV")]
    pub data: PathBuf,

    /// Output folder: `runs/<cell>/` per cell, `table.md` (the paper's Table 1 layout) and
    /// `results.json`. Rerunning the same command resumes.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Models, comma-separated, in table row order.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [ModelArg::Crnn, ModelArg::CrnnFgnl])]
    pub models: Vec<ModelArg>,

    /// Clip lengths in seconds, comma-separated (the paper: 3,5,10).
    #[arg(long, value_name = "SECONDS", value_delimiter = ',', default_values_t = [3.0, 5.0, 10.0])]
    pub clip_seconds: Vec<f64>,

    /// Settings, comma-separated: `mixture` (the paper's original audio) and/or `vocal-only`.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [SettingArg::Mixture, SettingArg::VocalOnly])]
    pub settings: Vec<SettingArg>,

    /// The channel that holds the voice in the vocal-only setting (MIR-1K: right). The mixture
    /// setting uses the feature config's channel (default: the mono mix).
    #[arg(long, value_enum, default_value_t = ChannelArg::Right)]
    pub vocal_channel: ChannelArg,

    /// Seeds, comma-separated (the paper: 0,21,42); each seeds the split (album and song modes)
    /// and the training.
    #[arg(long, value_delimiter = ',', default_values_t = [0u64, 21, 42])]
    pub seeds: Vec<u64>,

    #[command(flatten)]
    pub options: TrainingOptions,
}

/// The two settings, for clap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SettingArg {
    /// The full mix (the paper's "original audio file").
    Mixture,
    /// The voice alone (`--vocal-channel`).
    VocalOnly,
}

impl From<SettingArg> for Setting {
    fn from(value: SettingArg) -> Self {
        match value {
            SettingArg::Mixture => Setting::Mixture,
            SettingArg::VocalOnly => Setting::VocalOnly,
        }
    }
}

#[derive(Serialize)]
struct ResultsFile<'a> {
    grid: &'a Grid,
    results: &'a [CellResult],
}

/// Runs the grid; `Ok(true)` when every cell finished.
///
/// # Errors
/// A bad grid, or a cell whose data cannot be prepared or whose training fails.
pub fn run(args: &ReproduceArgs, global: &GlobalArgs) -> anyhow::Result<bool> {
    if args.models.is_empty() || args.clip_seconds.is_empty() || args.seeds.is_empty() {
        bail!("--models, --clip-seconds and --seeds must each name at least one value");
    }
    if let Some(m) = args
        .models
        .iter()
        .map(|&m| singerid_models::ModelKind::from(m))
        .find(|m| m.uses_melody())
    {
        bail!("{m} needs a melody input, which singerid does not compute");
    }
    let grid = Grid {
        models: args.models.iter().map(|&m| m.into()).collect(),
        clip_seconds: args.clip_seconds.clone(),
        settings: args.settings.iter().map(|&s| s.into()).collect(),
        seeds: args.seeds.clone(),
    };
    let cells = grid.cells();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;

    let mut results = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        let dir = args.out.join("runs").join(cell.run_name());
        let result = match read_result(&dir)? {
            Some(done) => {
                if !global.quiet {
                    eprintln!(
                        "[{}/{}] {}: done earlier, skipped",
                        i + 1,
                        cells.len(),
                        cell.run_name()
                    );
                }
                done
            }
            None => {
                if !global.quiet {
                    eprintln!("[{}/{}] {}", i + 1, cells.len(), cell.run_name());
                }
                run_cell(args, global, cell, &dir)
                    .with_context(|| format!("cell {}", cell.run_name()))?
            }
        };
        results.push(result);
        write_tables(args, &grid, &results)?;
    }
    let table = std::fs::read_to_string(args.out.join("table.md"))
        .with_context(|| format!("reading {}", args.out.join("table.md").display()))?;
    std::io::stdout()
        .lock()
        .write_all(table.as_bytes())
        .context("writing the table to stdout")?;
    Ok(true)
}

fn read_result(dir: &Path) -> anyhow::Result<Option<CellResult>> {
    let path = dir.join(RESULT_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map(Some).with_context(|| {
            format!(
                "{} is not a cell result; delete it to rerun the cell",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Writes `path` through a temporary sibling and a rename.
fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

fn run_cell(
    args: &ReproduceArgs,
    global: &GlobalArgs,
    cell: &Cell,
    dir: &Path,
) -> anyhow::Result<CellResult> {
    let mut options = args.options.clone();
    if cell.setting == Setting::VocalOnly {
        options.features.channel = Some(args.vocal_channel);
    }
    let train_args = TrainArgs {
        data: args.data.clone(),
        seed: cell.seed,
        model: model_arg(cell.model),
        clip_seconds: cell.clip_seconds,
        out: dir.to_owned(),
        restart: false,
        options,
    };
    let prepared = prepare(&train_args, global)?;
    let outcome = train_prepared(&train_args, global, &prepared)?;
    let Some(best) = &outcome.best else {
        bail!("no epoch completed, so there is no model to evaluate");
    };

    // Score the test part; data without one (e.g. a manifest with train/val only) is scored on
    // validation, and the table says so.
    let (scored_split, set): (&str, &ClipSet) = if prepared.test.is_empty() {
        ("val", &prepared.val)
    } else {
        ("test", &prepared.test)
    };
    let bundle = bundle::load(&outcome.best_dir, &Device::default())
        .with_context(|| format!("loading {}", outcome.best_dir.display()))?;
    let predictions = predict(&bundle.model, set, 64);
    let evaluation = evaluate(&predictions).context("scoring the predictions")?;
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
        model: cell.model.name().to_owned(),
        params: bundle.model.num_params(),
        features: prepared.features,
        clip_frames: prepared.config.clip_frames,
        last_clip: prepared.config.last_clip,
        data: format!(
            "{}, {} split (seed {}), scored on {} ({} clips), setting {} (channel {})",
            args.data.display(),
            prepared.partition.mode.as_str(),
            cell.seed,
            scored_split,
            set.len(),
            cell.setting.name(),
            json_name(&prepared.features.channel)
        ),
        checkpoint: Some(outcome.best_dir.clone()),
        command: crate::commands::eval::command_line(),
        notes,
        learning_curve: Some(curve),
    };
    write_report(&dir.join("report"), &evaluation, &predictions, &info)
        .with_context(|| format!("writing the report in {}", dir.display()))?;

    let result = CellResult {
        cell: *cell,
        params: bundle.model.num_params(),
        frame_weighted_f1: evaluation.frame.weighted_f1,
        frame_macro_f1: evaluation.frame.macro_f1,
        song_weighted_f1: evaluation.song.weighted_f1,
        song_macro_f1: evaluation.song.macro_f1,
        epochs: outcome.epochs,
        best_epoch: best.epoch,
        scored_split: scored_split.to_owned(),
    };
    let json = serde_json::to_string_pretty(&result).context("serialising the cell result")?;
    write_atomic(&dir.join(RESULT_FILE), &(json + "\n"))?;
    Ok(result)
}

fn model_arg(kind: singerid_models::ModelKind) -> ModelArg {
    use singerid_models::ModelKind as K;
    match kind {
        K::Crnn => ModelArg::Crnn,
        K::CrnnFgnl => ModelArg::CrnnFgnl,
        K::FgnlBackbone => ModelArg::FgnlBackbone,
        K::CrnnNl => ModelArg::CrnnNl,
        K::CrnnFgnlLight => ModelArg::CrnnFgnlLight,
        K::Crnnm => ModelArg::Crnnm,
        K::CrnnmFgnl => ModelArg::CrnnmFgnl,
    }
}

fn write_tables(args: &ReproduceArgs, grid: &Grid, results: &[CellResult]) -> anyhow::Result<()> {
    let scored: std::collections::BTreeSet<&str> =
        results.iter().map(|r| r.scored_split.as_str()).collect();
    let mut text = format!(
        "# Table 1 (singerid reproduce)\n\nData: {}. Split: {}. Scored on: {}. {} of {} runs \
         finished. Learning rate {}, batch {}, at most {} epochs, patience {}{}.\n\n\
         ## F1 (weighted, the paper's figure)\n\n",
        args.data.display(),
        args.options
            .split
            .map_or("default (manifest column, else album)", |s| match s {
                SplitArg::Manifest => "manifest column",
                SplitArg::Album => "album (per seed)",
                SplitArg::Song => "song (per seed)",
            }),
        scored.into_iter().collect::<Vec<_>>().join(", "),
        results.len(),
        grid.cells().len(),
        args.options.lr,
        args.options.batch_size,
        args.options.epochs,
        args.options.patience,
        args.options
            .time_budget
            .map_or(String::new(), |m| format!(", time budget {m} min per run")),
    );
    text.push_str(&table_markdown(grid, results, Score::Weighted));
    text.push_str("\n## Macro F1\n\n");
    text.push_str(&table_markdown(grid, results, Score::Macro));
    text.push_str(
        "\nParameter counts are Keras' count (batch-norm statistics included) for this data's \
         number of singers; the paper's are for artist20's 20.\n",
    );
    text.push_str("\n## Runs\n\n| run | epochs | best epoch | scored on |\n|---|---:|---:|---|\n");
    for r in results {
        text.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.cell.run_name(),
            r.epochs,
            r.best_epoch,
            r.scored_split
        ));
    }
    write_atomic(&args.out.join("table.md"), &text)?;
    let json = serde_json::to_string_pretty(&ResultsFile { grid, results })
        .context("serialising the results")?;
    write_atomic(&args.out.join("results.json"), &(json + "\n"))
}
