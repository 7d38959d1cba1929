//! `singerid singers`: the singers the library knows for a model (its trained classes and the
//! enrolled ones), with the enrolment threshold.

use crate::args::{GlobalArgs, LibraryArgs};
use crate::commands::print_summary;

#[derive(Debug, clap::Args)]
pub struct SingersArgs {
    #[command(flatten)]
    pub library: LibraryArgs,
}

/// Runs the command.
///
/// # Errors
/// An unreadable model or database.
pub fn run(args: &SingersArgs, _global: &GlobalArgs) -> anyhow::Result<bool> {
    let (bundle, model, mut library) = args.library.open()?;
    let row = library.register_model(&bundle, &model)?;
    let listing = library.listing(&row)?;
    print_summary(args.library.format, &listing, || {
        let mut out = format!(
            "{} singers for {} (enrolment threshold {})\n",
            listing.singers.len(),
            listing.model,
            listing
                .enrol_threshold
                .map_or_else(|| "not calibrated".into(), |t| format!("{t:.3}"))
        );
        for s in &listing.singers {
            out.push_str(&match s.kind.as_str() {
                "enrolled" => format!(
                    "  {} (enrolled, {} recording(s))\n",
                    s.name, s.enrolled_recordings
                ),
                _ => format!("  {} (trained)\n", s.name),
            });
        }
        out
    })?;
    Ok(true)
}
