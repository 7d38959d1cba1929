//! `singerid scan`: identify every audio file under folders into the library database,
//! incrementally (`singerid_library::scan` does the work; this prints it).

use std::num::NonZeroUsize;
use std::path::PathBuf;

use singerid_infer::IdentifyOptions;
use singerid_library::ScanSummary;

use crate::args::{GlobalArgs, LibraryArgs};
use crate::commands::print_summary;
use crate::logging;

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Audio files, or folders searched recursively for audio files (mp3, wav, flac, ogg,
    /// oga, m4a, mp4, aac).
    #[arg(required = true, value_name = "PATH")]
    pub inputs: Vec<PathBuf>,

    #[command(flatten)]
    pub library: LibraryArgs,

    /// Clips per forward pass.
    #[arg(long, value_name = "N", default_value = "32")]
    pub batch_size: NonZeroUsize,
}

/// Runs the command; `Ok(true)` when every file was scanned.
///
/// # Errors
/// An unreadable model or database, a database write that fails.
pub fn run(args: &ScanArgs, global: &GlobalArgs) -> anyhow::Result<bool> {
    let (bundle, model, mut library) = args.library.open()?;
    let options = IdentifyOptions {
        batch_size: args.batch_size.get(),
        ..IdentifyOptions::default()
    };
    let progress = logging::Bar::new(global.quiet, 8);
    let summary = singerid_library::scan(
        &mut library,
        &bundle,
        &model,
        &args.inputs,
        &options,
        &progress,
        &mut |_| {},
    )?;
    for failure in &summary.failures {
        tracing::error!("{}: {}", failure.path.display(), failure.error);
    }
    print_summary(args.library.format, &summary, || render(&summary))?;
    Ok(summary.failures.is_empty())
}

fn render(s: &ScanSummary) -> String {
    let rate = if s.wall_seconds > 0.0 {
        s.audio_seconds / s.wall_seconds
    } else {
        0.0
    };
    format!(
        "scanned {} audio files with {} into {}\n  {} new or changed ({} changed), {} \
         unchanged (skipped), {} failed\n  {:.1} min of audio in {:.1} s ({rate:.1}x real \
         time)\n  the library now holds {} recordings, {} analysed by this model\n",
        s.found,
        s.model,
        s.db.display(),
        s.analysed,
        s.changed,
        s.unchanged,
        s.failures.len(),
        s.audio_seconds / 60.0,
        s.wall_seconds,
        s.total_recordings,
        s.total_analysed
    )
}
