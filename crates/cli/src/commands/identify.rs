//! `singerid identify`: name the singer of audio files with a trained model
//! (`singerid_infer::identify` does the work; this prints it as text, JSON or CSV).

use std::io::Write;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::ValueEnum;
use serde::Serialize;
use singerid_infer::embed::csv_field;
use singerid_infer::identify::Failure;
use singerid_infer::{FileResult, IdentifyOptions};
use singerid_library::OpenSetResult;

use crate::args::{DeviceArgs, GlobalArgs, ModelArgs};
use crate::logging;

/// How results are printed on stdout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum IdentifyFormat {
    /// A readable block per file: singer, vote share, top 3, clip timeline.
    #[default]
    Text,
    /// One JSON document: every file with its clips, and the failures.
    Json,
    /// One CSV row per clip, with the file's decision repeated on each row.
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct IdentifyArgs {
    /// Audio files, or folders searched recursively for audio files (mp3, wav, flac, ogg,
    /// oga, m4a, mp4, aac).
    #[arg(required = true, value_name = "PATH")]
    pub inputs: Vec<PathBuf>,

    #[command(flatten)]
    pub model: ModelArgs,

    /// Also choose among the singers enrolled in this library database (`singerid enrol`):
    /// a file whose similarity to an enrolled singer's profile reaches the model's calibrated
    /// threshold is that singer. The output lists the closest enrolled singers.
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = IdentifyFormat::Text)]
    pub format: IdentifyFormat,

    /// Clips per forward pass.
    #[arg(long, value_name = "N", default_value = "32")]
    pub batch_size: NonZeroUsize,

    #[command(flatten)]
    pub device: DeviceArgs,
}

#[derive(Debug, Serialize)]
struct Output<'a, F: Serialize> {
    model: &'a Path,
    vocals: String,
    classes: &'a [String],
    files: &'a [F],
    failures: &'a [Failure],
}

/// Writes each chunk of results to stdout as it is decided (text and CSV; JSON waits for the
/// end), keeping the first write error.
struct Printer {
    format: IdentifyFormat,
    stdout: std::io::StdoutLock<'static>,
    csv_header_written: bool,
    write_error: Option<std::io::Error>,
}

impl Printer {
    fn chunk<'a>(
        &mut self,
        chunk: impl Iterator<Item = (&'a FileResult, Option<&'a OpenSetResult>)>,
    ) {
        let text: String = match self.format {
            IdentifyFormat::Text => chunk
                .map(|(file, open)| open.map_or_else(|| render_text(file), render_open))
                .collect(),
            IdentifyFormat::Csv => {
                let files: Vec<&FileResult> = chunk.map(|(file, _)| file).collect();
                let text = render_csv(&files, !self.csv_header_written);
                self.csv_header_written = true;
                text
            }
            IdentifyFormat::Json => return,
        };
        if let Err(err) = self
            .stdout
            .write_all(text.as_bytes())
            .and_then(|()| self.stdout.flush())
        {
            self.write_error.get_or_insert(err);
        }
    }
}

/// Runs the command; `Ok(true)` when every file was identified.
///
/// # Errors
/// Fatal problems only: an unreadable model or database, stdout closed.
pub fn run(args: &IdentifyArgs, global: &GlobalArgs) -> anyhow::Result<bool> {
    let model = args.model.path()?;
    let bundle = singerid_infer::load_model(&model, args.device.device)
        .with_context(|| format!("loading the model {}", model.display()))?;
    // An embedding model answers through the library's profiles (`--db`); a tagging model's
    // outputs are tags, never singers, with or without a library.
    if args.db.is_none() || singerid_infer::is_tagging_model(&bundle) {
        singerid_infer::require_classifier(&bundle, &model)?;
    }
    let options = IdentifyOptions {
        batch_size: args.batch_size.get(),
        ..IdentifyOptions::default()
    };
    let progress = logging::Bar::new(global.quiet, 8);
    let mut printer = Printer {
        format: args.format,
        stdout: std::io::stdout().lock(),
        csv_header_written: false,
        write_error: None,
    };
    let (tail, failures, identified) = match &args.db {
        None => {
            let found = singerid_infer::identify(
                &bundle,
                &args.inputs,
                &options,
                &progress,
                &mut |chunk| {
                    printer.chunk(chunk.iter().map(|f| (f, None)));
                },
            );
            let tail = match args.format {
                IdentifyFormat::Json => {
                    json_output(&model, &bundle, &found.files, &found.failures)?
                }
                _ => String::new(),
            };
            (tail, found.failures, found.files.len())
        }
        Some(db) => {
            let mut library = singerid_library::Library::open(db)?;
            let found = singerid_library::identify_open(
                &mut library,
                &bundle,
                &model,
                &args.inputs,
                &options,
                &progress,
                &mut |chunk| printer.chunk(chunk.iter().map(|r| (&r.file, Some(r)))),
            )?;
            let tail = match args.format {
                IdentifyFormat::Json => {
                    json_output(&model, &bundle, &found.files, &found.failures)?
                }
                _ => String::new(),
            };
            (tail, found.failures, found.files.len())
        }
    };
    if let Some(err) = printer.write_error.take() {
        return Err(err).context("writing the results to stdout");
    }
    let tail = match args.format {
        IdentifyFormat::Csv if !printer.csv_header_written => render_csv(&[], true),
        _ => tail,
    };
    printer
        .stdout
        .write_all(tail.as_bytes())
        .context("writing the results to stdout")?;
    if !failures.is_empty() {
        tracing::error!(
            "{} of {} files could not be identified",
            failures.len(),
            failures.len() + identified
        );
    }
    Ok(failures.is_empty())
}

/// The JSON document: the model, its classes, every file (plain or with enrolled singers) and
/// the failures.
fn json_output<F: Serialize>(
    model: &Path,
    bundle: &singerid_infer::Bundle,
    files: &[F],
    failures: &[Failure],
) -> anyhow::Result<String> {
    let output = Output {
        model,
        vocals: bundle.vocals(),
        classes: &bundle.meta.classes,
        files,
        failures,
    };
    Ok(serde_json::to_string_pretty(&output).context("serialising the results")? + "\n")
}

/// A file's block with enrolled singers (identify --db): the answer, then the model's own
/// block, then the closest enrolled singers.
fn render_open(r: &OpenSetResult) -> String {
    let closest: Vec<String> = r
        .enrolled
        .iter()
        .map(|m| format!("{} {:.3}", m.singer, m.similarity))
        .collect();
    let threshold = r.enrol_threshold.map_or_else(
        || "no calibrated threshold, so never chosen".into(),
        |t| format!("threshold {t:.3}"),
    );
    if r.by_profiles {
        return render_by_profiles(r, &threshold);
    }
    let mut model_view = r.file.clone();
    model_view.singer.clone_from(&r.model_singer);
    model_view
        .unknown_reason
        .clone_from(&r.model_unknown_reason);
    let model_block = render_text(&model_view);
    let mut out = match (r.decided_by, r.enrolled.first()) {
        ("enrolled", Some(m)) => format!(
            "{}: {} (enrolled singer: similarity {:.3}, {threshold}, closer than every trained \
             singer's profile)\n  the model alone: {}",
            r.file.path.display(),
            r.file.singer,
            m.similarity,
            model_block
                .split_once(": ")
                .map_or(model_block.as_str(), |(_, rest)| rest)
        ),
        _ => model_block,
    };
    out.push_str(&if closest.is_empty() {
        "  enrolled singers: none in the library\n".to_owned()
    } else {
        format!("  closest enrolled ({threshold}): {}\n", closest.join(", "))
    });
    out
}

/// A file's block for an embedding model, whose answers come from profiles: similarities
/// where a classifier's block has probabilities and votes.
fn render_by_profiles(r: &OpenSetResult, threshold: &str) -> String {
    let f = &r.file;
    if f.top.is_empty() {
        // No profile at all: nothing to rank the file or its clips against.
        return format!(
            "{}: {}: {}\n",
            f.path.display(),
            f.singer,
            f.unknown_reason.as_deref().unwrap_or("no singer profiles")
        );
    }
    let answer = match &f.unknown_reason {
        Some(reason) => format!("{}: {reason}; best guess {}", f.singer, f.best_guess),
        None => f.singer.clone(),
    };
    let source = if r.decided_by == "enrolled" {
        "an enrolled singer's profile"
    } else {
        "a trained singer's profile"
    };
    let mut out = format!(
        "{}: {answer} (embedding model: closest profile {} at cosine similarity {:.3}, {threshold}{})\n",
        f.path.display(),
        f.best_guess,
        f.confidence,
        if f.unknown_reason.is_none() {
            format!("; {source}")
        } else {
            String::new()
        }
    );
    let top: Vec<String> = f
        .top
        .iter()
        .map(|t| format!("{} {:.3}", t.singer, t.probability))
        .collect();
    out.push_str(&format!(
        "  closest profiles (cosine similarity): {}\n",
        top.join(", ")
    ));
    if r.model_singer != f.singer {
        out.push_str(&format!(
            "  among the trained singers alone: {}\n",
            r.model_singer
        ));
    }
    out.push_str(&format!(
        "  clips nearest to {}: {}/{}\n",
        f.best_guess, f.votes, f.counted
    ));
    out.push_str(&timeline(f));
    out
}

fn render_text(r: &FileResult) -> String {
    let answer = match &r.unknown_reason {
        Some(reason) => format!("{}: {reason}; best guess {}", r.singer, r.best_guess),
        None => r.singer.clone(),
    };
    let mut out = format!(
        "{}: {answer} (confidence {:.2}; vote {}/{} = {:.0} %{})\n",
        r.path.display(),
        r.confidence,
        r.votes,
        r.counted,
        100.0 * r.vote_share,
        if r.confident_vote {
            ", confident clips"
        } else {
            ", no clip above 0.5: all clips voted"
        }
    );
    let top: Vec<String> = r
        .top
        .iter()
        .map(|t| format!("{} {:.3}", t.singer, t.probability))
        .collect();
    // The order is the vote's (winner, then votes, then mean probability), so a singer with a
    // higher mean probability but fewer votes can follow one with a lower: say so.
    out.push_str(&format!(
        "  top {} (by votes, then mean probability): {}\n",
        r.top.len(),
        top.join(", ")
    ));
    out.push_str(&timeline(r));
    out
}

/// The per-clip lines: time span, the clip's singer and its probability (similarity for an
/// embedding model).
fn timeline(r: &FileResult) -> String {
    let mut out = String::new();
    for c in &r.clips {
        let span = format!("{:.2}-{:.2} s", c.start_s, c.end_s);
        out.push_str(&format!(
            "  {span:>18}  {} {:.3}\n",
            c.singer, c.probability
        ));
    }
    out
}

/// One CSV row per clip (RFC 4180 quoting), preceded by the header when `header` is set.
fn render_csv(results: &[&FileResult], header: bool) -> String {
    let mut out = String::new();
    if header {
        out.push_str(
            "path,singer,confidence,vote_share,clip_index,start_s,end_s,clip_singer,probability\n",
        );
    }
    for r in results {
        for c in &r.clips {
            let fields = [
                csv_field(&r.path.display().to_string()),
                csv_field(&r.singer),
                format!("{:.4}", r.confidence),
                format!("{:.4}", r.vote_share),
                c.index.to_string(),
                format!("{:.3}", c.start_s),
                format!("{:.3}", c.end_s),
                csv_field(&c.singer),
                format!("{:.4}", c.probability),
            ];
            out.push_str(&fields.join(","));
            out.push('\n');
        }
    }
    out
}
