//! `singerid eval-open`: the open-set evaluation (enrol singers the model never saw from some
//! of their songs, identify their other songs) and the calibration of the enrolment threshold
//! (`singerid_library::eval_open::eval_open` does the work; this writes and prints it).

use std::num::NonZeroUsize;
use std::path::PathBuf;

use anyhow::Context;
use singerid_data::cache::fill::DEFAULT_LOCK_WAIT;
use singerid_library::eval_open::{OpenEvalReport, OpenEvalRequest, eval_open};

use crate::args::{CacheArgs, DbArgs, DeviceArgs, GlobalArgs, ModelArgs, OutputFormat};
use crate::commands::print_summary;
use crate::logging;

#[derive(Debug, clap::Args)]
pub struct EvalOpenArgs {
    #[command(flatten)]
    pub model: ModelArgs,

    /// The dataset: a manifest `.csv` with a split column, holding the model's singers and the
    /// held-out ones.
    #[arg(long, value_name = "CSV")]
    pub data: PathBuf,

    /// Singers the model was not trained on, to enrol from their --enrol-split recordings and
    /// identify on their --query-split ones (comma-separated). None: only calibrate.
    #[arg(long, value_name = "NAME,...", value_delimiter = ',')]
    pub holdout: Vec<String>,

    /// The split whose recordings build the singers' profiles.
    #[arg(long, value_name = "NAME", default_value = "train")]
    pub enrol_split: String,

    /// The split whose recordings are identified.
    #[arg(long, value_name = "NAME", default_value = "val")]
    pub query_split: String,

    /// Put the enrolment threshold where it accepts at most this share of impostor trials (a
    /// recording against another known singer's profile) [default: at the trials' equal error
    /// rate].
    #[arg(long, value_name = "RATE")]
    pub target_false_accept: Option<f64>,

    /// Report folder (created): report.md and report.json (the figures and the calibration).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Also write the calibration (threshold and trained singers' profiles) into the model
    /// folder (`open_set.json`), where library databases read it from.
    #[arg(long)]
    pub write_model: bool,

    /// Also store the calibration (threshold and trained singers' profiles) for this model in
    /// the library database.
    #[arg(long = "store-in-db")]
    pub store_in_db: bool,

    #[command(flatten)]
    pub db: DbArgs,

    /// The vector a recording is compared by: `model` (the model's embedding, what the
    /// library uses) or `log-probs` (the mean log class probabilities over its clips, centred
    /// by the known singers' enrolment recordings: an experiment of this evaluation, which
    /// cannot be written to the model or the database).
    #[arg(long, value_enum, default_value = "model")]
    pub embedding: EmbeddingArg,

    /// Clips per forward pass.
    #[arg(long, value_name = "N", default_value = "32")]
    pub batch_size: NonZeroUsize,

    #[command(flatten)]
    pub cache: CacheArgs,

    #[command(flatten)]
    pub device: DeviceArgs,

    /// Summary format on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// `--embedding` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum EmbeddingArg {
    /// The model's embedding layer.
    Model,
    /// Centred mean log class probabilities.
    LogProbs,
}

/// Runs the command.
///
/// # Errors
/// Unreadable model or data, a held-out singer the model knows, an unwritable report folder.
pub fn run(args: &EvalOpenArgs, global: &GlobalArgs) -> anyhow::Result<bool> {
    if let Some(rate) = args.target_false_accept
        && !(0.0..=1.0).contains(&rate)
    {
        anyhow::bail!("--target-false-accept must be in [0, 1], got {rate}");
    }
    if matches!(args.embedding, EmbeddingArg::LogProbs) && (args.write_model || args.store_in_db) {
        anyhow::bail!(
            "--embedding log-probs is an experiment of this evaluation: the library compares the \
             model's embedding, so its calibration cannot be written (--write-model, --store-in-db)"
        );
    }
    let model = args.model.path()?;
    let bundle = singerid_infer::load_model(&model, args.device.device)
        .with_context(|| format!("loading the model {}", model.display()))?;
    if singerid_infer::is_tagging_model(&bundle) {
        return Err(singerid_infer::Error::TaggingModel(model).into());
    }
    let mut request = OpenEvalRequest::new(
        model.clone(),
        args.data.clone(),
        args.holdout.clone(),
        args.cache.options(DEFAULT_LOCK_WAIT),
    );
    request.enrol_split.clone_from(&args.enrol_split);
    request.query_split.clone_from(&args.query_split);
    request.target_false_accept = args.target_false_accept;
    request.batch_size = args.batch_size.get();
    request.embedding = match args.embedding {
        EmbeddingArg::Model => singerid_library::eval_open::OpenEmbedding::Model,
        EmbeddingArg::LogProbs => singerid_library::eval_open::OpenEmbedding::LogProbs,
    };
    let progress = logging::Bar::new(global.quiet, 8);
    let report = eval_open(&bundle, &request, &progress)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let markdown = format!(
        "# Open-set evaluation\n\nResearch-only when the data is MIR-1K.\n\n{}",
        report.to_markdown()
    );
    std::fs::write(args.out.join("report.md"), &markdown)
        .with_context(|| format!("writing {}", args.out.display()))?;
    std::fs::write(
        args.out.join("report.json"),
        serde_json::to_string_pretty(&report)? + "\n",
    )
    .with_context(|| format!("writing {}", args.out.display()))?;
    if args.write_model {
        report.calibration.write(&model)?;
    }
    if args.store_in_db {
        let mut library = args.db.open()?;
        let row = library.register_model(&bundle, &model)?;
        library.store_calibration(row.id, &report.calibration)?;
    }
    print_summary(args.format, &report, || render(&report))?;
    Ok(true)
}

fn render(r: &OpenEvalReport) -> String {
    r.to_markdown()
}
