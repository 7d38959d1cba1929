//! `singerid enrol`: add a singer to the library from a few recordings, without retraining
//! (`singerid_library::enrol`), or remove one (--forget).

use std::num::NonZeroUsize;
use std::path::PathBuf;

use singerid_infer::IdentifyOptions;
use singerid_library::EnrolSummary;

use crate::args::{GlobalArgs, LibraryArgs};
use crate::commands::print_summary;
use crate::logging;

#[derive(Debug, clap::Args)]
pub struct EnrolArgs {
    /// The singer's name (not one of the model's trained singers, not `unknown`).
    #[arg(long, value_name = "NAME")]
    pub name: String,

    /// Recordings of the singer: audio files, or folders searched recursively. A few songs
    /// are enough; each counts once in the singer's profile, whatever its length.
    #[arg(value_name = "PATH", required_unless_present = "forget")]
    pub inputs: Vec<PathBuf>,

    /// Remove the enrolled singer instead (its recordings stay in the library).
    #[arg(long, conflicts_with = "inputs")]
    pub forget: bool,

    #[command(flatten)]
    pub library: LibraryArgs,

    /// Clips per forward pass.
    #[arg(long, value_name = "N", default_value = "32")]
    pub batch_size: NonZeroUsize,
}

/// Runs the command; `Ok(true)` when every file was used.
///
/// # Errors
/// A bad or taken name, no usable recording, an unreadable model or database.
pub fn run(args: &EnrolArgs, global: &GlobalArgs) -> anyhow::Result<bool> {
    let (bundle, model, mut library) = args.library.open()?;
    if args.forget {
        singerid_library::forget(&mut library, &bundle, &model, &args.name)?;
        println!("{} is no longer enrolled", args.name);
        return Ok(true);
    }
    let options = IdentifyOptions {
        batch_size: args.batch_size.get(),
        ..IdentifyOptions::default()
    };
    let progress = logging::Bar::new(global.quiet, 8);
    let summary = singerid_library::enrol(
        &mut library,
        &bundle,
        &model,
        &args.name,
        &args.inputs,
        &options,
        &progress,
    )?;
    for failure in &summary.scan.failures {
        tracing::error!("{}: {}", failure.path.display(), failure.error);
    }
    print_summary(args.library.format, &summary, || render(&summary))?;
    Ok(summary.scan.failures.is_empty())
}

fn render(s: &EnrolSummary) -> String {
    let mut out = format!(
        "{} {}: {} recording(s) in the profile ({} added now; {} file(s) analysed now, {} \
         already in the library)\n",
        if s.new_singer { "enrolled" } else { "updated" },
        s.singer,
        s.recordings,
        s.added,
        s.scan.analysed,
        s.scan.unchanged
    );
    match s.enrol_threshold {
        Some(t) => out.push_str(&format!(
            "  identify --db names {} when a recording's similarity to the profile is at least \
             {t:.3}\n",
            s.singer
        )),
        None => out.push_str(
            "  this model has no calibrated enrolment threshold (no open_set.json; see \
             `singerid eval-open --write-model`): enrolled singers are listed by similarity but \
             never chosen\n",
        ),
    }
    out
}
