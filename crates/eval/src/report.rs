//! Evaluation reports: a folder a person can open and a script can read.
//!
//! [`write_report`] writes, into one folder:
//!
//! | file | content |
//! |---|---|
//! | `report.md` | what was evaluated (model, parameters, features, data, command), frame and song tables, per-class table, unknown singers, the images |
//! | `report.json` | the same numbers; `frame` and `song` objects with `accuracy`, `macro_f1`, `weighted_f1`, per-class scores and the confusion matrix; sorted keys |
//! | `predictions.csv` | one row per clip: `recording, song, singer, clip_index, start_s, predicted, confidence` |
//! | `confusion_frame.png`, `confusion_song.png` | row-normalised confusion matrices |
//! | `tsne.png`, `tsne.csv` | a 2-D t-SNE map of the clip embeddings coloured by singer, and its coordinates |
//! | `learning_curve.png` | when [`RunInfo::learning_curve`] is given |

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use singerid_audio::FeatureConfig;
use singerid_data::clip::LastClip;

use crate::Error;
use crate::evaluate::{Evaluation, LevelScores, UnknownSinger};
use crate::metrics::Averages;
use crate::plot;
use crate::predictions::Predictions;
use crate::tsne::{MAX_POINTS_DEFAULT, TsneConfig, effective_perplexity, tsne};
use crate::vote::ClipDecision;

/// One epoch of a learning curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Epoch number (1-based by convention).
    pub epoch: usize,
    /// Mean training loss over the epoch.
    pub train_loss: f64,
    /// Training clip accuracy over the epoch.
    pub train_accuracy: f64,
    /// Validation loss after the epoch.
    pub val_loss: f64,
    /// Validation frame-level weighted F1 after the epoch.
    pub val_weighted_f1: f64,
}

/// What was evaluated and how: the context printed at the top of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Model name, e.g. `crnn` or `crnn_fgnl`.
    pub model: String,
    /// Number of trainable parameters.
    pub params: usize,
    /// The feature config the clips were computed with.
    pub features: FeatureConfig,
    /// Clip length in frames.
    pub clip_frames: usize,
    /// Whether the last full clip of each recording was dropped.
    pub last_clip: LastClip,
    /// The data evaluated, e.g. `"../shared/data/mir1k/metadata.csv, split test (200 recordings)"`.
    pub data: String,
    /// The checkpoint or bundle folder the model came from.
    pub checkpoint: Option<PathBuf>,
    /// The command line that produced the report.
    pub command: String,
    /// Free notes, one paragraph each.
    pub notes: Vec<String>,
    /// Per-epoch training history, drawn and tabulated when present.
    pub learning_curve: Option<Vec<CurvePoint>>,
}

/// The files [`write_report`] wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportFiles {
    /// `report.md`.
    pub markdown: PathBuf,
    /// `report.json`.
    pub json: PathBuf,
    /// `predictions.csv`.
    pub predictions_csv: PathBuf,
    /// `confusion_frame.png`.
    pub confusion_frame: PathBuf,
    /// `confusion_song.png`.
    pub confusion_song: PathBuf,
    /// `tsne.png`, unless fewer than two clips had a usable embedding.
    pub tsne_png: Option<PathBuf>,
    /// `tsne.csv`, unless fewer than two clips had a usable embedding.
    pub tsne_csv: Option<PathBuf>,
    /// `learning_curve.png`, when the run info holds a non-empty curve.
    pub learning_curve: Option<PathBuf>,
}

/// The seed of the report's t-SNE map.
pub const TSNE_SEED: u64 = 0;

/// Per-class scores with the class name, for `report.json`.
#[derive(Debug, Serialize)]
struct NamedScores<'a> {
    singer: &'a str,
    precision: f64,
    recall: f64,
    f1: f64,
    support: u64,
}

/// One level (frame or song) in `report.json`.
#[derive(Debug, Serialize)]
struct LevelJson<'a> {
    n_samples: u64,
    accuracy: f64,
    macro_f1: f64,
    weighted_f1: f64,
    macro_avg: Averages,
    weighted_avg: Averages,
    per_class: Vec<NamedScores<'a>>,
    /// Counts, rows = true class, columns = predicted class, in `classes` order.
    confusion: Vec<Vec<u64>>,
}

impl<'a> LevelJson<'a> {
    fn new(level: &LevelScores, classes: &'a [String]) -> Self {
        Self {
            n_samples: level.n_samples,
            accuracy: level.accuracy,
            macro_f1: level.macro_f1,
            weighted_f1: level.weighted_f1,
            macro_avg: level.report.macro_avg,
            weighted_avg: level.report.weighted_avg,
            per_class: level
                .report
                .per_class
                .iter()
                .map(|s| NamedScores {
                    singer: classes.get(s.class).map_or("?", String::as_str),
                    precision: s.precision,
                    recall: s.recall,
                    f1: s.f1,
                    support: s.support,
                })
                .collect(),
            confusion: (0..level.confusion.n_classes())
                .map(|t| {
                    level
                        .confusion
                        .row(t)
                        .map(<[u64]>::to_vec)
                        .unwrap_or_default()
                })
                .collect(),
        }
    }
}

/// `report.json`.
#[derive(Debug, Serialize)]
struct ReportJson<'a> {
    model: &'a str,
    params: usize,
    features: &'a FeatureConfig,
    clip_frames: usize,
    last_clip: LastClip,
    data: &'a str,
    checkpoint: Option<&'a Path>,
    command: &'a str,
    notes: &'a [String],
    classes: &'a [String],
    clips: usize,
    songs: usize,
    frame: LevelJson<'a>,
    song: LevelJson<'a>,
    unusable_clips: usize,
    unknown_clips: usize,
    unknown_songs: usize,
    unknown_singers: &'a [UnknownSinger],
    /// 95 % intervals by bootstrap over songs.
    intervals: Option<&'a crate::bootstrap::Intervals>,
    learning_curve: Option<&'a [CurvePoint]>,
    tsne: Option<TsneJson>,
    files: &'a ReportFiles,
}

/// How the t-SNE map was made.
#[derive(Debug, Clone, Serialize)]
struct TsneJson {
    points: usize,
    /// Clips left out: non-finite or empty embeddings.
    unusable: usize,
    /// Clips left out to stay under the point cap (every k-th clip is kept).
    subsampled_out: usize,
    perplexity: f64,
    iterations: usize,
    seed: u64,
}

fn csv_error(path: &Path, err: csv::Error) -> Error {
    Error::Io {
        path: path.to_owned(),
        source: std::io::Error::other(err.to_string()),
    }
}

/// Writes the report files (see the module doc) into `dir`, creating it if needed.
///
/// # Parameters
///
/// - `eval`: the scores of `predictions` ([`crate::evaluate::evaluate`]).
/// - `predictions`: the clip predictions, for `predictions.csv` and the t-SNE map.
/// - `info`: what was evaluated.
///
/// # Errors
///
/// [`Error::Io`] naming the file that could not be written; [`Error::LengthMismatch`] if
/// `eval` and `predictions` disagree on the classes.
pub fn write_report(
    dir: &Path,
    eval: &Evaluation,
    predictions: &Predictions,
    info: &RunInfo,
) -> Result<ReportFiles, Error> {
    if eval.classes.len() != predictions.classes.len() {
        return Err(Error::LengthMismatch {
            what: "evaluation classes vs prediction classes",
            left: eval.classes.len(),
            right: predictions.classes.len(),
        });
    }
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let classes = &eval.classes;

    let predictions_csv = dir.join("predictions.csv");
    write_predictions_csv(&predictions_csv, predictions)?;

    let confusion_frame = dir.join("confusion_frame.png");
    plot::confusion_png(
        &confusion_frame,
        &format!(
            "Frame level (clips): row-normalised confusion, n = {}",
            eval.frame.n_samples
        ),
        classes,
        &eval.frame.confusion.row_normalized(),
    )?;
    let confusion_song = dir.join("confusion_song.png");
    plot::confusion_png(
        &confusion_song,
        &format!(
            "Song level (vote): row-normalised confusion, n = {}",
            eval.song.n_samples
        ),
        classes,
        &eval.song.confusion.row_normalized(),
    )?;

    let (tsne_png, tsne_csv, tsne_info) = write_tsne(dir, predictions)?;

    let learning_curve = match info.learning_curve.as_deref() {
        Some(curve) if !curve.is_empty() => {
            let path = dir.join("learning_curve.png");
            plot::learning_curve_png(&path, curve)?;
            Some(path)
        }
        _ => None,
    };

    let files = ReportFiles {
        markdown: dir.join("report.md"),
        json: dir.join("report.json"),
        predictions_csv,
        confusion_frame,
        confusion_song,
        tsne_png,
        tsne_csv,
        learning_curve,
    };

    let songs = predictions
        .clips
        .iter()
        .map(|c| c.song.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let json = ReportJson {
        model: &info.model,
        params: info.params,
        features: &info.features,
        clip_frames: info.clip_frames,
        last_clip: info.last_clip,
        data: &info.data,
        checkpoint: info.checkpoint.as_deref(),
        command: &info.command,
        notes: &info.notes,
        classes,
        clips: predictions.clips.len(),
        songs,
        frame: LevelJson::new(&eval.frame, classes),
        song: LevelJson::new(&eval.song, classes),
        unusable_clips: eval.unusable_clips,
        unknown_clips: eval.unknown_clips,
        unknown_songs: eval.unknown_songs,
        unknown_singers: &eval.unknown,
        intervals: eval.intervals.as_ref(),
        learning_curve: info.learning_curve.as_deref(),
        tsne: tsne_info.clone(),
        files: &files,
    };
    // Through `Value` (a sorted map) so that keys come out in a stable, sorted order.
    let value = serde_json::to_value(&json).map_err(|e| Error::Json {
        path: files.json.clone(),
        message: e.to_string(),
    })?;
    let text = serde_json::to_string_pretty(&value).map_err(|e| Error::Json {
        path: files.json.clone(),
        message: e.to_string(),
    })?;
    std::fs::write(&files.json, text + "\n").map_err(Error::io(&files.json))?;

    let markdown = render_markdown(eval, predictions, info, &files, tsne_info.as_ref(), songs);
    std::fs::write(&files.markdown, markdown).map_err(Error::io(&files.markdown))?;
    Ok(files)
}

/// `predictions.csv`: one row per clip.
fn write_predictions_csv(path: &Path, p: &Predictions) -> Result<(), Error> {
    let mut out = csv::Writer::from_path(path).map_err(|e| csv_error(path, e))?;
    out.write_record([
        "recording",
        "song",
        "singer",
        "clip_index",
        "start_s",
        "predicted",
        "confidence",
    ])
    .map_err(|e| csv_error(path, e))?;
    for clip in &p.clips {
        let decision = ClipDecision::from_probs(&clip.probs);
        let predicted = decision
            .and_then(|d| p.classes.get(d.class))
            .map_or("", String::as_str);
        let confidence = decision.map_or_else(String::new, |d| format!("{:.6}", d.confidence));
        let start_s = clip.start_frame as f64 * p.seconds_per_frame;
        out.write_record([
            clip.recording.as_str(),
            clip.song.as_str(),
            clip.singer.as_str(),
            &clip.clip_index.to_string(),
            &format!("{start_s:.3}"),
            predicted,
            &confidence,
        ])
        .map_err(|e| csv_error(path, e))?;
    }
    out.flush().map_err(Error::io(path))
}

/// The t-SNE map of the clips' embeddings: `tsne.png` and `tsne.csv`, or nothing when fewer
/// than two clips have a usable (non-empty, finite, equal-length) embedding.
#[allow(clippy::type_complexity, reason = "a private helper's three outputs")]
fn write_tsne(
    dir: &Path,
    p: &Predictions,
) -> Result<(Option<PathBuf>, Option<PathBuf>, Option<TsneJson>), Error> {
    let dim = p.clips.iter().map(|c| c.embedding.len()).max().unwrap_or(0);
    let usable: Vec<_> = p
        .clips
        .iter()
        .filter(|c| {
            dim > 0 && c.embedding.len() == dim && c.embedding.iter().all(|v| v.is_finite())
        })
        .collect();
    let unusable = p.clips.len() - usable.len();
    let stride = usable.len().div_ceil(MAX_POINTS_DEFAULT).max(1);
    let kept: Vec<_> = usable.iter().step_by(stride).copied().collect();
    if kept.len() < 2 {
        return Ok((None, None, None));
    }
    let config = TsneConfig {
        seed: TSNE_SEED,
        ..TsneConfig::default()
    };
    let points: Vec<Vec<f32>> = kept.iter().map(|c| c.embedding.clone()).collect();
    let map = tsne(&points, &config)?;

    let singers: Vec<String> = kept
        .iter()
        .map(|c| c.singer.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let index: BTreeMap<&str, usize> = singers
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let groups: Vec<usize> = kept.iter().map(|c| index[c.singer.as_str()]).collect();

    let csv_path = dir.join("tsne.csv");
    let mut out = csv::Writer::from_path(&csv_path).map_err(|e| csv_error(&csv_path, e))?;
    out.write_record(["recording", "clip_index", "singer", "x", "y"])
        .map_err(|e| csv_error(&csv_path, e))?;
    for (clip, xy) in kept.iter().zip(&map) {
        out.write_record([
            clip.recording.as_str(),
            &clip.clip_index.to_string(),
            clip.singer.as_str(),
            &format!("{:.6}", xy[0]),
            &format!("{:.6}", xy[1]),
        ])
        .map_err(|e| csv_error(&csv_path, e))?;
    }
    out.flush().map_err(Error::io(&csv_path))?;

    let png_path = dir.join("tsne.png");
    plot::scatter_png(
        &png_path,
        &format!("t-SNE of clip embeddings ({} clips)", kept.len()),
        &map,
        &groups,
        &singers,
    )?;
    let info = TsneJson {
        points: kept.len(),
        unusable,
        subsampled_out: usable.len() - kept.len(),
        perplexity: effective_perplexity(config.perplexity, kept.len()),
        iterations: config.iterations,
        seed: config.seed,
    };
    Ok((Some(png_path), Some(csv_path), Some(info)))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

fn pct(x: f64) -> String {
    format!("{:.2} %", 100.0 * x)
}

/// `report.md`.
fn render_markdown(
    eval: &Evaluation,
    p: &Predictions,
    info: &RunInfo,
    files: &ReportFiles,
    tsne: Option<&TsneJson>,
    songs: usize,
) -> String {
    let mut md = String::new();
    let f = &info.features;
    let _ = writeln!(md, "# Evaluation of `{}`\n", info.model);
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(md, "| model | `{}` |", info.model);
    let _ = writeln!(md, "| parameters | {} |", info.params);
    if let Some(checkpoint) = &info.checkpoint {
        let _ = writeln!(md, "| checkpoint | `{}` |", checkpoint.display());
    }
    let _ = writeln!(md, "| data | {} |", info.data);
    let _ = writeln!(
        md,
        "| clips | {} clips of {} frames ({:.2} s), last clip {}; {} songs |",
        p.clips.len(),
        info.clip_frames,
        info.clip_frames as f64 * p.seconds_per_frame,
        match info.last_clip {
            LastClip::Keep => "kept",
            LastClip::Drop => "dropped",
        },
        songs
    );
    let _ = writeln!(
        md,
        "| features | {} Hz, n_fft {}, hop {}, {} mels ({:?} scale, {:?} norm), fmin {} Hz, fmax {}, {}, top_db {}, channel {}, pad {} |",
        f.sample_rate_hz,
        f.n_fft,
        f.hop_length,
        f.n_mels,
        f.mel_scale,
        f.mel_norm,
        f.fmin_hz,
        f.fmax_hz
            .map_or_else(|| "Nyquist".to_owned(), |v| format!("{v} Hz")),
        json_name(&f.db),
        f.top_db
            .map_or_else(|| "none".to_owned(), |v| format!("{v} dB")),
        json_name(&f.channel),
        json_name(&f.pad_mode),
    );
    let _ = writeln!(
        md,
        "| singers known to the model | {} |",
        eval.classes.len()
    );
    let _ = writeln!(md, "| command | `{}` |\n", info.command.replace('|', "\\|"));
    for note in &info.notes {
        let _ = writeln!(md, "{note}\n");
    }

    let _ = writeln!(md, "## Scores\n");
    let _ = writeln!(
        md,
        "Frame level: every clip is a sample, predicted by its argmax. Song level: every song is \
         a sample, predicted by the vote of its clips (only clips with top probability > 0.5 \
         vote; all clips when none does; ties to the lowest class). Weighted F1 is the FGNL \
         paper's F1.\n"
    );
    let _ = writeln!(
        md,
        "| level | samples | accuracy | macro F1 | weighted F1 |\n|---|---:|---:|---:|---:|"
    );
    for (name, level) in [("frame", &eval.frame), ("song", &eval.song)] {
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {:.4} | {:.4} |",
            level.n_samples,
            pct(level.accuracy),
            level.macro_f1,
            level.weighted_f1
        );
    }
    md.push('\n');
    if let Some(ci) = &eval.intervals {
        let range = |i: crate::bootstrap::Interval| format!("{:.4} to {:.4}", i.low, i.high);
        let _ = writeln!(
            md,
            "{:.0} % intervals by bootstrap over the {} songs ({} resamples; the clips of a \
             song are resampled together; none for macro F1, which resampling biases when \
             singers have one or two songs):\n\n\
             | level | accuracy | weighted F1 |\n|---|---|---|\n\
             | frame | {} | {} |\n| song | {} | {} |\n",
            100.0 * ci.level,
            ci.songs,
            ci.resamples,
            range(ci.frame_accuracy),
            range(ci.frame_weighted_f1),
            range(ci.song_accuracy),
            range(ci.song_weighted_f1),
        );
    }
    if eval.unusable_clips > 0 {
        let _ = writeln!(
            md,
            "**{} clips had no usable prediction (NaN probabilities)**; they are scored as wrong.\n",
            eval.unusable_clips
        );
    }

    let _ = writeln!(md, "## Per singer\n");
    let _ = writeln!(
        md,
        "| singer | frame P | frame R | frame F1 | clips | song P | song R | song F1 | songs |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for (class, name) in eval.classes.iter().enumerate() {
        let frame = eval.frame.confusion.class_scores(class);
        let song = eval.song.confusion.class_scores(class);
        let _ = writeln!(
            md,
            "| {name} | {:.3} | {:.3} | {:.3} | {} | {:.3} | {:.3} | {:.3} | {} |",
            frame.precision,
            frame.recall,
            frame.f1,
            frame.support,
            song.precision,
            song.recall,
            song.f1,
            song.support
        );
    }
    md.push('\n');

    let _ = writeln!(md, "## Singers the model does not know\n");
    if eval.unknown.is_empty() {
        let _ = writeln!(md, "None: every clip belongs to a singer of the model.\n");
    } else {
        let _ = writeln!(
            md,
            "{} clips in {} songs are not scored. How their songs were voted:\n",
            eval.unknown_clips, eval.unknown_songs
        );
        let _ = writeln!(
            md,
            "| singer | clips | songs | songs voted as |\n|---|---:|---:|---|"
        );
        for u in &eval.unknown {
            let votes: Vec<String> = u
                .song_votes
                .iter()
                .map(|(name, n)| format!("{name} ({n})"))
                .collect();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                u.singer,
                u.clips,
                u.songs,
                votes.join(", ")
            );
        }
        md.push('\n');
    }

    let _ = writeln!(md, "## Confusion matrices\n");
    let _ = writeln!(
        md,
        "Rows: true singer; columns: predicted singer; each row divided by its count.\n"
    );
    let _ = writeln!(
        md,
        "![frame-level confusion]({})\n\n![song-level confusion]({})\n",
        file_name(&files.confusion_frame),
        file_name(&files.confusion_song)
    );

    let _ = writeln!(md, "## Embeddings\n");
    match (tsne, &files.tsne_png) {
        (Some(t), Some(png)) => {
            let _ = writeln!(
                md,
                "Exact t-SNE of {} clip embeddings (perplexity {:.1}, {} iterations, seed {}), \
                 coloured by singer; coordinates in `tsne.csv`.{}{}\n",
                t.points,
                t.perplexity,
                t.iterations,
                t.seed,
                if t.subsampled_out > 0 {
                    format!(
                        " {} clips left out (every k-th clip kept).",
                        t.subsampled_out
                    )
                } else {
                    String::new()
                },
                if t.unusable > 0 {
                    format!(" {} clips without a finite embedding left out.", t.unusable)
                } else {
                    String::new()
                },
            );
            let _ = writeln!(md, "![t-SNE]({})\n", file_name(png));
        }
        _ => {
            let _ = writeln!(
                md,
                "No map: fewer than two clips have a usable embedding.\n"
            );
        }
    }

    if let (Some(curve), Some(png)) = (&info.learning_curve, &files.learning_curve) {
        let _ = writeln!(md, "## Learning curve\n");
        let _ = writeln!(md, "![learning curve]({})\n", file_name(png));
        let _ = writeln!(
            md,
            "| epoch | train loss | train accuracy | val loss | val weighted F1 |\n|---:|---:|---:|---:|---:|"
        );
        for c in curve {
            let _ = writeln!(
                md,
                "| {} | {:.4} | {:.4} | {:.4} | {:.4} |",
                c.epoch, c.train_loss, c.train_accuracy, c.val_loss, c.val_weighted_f1
            );
        }
        md.push('\n');
    }
    let _ = writeln!(
        md,
        "Files: `report.json` (all numbers), `predictions.csv` (one row per clip)."
    );
    md
}

/// The name serde gives an enum value (what `report.json` holds), e.g. `fgnl_db`.
fn json_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        Ok(other) => other.to_string(),
        Err(err) => format!("<{err}>"),
    }
}
