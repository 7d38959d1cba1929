//! One module per subcommand; each has an `Args` struct and a `run` function returning whether
//! everything succeeded.

pub mod demo;
pub mod embed;
pub mod enrol;
pub mod ensemble;
pub mod eval;
pub mod eval_open;
pub mod features;
pub mod identify;
pub mod import_separator;
pub mod melody;
pub mod presets;
pub mod reproduce;
pub mod scan;
pub mod separate;
pub mod serve;
pub mod similar;
pub mod singers;
pub mod train;
pub mod train_separator;

use std::io::Write;

use anyhow::Context;
use serde::Serialize;

use crate::args::OutputFormat;

/// Prints a command's summary on stdout: `text` for people, or `summary` as pretty JSON.
pub(crate) fn print_summary<S: Serialize>(
    format: OutputFormat,
    summary: &S,
    text: impl FnOnce() -> String,
) -> anyhow::Result<()> {
    let out = match format {
        OutputFormat::Text => text(),
        OutputFormat::Json => {
            serde_json::to_string_pretty(summary).context("serialising the summary")? + "\n"
        }
    };
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .context("writing the summary to stdout")
}
