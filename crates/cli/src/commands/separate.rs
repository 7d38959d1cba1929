//! `singerid separate`: vocals and accompaniment stems of audio files, or (`--eval`) the
//! separation report of a separator on a dataset split (`singerid_infer::separate`).

use std::path::PathBuf;

use anyhow::{Context, bail};
use serde::Serialize;
use singerid_infer::{SeparatedFile, load_separator, separate_files, separation_report};

use crate::args::{DeviceArgs, GlobalArgs, OutputFormat};
use crate::commands::print_summary;
use crate::logging;

/// Arguments of `singerid separate`.
#[derive(Debug, clap::Args)]
pub struct SeparateArgs {
    /// Audio files, or folders searched recursively (mp3, wav, flac, ogg, oga, m4a, mp4,
    /// aac). Not with --eval.
    #[arg(
        value_name = "PATH",
        required_unless_present = "eval",
        conflicts_with = "eval"
    )]
    pub inputs: Vec<PathBuf>,
    /// Output folder: `<DIR>/<input file stem>/vocals.wav`, `accompaniment.wav` (32-bit float,
    /// the input's rate and channels) and `spectrogram.png`; with --eval, the report.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The separator: a folder written by `train-separator` (or its run folder) [default:
    /// the shipped models/open_unmix-mir1k, trained on MIR-1K, research-only].
    #[arg(long, value_name = "DIR", env = "SINGERID_SEPARATOR")]
    pub model: Option<PathBuf>,
    /// Score the separator instead: a dataset (folder tree or manifest CSV) of stereo stems
    /// (left = accompaniment, right = voice, as MIR-1K); writes report.md, report.json,
    /// clips.csv, sdr.png and spectrogram.png, with the ideal ratio mask and the mixture
    /// scored on the same clips.
    #[arg(long, value_name = "ROOT|CSV")]
    pub eval: Option<PathBuf>,
    /// With --eval: the split scored.
    #[arg(long, default_value = "val", requires = "eval")]
    pub split: String,
    /// Summary format on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub device: DeviceArgs,
}

#[derive(Serialize)]
struct FilesSummary<'a> {
    separator: &'a std::path::Path,
    files: &'a [SeparatedFile],
}

/// Runs the command; `Ok(true)` when every input was separated.
///
/// # Errors
/// No separator; with --eval, unreadable data or an unwritable report.
pub fn run(args: &SeparateArgs, global: &GlobalArgs) -> anyhow::Result<bool> {
    let (separator, dir) = load_separator(args.model.as_deref(), args.device.device)?;
    let bar = logging::Bar::new(global.quiet, 2);
    if let Some(data) = &args.eval {
        let report = separation_report(&separator, &dir, data, &args.split, &args.out, &bar)
            .with_context(|| format!("scoring {} on {}", dir.display(), data.display()))?;
        let summaries = report.summaries()?;
        print_summary(args.format, &summaries, || {
            let mut text = format!(
                "separator {} on {} (split {}): {} clips scored, {} left out\n",
                dir.display(),
                data.display(),
                args.split,
                report.clips.len(),
                report.skipped.len()
            );
            for (name, s) in report.systems.iter().zip(&summaries) {
                text += &format!(
                    "  {name:<18} GNSDR {:6.2} dB  GSIR {:6.2} dB  GSAR {:6.2} dB\n",
                    s.gnsdr, s.gsir, s.gsar
                );
            }
            text + &format!("report: {}\n", args.out.join("report.md").display())
        })?;
        return Ok(true);
    }
    if args.inputs.is_empty() {
        bail!("name audio files or folders to separate, or --eval DATA");
    }
    let files = separate_files(&separator, &args.inputs, &args.out, &bar);
    let ok = files.iter().all(|f| f.error.is_none());
    print_summary(
        args.format,
        &FilesSummary {
            separator: &dir,
            files: &files,
        },
        || {
            let mut text = String::new();
            for f in &files {
                match (&f.vocals, &f.error) {
                    (Some(vocals), None) => {
                        text += &format!(
                            "{}: {:.1} s, {} ch, {} Hz -> {}\n",
                            f.input.display(),
                            f.seconds,
                            f.channels,
                            f.sample_rate_hz,
                            vocals.parent().unwrap_or(&args.out).display()
                        );
                    }
                    (_, Some(error)) => text += &format!("{}: error: {error}\n", f.input.display()),
                    _ => {}
                }
            }
            text
        },
    )?;
    Ok(ok)
}
