//! Filling the cache for many recordings at once.
//!
//! Every recording is processed independently, in parallel on the current rayon pool: hash the
//! file, skip it when its feature file exists, otherwise compute the features, check them, write
//! them atomically and append an index line. A bad file (unreadable, undecodable, silent in a
//! way that yields unusable values, vanished since the dataset was listed) and even a panic in
//! the audio code become an [`Outcome::Failed`] for that file alone; the batch always finishes.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use singerid_audio::{AudioError, FeatureConfig, LogMel};

use crate::cache::FeatureCache;
use crate::cache::feature_file::{self, FeatureFileMeta};
use crate::cache::index::IndexEntry;
use crate::cache::key::{ContentHash, FeatureKey};
use crate::dataset::Recording;
use crate::error::DataError;

/// What happened to one recording.
#[derive(Debug)]
pub enum Outcome {
    /// Features were computed and stored.
    Computed(IndexEntry),
    /// Features were already in the cache.
    Cached(IndexEntry),
    /// The recording failed; the error names the file and the reason on one line.
    Failed(DataError),
}

/// A recording's path (relative to its dataset) and what happened to it.
#[derive(Debug)]
pub struct RecordingOutcome {
    /// [`Recording::path`].
    pub path: PathBuf,
    /// The result.
    pub outcome: Outcome,
}

impl FeatureCache {
    /// Makes sure every recording's features are in the cache, computing the missing ones with
    /// `extractor` (normally [`singerid_audio::features_from_file`]) in parallel on the current
    /// rayon pool. `on_done` is called once per recording as soon as it finishes (from worker
    /// threads; use it for progress). Outcomes are returned in the order of `recordings`.
    ///
    /// The index is compacted at the end; if that fails, the error is logged and the appended
    /// index (still complete and readable) is kept.
    ///
    /// # Errors
    /// Only [`DataError::ReadOnly`], when the cache was opened with [`FeatureCache::open`]; every
    /// per-file problem is an [`Outcome::Failed`].
    pub fn extract<E, P>(
        &self,
        recordings: &[Recording],
        extractor: E,
        on_done: P,
    ) -> Result<Vec<RecordingOutcome>, DataError>
    where
        E: Fn(&Path, &FeatureConfig) -> Result<LogMel, AudioError> + Sync,
        P: Fn(&RecordingOutcome) + Sync,
    {
        if !self.is_writable() {
            return Err(DataError::ReadOnly {
                path: self.dir().to_path_buf(),
            });
        }
        let outcomes: Vec<RecordingOutcome> = recordings
            .par_iter()
            .map(|recording| {
                let outcome = RecordingOutcome {
                    path: recording.path.clone(),
                    outcome: self.process_guarded(recording, &extractor),
                };
                on_done(&outcome);
                outcome
            })
            .collect();
        if let Err(err) = self.lock_index().compact() {
            tracing::warn!("could not rewrite the index compactly: {err}");
        }
        Ok(outcomes)
    }

    /// [`FeatureCache::process`] with panics caught and turned into a failure of this file.
    fn process_guarded<E>(&self, recording: &Recording, extractor: &E) -> Outcome
    where
        E: Fn(&Path, &FeatureConfig) -> Result<LogMel, AudioError> + Sync,
    {
        match catch_unwind(AssertUnwindSafe(|| self.process(recording, extractor))) {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(err)) => Outcome::Failed(err),
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic payload".to_owned());
                Outcome::Failed(DataError::Panic {
                    path: recording.abs_path.clone(),
                    message,
                })
            }
        }
    }

    fn process<E>(&self, recording: &Recording, extractor: &E) -> Result<Outcome, DataError>
    where
        E: Fn(&Path, &FeatureConfig) -> Result<LogMel, AudioError> + Sync,
    {
        let source = &recording.abs_path;
        let content = ContentHash::of_file(source)?;
        let key = self.identity.feature_key(&content);
        let file = self.feature_path(&key);

        if file.is_file() {
            match self.cached_shape(recording, &key, &file) {
                Ok((n_mels, n_frames)) => {
                    let entry = self.entry(recording, &key, &content, n_mels, n_frames);
                    self.lock_index().insert(entry.clone())?;
                    return Ok(Outcome::Cached(entry));
                }
                Err(err) => {
                    tracing::warn!("{err}; computing it again");
                }
            }
        }

        let mel = extractor(source, &self.identity.config).map_err(|error| DataError::Audio {
            path: source.clone(),
            error,
        })?;
        check_features(&mel, &self.identity.config, source)?;
        // The key was hashed from one read of the file and the features from another: a file
        // rewritten in between would store features under a key that does not describe them.
        if ContentHash::of_file(source)? != content {
            return Err(DataError::ChangedDuringRead {
                path: source.clone(),
            });
        }
        let meta = FeatureFileMeta {
            key: key.as_str().to_owned(),
            config_id: self.identity.id.clone(),
            config_json: self.identity.canonical_json.clone(),
            algorithm_version: singerid_audio::FEATURE_ALGORITHM_VERSION,
            content_blake3: content.to_string(),
            source_path: source.to_string_lossy().into_owned(),
        };
        let bytes = feature_file::encode(&mel, &meta, source)?;
        feature_file::write_atomic(&file, &bytes)?;
        let entry = self.entry(recording, &key, &content, mel.n_mels, mel.n_frames);
        self.lock_index().insert(entry.clone())?;
        Ok(Outcome::Computed(entry))
    }

    /// The shape of an existing feature file: from the index when it lists this key for this
    /// recording, else by reading the file (which also checks it).
    fn cached_shape(
        &self,
        recording: &Recording,
        key: &FeatureKey,
        file: &Path,
    ) -> Result<(usize, usize), DataError> {
        let source = recording.abs_path.to_string_lossy();
        if let Some(entry) = self.lock_index().get(&self.identity.id, &source)
            && entry.key == key.as_str()
        {
            return Ok((entry.n_mels, entry.n_frames));
        }
        match self.load(key)? {
            Some((mel, _)) => Ok((mel.n_mels, mel.n_frames)),
            None => Err(DataError::CorruptFeatureFile {
                path: file.to_path_buf(),
                reason: "it vanished".to_owned(),
            }),
        }
    }

    fn entry(
        &self,
        recording: &Recording,
        key: &FeatureKey,
        content: &ContentHash,
        n_mels: usize,
        n_frames: usize,
    ) -> IndexEntry {
        let config = &self.identity.config;
        let file = self.feature_file_name(key);
        IndexEntry {
            config_id: self.identity.id.clone(),
            source_path: recording.abs_path.to_string_lossy().into_owned(),
            path: recording.path.to_string_lossy().into_owned(),
            singer: recording.singer.clone(),
            key: key.as_str().to_owned(),
            file: file.to_string_lossy().into_owned(),
            content_blake3: content.to_string(),
            n_mels,
            n_frames,
            duration_s: n_frames.saturating_sub(1) as f64 * config.hop_length as f64
                / f64::from(config.sample_rate_hz),
        }
    }
}

/// Rejects features that must not enter the cache: a wrong band count, a data length that does
/// not match the shape, no frames, or any NaN / infinity.
fn check_features(mel: &LogMel, config: &FeatureConfig, path: &Path) -> Result<(), DataError> {
    let bad = |reason: String| DataError::BadFeatures {
        path: path.to_path_buf(),
        reason,
    };
    if mel.n_mels != config.n_mels {
        return Err(bad(format!(
            "the audio front end returned {} mel bands, the config asks for {}",
            mel.n_mels, config.n_mels
        )));
    }
    if mel.n_frames == 0 {
        return Err(bad("no frames (the audio is empty)".to_owned()));
    }
    if mel.data.len() != mel.n_mels * mel.n_frames {
        return Err(bad(format!(
            "{} values for a {} x {} matrix",
            mel.data.len(),
            mel.n_mels,
            mel.n_frames
        )));
    }
    let non_finite = mel.data.iter().filter(|v| !v.is_finite()).count();
    if non_finite > 0 {
        return Err(bad(format!(
            "{non_finite} of {} feature values are NaN or infinite",
            mel.data.len()
        )));
    }
    Ok(())
}
