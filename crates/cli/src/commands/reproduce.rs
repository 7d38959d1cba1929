//! `singerid reproduce`: the paper's grid (models x clip lengths x settings x seeds) and its
//! Table 1 (`singerid_infer::reproduce` runs it; this prints its progress and the table).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use singerid_eval::reproduce::{Cell, Grid, Setting};
use singerid_infer::{GridObserver, ReproduceRequest};
use singerid_train::TrainObserver;

use crate::args::{ChannelArg, DeviceArgs, GlobalArgs, command_line, model_help, parse_model};
use crate::commands::train::{CliObserver, SplitArg, TrainingOptions};
use crate::logging;

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

    /// Models, comma-separated, in table row order (names as `singerid train --model`).
    #[arg(long, value_name = "NAMES", value_delimiter = ',', default_value = "crnn,crnn_fgnl",
          value_parser = parse_model, long_help = model_help("Models, comma-separated, in table row order"))]
    pub models: Vec<String>,

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

    #[command(flatten)]
    pub device: DeviceArgs,
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

/// Cell lines on stderr, training progress through the `train` command's observer.
struct CliGridObserver {
    quiet: bool,
    training: CliObserver,
}

impl GridObserver for CliGridObserver {
    fn on_cell(&mut self, index: usize, total: usize, cell: &Cell, done: bool) {
        self.training.finish();
        if !self.quiet {
            let note = if done { ": done earlier, skipped" } else { "" };
            eprintln!("[{}/{total}] {}{note}", index + 1, cell.run_name());
        }
    }

    fn training(&mut self) -> &mut dyn TrainObserver {
        &mut self.training
    }
}

/// Runs the grid; `Ok(true)` when every cell finished.
///
/// # Errors
/// A bad grid, or a cell whose data cannot be prepared or whose training fails.
pub fn run(args: &ReproduceArgs, global: &GlobalArgs) -> anyhow::Result<bool> {
    let first = args
        .models
        .first()
        .context("--models must name at least one model")?;
    if args.options.objective != crate::commands::train::ObjectiveArg::Softmax {
        anyhow::bail!(
            "reproduce runs the papers' softmax classifiers and scores them by F1; train other \
             objectives with `singerid train --objective ...`"
        );
    }
    let request = ReproduceRequest {
        grid: Grid {
            models: args.models.clone(),
            clip_seconds: args.clip_seconds.clone(),
            settings: args.settings.iter().map(|&s| s.into()).collect(),
            seeds: args.seeds.clone(),
        },
        base: args.options.spec(&args.data, first, 3.0, 0)?,
        vocal_channel: args.vocal_channel.into(),
        out: args.out.clone(),
        device: args.device.device,
        command: command_line(),
        split_description: args
            .options
            .split
            .map_or("default (manifest column, else album)", |s| match s {
                SplitArg::Manifest => "manifest column",
                SplitArg::Album => "album (per seed)",
                SplitArg::Song => "song (per seed)",
            })
            .to_owned(),
    };
    let mut observer = CliGridObserver {
        quiet: global.quiet,
        training: CliObserver::new(global.quiet),
    };
    let progress = logging::Bar::new(global.quiet, 0);
    let table = singerid_infer::reproduce(&request, &mut observer, &progress);
    observer.training.finish();
    std::io::stdout()
        .lock()
        .write_all(table?.as_bytes())
        .context("writing the table to stdout")?;
    Ok(true)
}
