//! `singerid singers`: the singers the library knows for a model (its trained classes and the
//! enrolled ones), with the enrolment threshold.

use anyhow::Context;
use serde::Serialize;

use crate::args::{DbArgs, DeviceArgs, GlobalArgs, ModelArgs, OutputFormat};
use crate::commands::print_summary;

#[derive(Debug, clap::Args)]
pub struct SingersArgs {
    #[command(flatten)]
    pub db: DbArgs,

    #[command(flatten)]
    pub model: ModelArgs,

    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    #[command(flatten)]
    pub device: DeviceArgs,
}

#[derive(Debug, Serialize)]
struct Singer {
    name: String,
    kind: String,
    enrolled_recordings: usize,
}

#[derive(Debug, Serialize)]
struct Listing {
    model: String,
    enrol_threshold: Option<f32>,
    singers: Vec<Singer>,
}

/// Runs the command.
///
/// # Errors
/// An unreadable model or database.
pub fn run(args: &SingersArgs, _global: &GlobalArgs) -> anyhow::Result<bool> {
    let model = args.model.path()?;
    let bundle = singerid_infer::load_model(&model, args.device.device)
        .with_context(|| format!("loading the model {}", model.display()))?;
    let mut library = args.db.open()?;
    let row = library.register_model(&bundle, &model)?;
    let listing = Listing {
        model: row.name,
        enrol_threshold: library.enrol_threshold(row.id)?,
        singers: library
            .singers(row.id)?
            .into_iter()
            .map(|s| Singer {
                name: s.name,
                kind: s.kind,
                enrolled_recordings: s.recordings,
            })
            .collect(),
    };
    print_summary(args.format, &listing, || {
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
