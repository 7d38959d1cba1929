//! `singerid features`: fill a feature cache for a dataset and print a summary.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;
use singerid_audio::FeatureConfig;
use singerid_data::{Dataset, DatasetSource, FeatureCache, Outcome, RecordingOutcome};

use crate::args::{CacheArgs, FeatureConfigArgs, GlobalArgs, OutputFormat};
use crate::logging;

#[derive(Debug, clap::Args)]
pub struct FeaturesArgs {
    /// The dataset: a folder holding `<artist>/<album>/<song>.<ext>` (any depth above that is
    /// fine), or a manifest `.csv` with columns `path,singer[,album][,song][,split]` and paths
    /// relative to its folder. Audio: mp3, wav, flac, ogg, oga, m4a, mp4, aac.
    pub input: PathBuf,

    #[command(flatten)]
    pub config: FeatureConfigArgs,

    #[command(flatten)]
    pub cache: CacheArgs,

    /// Summary format on stdout: aligned text, or JSON with the same numbers plus every failure.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// One file that failed, for the JSON summary.
#[derive(Debug, Serialize)]
struct Failure {
    path: Option<PathBuf>,
    error: String,
}

/// What a run did; printed as text or JSON.
#[derive(Debug, Serialize)]
struct Summary {
    input: PathBuf,
    out: PathBuf,
    config_id: String,
    config: FeatureConfig,
    /// Audio files found, including those that could not be listed properly.
    files: usize,
    /// Features computed in this run.
    ok: usize,
    /// Features found in the cache.
    cached: usize,
    failed: usize,
    /// Audio duration of ok + cached files, from their frame counts.
    audio_minutes: f64,
    /// Frames of ok + cached files.
    frames: u64,
    wall_s: f64,
    files_per_s: f64,
    /// Minutes of audio handled per minute of wall time.
    realtime_factor: f64,
    failures: Vec<Failure>,
}

/// Runs the command; `Ok(true)` when every file succeeded.
///
/// # Errors
/// Fatal problems only: an unreadable dataset root or manifest, an invalid config, an
/// unwritable output folder. Bad audio files are counted, not returned.
pub fn run(args: &FeaturesArgs, global: &GlobalArgs) -> anyhow::Result<bool> {
    let started = Instant::now();
    let config = args.config.resolve();
    config.validate()?;
    let dataset = Dataset::open(&args.input)
        .with_context(|| format!("reading the dataset {}", args.input.display()))?;
    if dataset.recordings.is_empty() && dataset.problems.is_empty() {
        bail!(
            "no audio files (mp3, wav, flac, ogg, oga, m4a, mp4, aac) found in {}; \
             expected `<artist>/<album>/<song>.<ext>` or a manifest CSV",
            args.input.display()
        );
    }
    tracing::info!(
        recordings = dataset.recordings.len(),
        singers = dataset.singers().len(),
        source = ?dataset.source,
        "dataset read"
    );
    if let DatasetSource::Tree = dataset.source
        && dataset.root.join("metadata.csv").is_file()
    {
        tracing::info!(
            "{} has a metadata.csv; pass it instead of the folder to use its singers and splits",
            dataset.root.display()
        );
    }
    for problem in &dataset.problems {
        tracing::error!("{problem}");
    }

    let progress = logging::Bar::new(global.quiet, 0);
    let (cache, outcomes) = singerid_data::cache::fill(
        &dataset.recordings,
        &config,
        &args.cache.options(Duration::ZERO),
        &progress,
    )
    .with_context(|| format!("writing features to {}", args.cache.dir.display()))?;

    let summary = summarise(args, &cache, &dataset, &outcomes, started.elapsed());
    super::print_summary(args.format, &summary, || render_text(&summary))?;
    Ok(summary.failed == 0)
}

fn summarise(
    args: &FeaturesArgs,
    cache: &FeatureCache,
    dataset: &Dataset,
    outcomes: &[RecordingOutcome],
    wall: Duration,
) -> Summary {
    let mut ok = 0;
    let mut cached = 0;
    let mut frames = 0_u64;
    let mut audio_s = 0.0;
    let mut failures: Vec<Failure> = dataset
        .problems
        .iter()
        .map(|problem| Failure {
            path: problem.path().map(Path::to_path_buf),
            error: problem.to_string(),
        })
        .collect();
    for done in outcomes {
        let entry = match &done.outcome {
            Outcome::Computed(entry) => {
                ok += 1;
                entry
            }
            Outcome::Cached(entry) => {
                cached += 1;
                entry
            }
            Outcome::Failed(err) => {
                failures.push(Failure {
                    path: Some(dataset.root.join(&done.path)),
                    error: err.to_string(),
                });
                continue;
            }
        };
        frames += entry.n_frames as u64;
        audio_s += entry.duration_s;
    }
    let wall_s = wall.as_secs_f64().max(1e-9);
    let files = outcomes.len() + dataset.problems.len();
    Summary {
        input: args.input.clone(),
        out: cache.dir().to_path_buf(),
        config_id: cache.identity().id.clone(),
        config: *cache.config(),
        files,
        ok,
        cached,
        failed: failures.len(),
        audio_minutes: audio_s / 60.0,
        frames,
        wall_s,
        files_per_s: files as f64 / wall_s,
        realtime_factor: audio_s / wall_s,
        failures,
    }
}

fn render_text(s: &Summary) -> String {
    let status = if s.failed == 0 { "ok" } else { "FAILED" };
    format!(
        "features {status}: {input} -> {out} (config {id}, channel {channel}, {n_mels} mels)\n\
         \x20 files          {files}\n\
         \x20 ok (computed)  {ok}\n\
         \x20 cached         {cached}\n\
         \x20 failed         {failed}\n\
         \x20 audio          {minutes:.1} min\n\
         \x20 frames         {frames}\n\
         \x20 wall time      {wall:.2} s\n\
         \x20 throughput     {per_s:.1} files/s, {rt:.0}x real time\n",
        input = s.input.display(),
        out = s.out.display(),
        id = s.config_id,
        channel = crate::args::json_name(&s.config.channel),
        n_mels = s.config.n_mels,
        files = s.files,
        ok = s.ok,
        cached = s.cached,
        failed = s.failed,
        minutes = s.audio_minutes,
        frames = s.frames,
        wall = s.wall_s,
        per_s = s.files_per_s,
        rt = s.realtime_factor,
    )
}
