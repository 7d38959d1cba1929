//! `singerid train-separator`: train the Open-Unmix vocal separator on stereo stems
//! (`singerid_train::separation`), with a progress bar per epoch and a summary on stdout.

use std::path::PathBuf;

use anyhow::Context;
use singerid_models::separation::MaskKind;
use singerid_train::separation::{SeparationSpec, train_separator};

use crate::args::{DeviceArgs, GlobalArgs, OutputFormat};
use crate::commands::print_summary;
use crate::logging;

/// Arguments of `singerid train-separator`.
#[derive(Debug, clap::Args)]
pub struct TrainSeparatorArgs {
    /// Stereo stems: a folder tree or a manifest CSV with a `split` column; every file holds
    /// the accompaniment on the left and the voice on the right (MIR-1K's layout).
    #[arg(
        long,
        value_name = "ROOT|CSV",
        default_value = "../shared/data/mir1k/metadata.csv"
    )]
    pub data: PathBuf,
    /// The run folder: spec.json, log.csv, last/ (resumable), best/ (the separator folder of
    /// the best validation GNSDR, for `separate --model`). Rerunning resumes.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Split trained on.
    #[arg(long, default_value = "train")]
    pub train_split: String,
    /// Split whose GNSDR selects the best epoch.
    #[arg(long, default_value = "val")]
    pub val_split: String,
    /// Network width (Open-Unmix's hidden_size; each LSTM direction has half).
    #[arg(long, default_value_t = 128)]
    pub hidden: usize,
    /// LSTM layers.
    #[arg(long, default_value_t = 3)]
    pub layers: usize,
    /// Mask on the complex mixture: wiener (V^2 / (V^2 + R^2)) or direct (min(V / |X|, 1)).
    #[arg(long, default_value = "wiener", value_parser = parse_mask)]
    pub mask: MaskKind,
    /// Seconds per training example (random crop).
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Examples per step.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Steps between validations (one "epoch").
    #[arg(long, default_value_t = 100)]
    pub steps_per_epoch: usize,
    /// Most epochs.
    #[arg(long, default_value_t = 200)]
    pub epochs: usize,
    /// Adam's learning rate (multiplied by 0.3 after --lr-patience epochs without a better
    /// validation GNSDR).
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// See --lr. Like --epochs, --patience and --time-budget it may change when a run is
    /// resumed (from the resumed epoch on); every other option is fixed by the run folder.
    #[arg(long, default_value_t = 4)]
    pub lr_patience: usize,
    /// Stop after this many epochs without a better validation GNSDR.
    #[arg(long, default_value_t = 12)]
    pub patience: usize,
    /// Probability that an example's accompaniment comes from another clip.
    #[arg(long, default_value_t = 0.5)]
    pub remix: f64,
    /// Seed of initialisation and sampling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Stop after the epoch that crosses this many minutes of training.
    #[arg(long, value_name = "MINUTES")]
    pub time_budget: Option<f64>,
    /// Summary format on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub device: DeviceArgs,
}

fn parse_mask(s: &str) -> Result<MaskKind, String> {
    match s {
        "wiener" => Ok(MaskKind::Wiener),
        "direct" => Ok(MaskKind::Direct),
        other => Err(format!("unknown mask {other:?}; choose wiener or direct")),
    }
}

/// Runs the command.
///
/// # Errors
/// Unreadable data, a run folder of another spec, unwritable files.
pub fn run(args: &TrainSeparatorArgs, global: &GlobalArgs) -> anyhow::Result<bool> {
    let mut spec = SeparationSpec::new(args.data.clone());
    spec.train_split.clone_from(&args.train_split);
    spec.val_split.clone_from(&args.val_split);
    spec.hidden = args.hidden;
    spec.layers = args.layers;
    spec.mask = args.mask;
    spec.seconds = args.seconds;
    spec.batch = args.batch;
    spec.steps_per_epoch = args.steps_per_epoch;
    spec.epochs = args.epochs;
    spec.lr = args.lr;
    spec.lr_patience = args.lr_patience;
    spec.patience = args.patience;
    spec.remix = args.remix;
    spec.seed = args.seed;
    spec.budget_s = args.time_budget.map(|m| m * 60.0);
    let device = args.device.device.device()?;
    let bar = logging::Bar::new(global.quiet, 1);
    let outcome = train_separator(&args.out, &spec, &device, &bar)
        .with_context(|| format!("training the separator in {}", args.out.display()))?;
    print_summary(args.format, &outcome, || {
        format!(
            "separator: {} epochs, best validation GNSDR {:.2} dB at epoch {} ({:.1} min of \
             training; stopped: {})\nbest separator: {}\n",
            outcome.epochs,
            outcome.best_gnsdr,
            outcome.best_epoch,
            outcome.elapsed_s / 60.0,
            outcome.stopped,
            args.out.join("best").display()
        )
    })?;
    Ok(true)
}
