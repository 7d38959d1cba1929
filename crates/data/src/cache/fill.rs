//! Filling a feature cache for a list of recordings: the one entry point that `features`,
//! `train`, `eval` and `reproduce` share.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use singerid_audio::{FeatureConfig, features_from_file};

use crate::cache::{FeatureCache, Outcome, RecordingOutcome};
use crate::dataset::Recording;
use crate::error::DataError;
use crate::progress::Progress;

/// How long a run waits by default for another run that is filling the same cache folder.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(30 * 60);

/// Where features are cached and how they are computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheOptions {
    /// The cache folder (one per feature config is not needed: files are keyed by config).
    pub dir: PathBuf,
    /// Worker threads for decoding and features (`None`: one per core).
    pub jobs: Option<NonZeroUsize>,
    /// How long to wait for another writer's lock before failing (`Duration::ZERO`: fail at
    /// once).
    pub lock_wait: Duration,
}

impl CacheOptions {
    /// `dir` with one worker per core and the default lock wait.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            jobs: None,
            lock_wait: DEFAULT_LOCK_WAIT,
        }
    }
}

/// Opens (creating if needed) the cache for `config` and computes the features of every
/// recording not yet in it, in parallel, reporting each file to `progress` and each failure as
/// a warning-level log line. Outcomes are in the order of `recordings`.
///
/// # Errors
/// The cache folder cannot be created or locked within [`CacheOptions::lock_wait`], the worker
/// threads cannot start, or the index cannot be written. Per-file problems are
/// [`Outcome::Failed`] outcomes, not errors.
pub fn fill(
    recordings: &[Recording],
    config: &FeatureConfig,
    options: &CacheOptions,
    progress: &dyn Progress,
) -> Result<(FeatureCache, Vec<RecordingOutcome>), DataError> {
    let started = Instant::now();
    let mut told = false;
    let cache = loop {
        match FeatureCache::create(&options.dir, config) {
            Err(DataError::Locked { .. }) if started.elapsed() < options.lock_wait => {
                if !told {
                    tracing::warn!(
                        "{} is being filled by another run; waiting for it to finish",
                        options.dir.display()
                    );
                    told = true;
                }
                std::thread::sleep(Duration::from_secs(2));
            }
            other => break other?,
        }
    };
    tracing::info!(
        out = %options.dir.display(),
        config_id = %cache.identity().id,
        "feature cache ready"
    );
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(jobs) = options.jobs {
        pool = pool.num_threads(jobs.get());
    }
    let pool = pool.build().map_err(|e| DataError::Write {
        path: options.dir.clone(),
        source: std::io::Error::other(format!("cannot start the worker threads: {e}")),
    })?;
    progress.start("features", Some(recordings.len() as u64));
    let outcomes = pool.install(|| {
        cache.extract(recordings, features_from_file, |done| {
            if let Outcome::Failed(err) = &done.outcome {
                tracing::error!("{err}");
            }
            progress.advance(1);
        })
    });
    progress.finish();
    Ok((cache, outcomes?))
}
