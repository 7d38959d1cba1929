//! `singerid identify`: name the singer of audio files with a trained model.
//!
//! Each file is decoded and turned into log-mel features with the bundle's feature config,
//! cut into clips of the bundle's length (every full clip is kept, whatever the training rule
//! for the last clip: a short file must still give its one clip), classified, and decided by
//! the paper's song vote (clips with top probability > 0.5 vote, all clips when none does,
//! ties to the lowest class).

use std::io::{IsTerminal, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use burn::tensor::Device;
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;
use singerid_audio::{LogMel, features_from_file};
use singerid_data::clip::LastClip;
use singerid_data::{Recording, is_audio_path};
use singerid_train::clips::ClipSet;
use singerid_train::predict::predict;
use singerid_train::vote::{ClipPrediction, vote};
use singerid_train::{Predictions, bundle};

use crate::args::GlobalArgs;
use crate::logging;

/// Files decoded and classified together; bounds memory on large folders.
const FILES_PER_CHUNK: usize = 64;
/// How many singers the per-file ranking lists.
const TOP_K: usize = 3;

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

    /// The trained-model bundle folder (`model.safetensors`, `config.json`, `singerid.json`).
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,

    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = IdentifyFormat::Text)]
    pub format: IdentifyFormat,

    /// Clips per forward pass.
    #[arg(long, value_name = "N", default_value = "32")]
    pub batch_size: NonZeroUsize,
}

/// One singer and a probability.
#[derive(Debug, Clone, Serialize)]
struct Ranked {
    singer: String,
    probability: f32,
}

/// One clip of a file.
#[derive(Debug, Clone, Serialize)]
struct ClipLine {
    index: usize,
    start_s: f64,
    end_s: f64,
    singer: String,
    probability: f32,
}

/// The decision for one file.
#[derive(Debug, Clone, Serialize)]
struct FileResult {
    path: PathBuf,
    singer: String,
    /// Votes for the winner / votes counted.
    vote_share: f64,
    votes: usize,
    counted: usize,
    /// Whether the counted votes are the confident clips (false: no clip was above 0.5, all
    /// voted).
    confident_vote: bool,
    top: Vec<Ranked>,
    clips: Vec<ClipLine>,
}

/// A file that could not be identified.
#[derive(Debug, Clone, Serialize)]
struct Failure {
    path: PathBuf,
    error: String,
}

#[derive(Debug, Serialize)]
struct Output<'a> {
    model: &'a Path,
    classes: &'a [String],
    files: &'a [FileResult],
    failures: &'a [Failure],
}

/// Runs the command; `Ok(true)` when every file was identified.
///
/// # Errors
/// Fatal problems only: an unreadable bundle, an invalid feature config, stdout closed.
pub fn run(args: &IdentifyArgs, global: &GlobalArgs) -> anyhow::Result<bool> {
    let device = Device::default();
    let bundle = bundle::load(&args.model, &device)
        .with_context(|| format!("loading the model bundle {}", args.model.display()))?;
    let meta = &bundle.meta;
    if bundle.model.config().kind.uses_melody() {
        anyhow::bail!(
            "{} is a {} model, which needs a melody input; identify supports mel-only models",
            args.model.display(),
            bundle.model.config().kind
        );
    }
    let config = meta.features;
    config.validate()?;
    let seconds_per_frame = config.hop_length as f64 / f64::from(config.sample_rate_hz);
    let clip_seconds = meta.clip_frames as f64 * seconds_per_frame;

    let mut failures = Vec::new();
    let files = collect_files(&args.inputs, &mut failures);
    for failure in &failures {
        tracing::error!("{}: {}", failure.path.display(), failure.error);
    }

    let bar = progress_bar(files.len(), global.quiet);
    logging::show_progress_bar(Some(bar.clone()));
    let mut results = Vec::new();
    let mut stdout = std::io::stdout().lock();
    let mut csv_header_written = false;
    for chunk in files.chunks(FILES_PER_CHUNK) {
        let features: Vec<(PathBuf, Result<LogMel, String>)> = chunk
            .par_iter()
            .map(|path| {
                let result = features_from_file(path, &config).map_err(|e| e.to_string());
                bar.inc(1);
                (path.clone(), result)
            })
            .collect();
        let mut items = Vec::new();
        for (path, result) in features {
            let error = match result {
                Ok(mel) if mel.n_frames >= meta.clip_frames => {
                    items.push((recording_for(&path), mel));
                    continue;
                }
                Ok(mel) => format!(
                    "too short: {:.2} s of audio, one clip needs {:.2} s ({} frames)",
                    mel.n_frames as f64 * seconds_per_frame,
                    clip_seconds,
                    meta.clip_frames
                ),
                Err(err) => err,
            };
            tracing::error!("{}: {error}", path.display());
            failures.push(Failure { path, error });
        }
        if items.is_empty() {
            continue;
        }
        let order: Vec<PathBuf> = items.iter().map(|(r, _)| r.abs_path.clone()).collect();
        let set = ClipSet::from_features(
            items,
            &meta.classes,
            meta.clip_frames,
            LastClip::Keep,
            seconds_per_frame,
        );
        let predictions = predict(&bundle.model, &set, args.batch_size.get());
        let chunk_results = decide(&order, &predictions);
        bar.suspend(|| -> anyhow::Result<()> {
            match args.format {
                IdentifyFormat::Text => {
                    for r in &chunk_results {
                        stdout.write_all(render_text(r).as_bytes())?;
                    }
                }
                IdentifyFormat::Csv => {
                    let text = render_csv(&chunk_results, !csv_header_written);
                    csv_header_written = true;
                    stdout.write_all(text.as_bytes())?;
                }
                IdentifyFormat::Json => {}
            }
            stdout.flush()?;
            Ok(())
        })
        .context("writing the results to stdout")?;
        results.extend(chunk_results);
    }
    bar.finish_and_clear();
    logging::show_progress_bar(None);

    match args.format {
        IdentifyFormat::Json => {
            let output = Output {
                model: &args.model,
                classes: &meta.classes,
                files: &results,
                failures: &failures,
            };
            let mut json =
                serde_json::to_string_pretty(&output).context("serialising the results")?;
            json.push('\n');
            stdout
                .write_all(json.as_bytes())
                .context("writing the results to stdout")?;
        }
        IdentifyFormat::Csv if !csv_header_written => {
            let text = render_csv(&[], true);
            stdout
                .write_all(text.as_bytes())
                .context("writing the results to stdout")?;
        }
        IdentifyFormat::Csv | IdentifyFormat::Text => {}
    }
    if !failures.is_empty() {
        tracing::error!(
            "{} of {} files could not be identified",
            failures.len(),
            failures.len() + results.len()
        );
    }
    Ok(failures.is_empty())
}

/// The files to identify: each input file as given (whatever its extension: a format the
/// decoder does not know is reported for that file), each folder's audio files recursively,
/// in sorted order. Inputs that do not exist or folders that cannot be read become failures.
fn collect_files(inputs: &[PathBuf], failures: &mut Vec<Failure>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            walk(input, &mut files, failures);
        } else if input.exists() {
            files.push(input.clone());
        } else {
            failures.push(Failure {
                path: input.clone(),
                error: "no such file or folder".into(),
            });
        }
    }
    files
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, failures: &mut Vec<Failure>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            failures.push(Failure {
                path: dir.to_path_buf(),
                error: format!("cannot read the folder: {err}"),
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, files, failures);
        } else if is_audio_path(&path) {
            files.push(path);
        }
    }
}

/// A stand-in recording for a file outside any dataset: no singer (so no label), the file as
/// its own song.
fn recording_for(path: &Path) -> Recording {
    Recording {
        path: path.to_path_buf(),
        abs_path: path.to_path_buf(),
        singer: String::new(),
        album: None,
        song: path.display().to_string(),
        split: None,
    }
}

/// Groups clip predictions by file (in `order`) and applies the paper's vote to each.
fn decide(order: &[PathBuf], p: &Predictions) -> Vec<FileResult> {
    let name = |class: usize| p.classes.get(class).cloned().unwrap_or_default();
    order
        .iter()
        .filter_map(|path| {
            let key = path.display().to_string();
            let clips: Vec<_> = p.clips.iter().filter(|c| c.recording == key).collect();
            let decisions: Vec<ClipPrediction> = clips
                .iter()
                .filter_map(|c| ClipPrediction::from_probs(&c.probs))
                .collect();
            let winner = vote(&decisions)?;
            let confident: Vec<&ClipPrediction> =
                decisions.iter().filter(|d| d.is_confident()).collect();
            let confident_vote = !confident.is_empty();
            let counted: Vec<usize> = if confident_vote {
                confident.iter().map(|d| d.class).collect()
            } else {
                decisions.iter().map(|d| d.class).collect()
            };
            let votes = counted.iter().filter(|&&c| c == winner).count();
            let mut mean = vec![0.0_f32; p.classes.len()];
            for c in &clips {
                for (m, v) in mean.iter_mut().zip(&c.probs) {
                    *m += v / clips.len() as f32;
                }
            }
            let mut ranked: Vec<(usize, f32)> = mean.into_iter().enumerate().collect();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let top = ranked
                .into_iter()
                .take(TOP_K)
                .map(|(class, probability)| Ranked {
                    singer: name(class),
                    probability,
                })
                .collect();
            let clip_lines = clips
                .iter()
                .filter_map(|c| {
                    let d = ClipPrediction::from_probs(&c.probs)?;
                    let start_s = c.start_frame as f64 * p.seconds_per_frame;
                    Some(ClipLine {
                        index: c.clip_index,
                        start_s,
                        end_s: start_s + p.clip_frames as f64 * p.seconds_per_frame,
                        singer: name(d.class),
                        probability: d.confidence,
                    })
                })
                .collect();
            Some(FileResult {
                path: path.clone(),
                singer: name(winner),
                vote_share: votes as f64 / counted.len().max(1) as f64,
                votes,
                counted: counted.len(),
                confident_vote,
                top,
                clips: clip_lines,
            })
        })
        .collect()
}

fn render_text(r: &FileResult) -> String {
    let mut out = format!(
        "{}: {} (vote {}/{} = {:.0} %{})\n",
        r.path.display(),
        r.singer,
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
    out.push_str(&format!("  top {}: {}\n", r.top.len(), top.join(", ")));
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
fn render_csv(results: &[FileResult], header: bool) -> String {
    let mut out = String::new();
    if header {
        out.push_str("path,singer,vote_share,clip_index,start_s,end_s,clip_singer,probability\n");
    }
    for r in results {
        for c in &r.clips {
            let fields = [
                csv_field(&r.path.display().to_string()),
                csv_field(&r.singer),
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

/// A CSV field, quoted (with doubled quotes) when it holds a comma, quote or line break.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

fn progress_bar(len: usize, quiet: bool) -> ProgressBar {
    if quiet || len < 8 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    match ProgressStyle::with_template(
        "{spinner} identify [{elapsed_precise}] {wide_bar} {pos}/{len} files (eta {eta})",
    ) {
        Ok(style) => bar.set_style(style),
        Err(err) => tracing::debug!("default progress style ({err})"),
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
