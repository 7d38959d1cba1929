//! `singerid ensemble`: fold several trained models of one configuration (seeds) into one model
//! whose answers are the mean of theirs, calibrated on the validation split
//! (`singerid_infer::fold_ensemble` does the work; this prints a summary).

use std::num::NonZeroUsize;
use std::path::PathBuf;

use anyhow::Context;
use singerid_data::cache::fill::DEFAULT_LOCK_WAIT;
use singerid_infer::{EnsembleOutcome, EnsembleRequest};

use crate::args::{CacheArgs, GlobalArgs, OutputFormat, command_line};
use crate::logging;

#[derive(Debug, clap::Args)]
pub struct EnsembleArgs {
    /// The member models: model folders or training run folders (their best/), at least two,
    /// trained the same way (same model kind, classes, features, clip length, separator and
    /// data partition; typically seeds of one configuration). Today only mel_stats_linear
    /// models can be folded: their logits are affine in the clip statistics, so the mean of
    /// the members' logits is itself one such model, and costs one member at inference.
    #[arg(required = true, num_args = 2.., value_name = "MODEL")]
    pub members: Vec<PathBuf>,

    /// The model folder to write. Its embedding (for enrolment and `similar`) is the first
    /// member's; recompute `open_set.json` with `eval-open --write-model` if the members had
    /// one.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Replace --out when it exists: the whole folder, atomically, README and all.
    #[arg(long)]
    pub force: bool,

    /// The split of the members' own partition on which the folded model is scored and its
    /// `unknown` threshold calibrated, as training does.
    #[arg(long, value_name = "NAME", default_value = "val")]
    pub split: String,

    /// Clips per forward pass.
    #[arg(long, value_name = "N", default_value = "32")]
    pub batch_size: NonZeroUsize,

    #[command(flatten)]
    pub cache: CacheArgs,

    /// Summary format on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// Runs the command.
///
/// # Errors
/// Members that cannot be loaded or folded, a split that cannot be scored, an unwritable folder.
pub fn run(args: &EnsembleArgs, global: &GlobalArgs) -> anyhow::Result<bool> {
    if args.out.exists() && !args.force {
        anyhow::bail!(
            "{} exists; pass --force to replace it (the whole folder is replaced, any README or \
             open_set.json in it included)",
            args.out.display()
        );
    }
    let request = EnsembleRequest {
        members: args.members.clone(),
        out: args.out.clone(),
        split: args.split.clone(),
        cache: args.cache.options(DEFAULT_LOCK_WAIT),
        batch_size: args.batch_size.get(),
        command: command_line(),
    };
    let progress = logging::Bar::new(global.quiet, 0);
    let outcome = singerid_infer::fold_ensemble(&request, &progress)
        .with_context(|| format!("folding {} models", args.members.len()))?;
    super::print_summary(args.format, &outcome, || text(&outcome))?;
    Ok(true)
}

fn text(o: &EnsembleOutcome) -> String {
    let mut out = format!(
        "ensemble: {} ({} members, mean of their logits)\n",
        o.out.display(),
        o.members.len()
    );
    for member in &o.members {
        out += &format!("  member    {}\n", member.display());
    }
    out += &format!(
        "  {}       {} clips: clip accuracy {:.2} %, weighted F1 {:.4}; songs {:.2} % ({} of {})\n",
        o.split,
        o.clips,
        100.0 * o.frame.accuracy,
        o.frame.weighted_f1,
        100.0 * o.song.accuracy,
        (o.song.accuracy * o.song.n_samples as f64).round(),
        o.song.n_samples
    );
    out += &match o.unknown_below {
        Some(t) => format!(
            "  unknown   below confidence {t:.3} (calibrated on {})\n",
            o.split
        ),
        None => format!(
            "  unknown   not calibrated: no {} recording was named correctly\n",
            o.split
        ),
    };
    out
}
