//! The vocal source of an experiment (issue 13): the feature config's channel of each file
//! (the mixture, or a stem channel such as MIR-1K's right = voice), or the voice separated
//! from the channel mix by a [`Separator`].
//!
//! Separated audio is cached as mono 32-bit float WAV files at the feature rate,
//! content-addressed: `<cache>/separated/<separator id>/<blake3 of the audio file>.wav`, so
//! a changed file or another separator never reuses old audio, and the feature cache (keyed by
//! audio bytes) then works unchanged on the separated files. A model trained on separated
//! vocals carries its separator inside its bundle (`separator/`), and `eval` and `identify`
//! replay the same pipeline from it.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use singerid_audio::{Channel, FeatureConfig, LogMel, load, log_mel};
use singerid_data::{Progress, Recording};
use singerid_models::separation::Separator;

/// The separator a model's vocals came from, as recorded in its bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeparatorRecord {
    /// [`Separator::id`] of the weights.
    pub id: String,
    /// The folder it was loaded from when the model was trained (informative; the bundle holds
    /// its own copy in `separator/`).
    pub source: PathBuf,
}

/// Replaces each recording's `abs_path` by its separated vocals, separating (in parallel) those
/// not cached yet. Returns one message per recording that could not be separated (its path is
/// left as it was, so the feature step reports it again or uses the mixture: the caller drops
/// it).
pub fn separate_recordings(
    recordings: &mut [Recording],
    separator: &Separator,
    features: &FeatureConfig,
    cache_dir: &Path,
    progress: &dyn Progress,
) -> Vec<(usize, String)> {
    let dir = cache_dir.join("separated").join(separator.id());
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return (0..recordings.len())
            .map(|i| (i, format!("{}: {e}", dir.display())))
            .collect();
    }
    progress.start("separate", Some(recordings.len() as u64));
    let results: Vec<Result<PathBuf, String>> = recordings
        .par_iter()
        .map(|recording| {
            let result = separated_file(&recording.abs_path, separator, features, &dir);
            progress.advance(1);
            result
        })
        .collect();
    progress.finish();
    let mut problems = Vec::new();
    for (i, (recording, result)) in recordings.iter_mut().zip(results).enumerate() {
        match result {
            Ok(path) => recording.abs_path = path,
            Err(e) => problems.push((i, e)),
        }
    }
    problems
}

fn separated_file(
    audio: &Path,
    separator: &Separator,
    features: &FeatureConfig,
    dir: &Path,
) -> Result<PathBuf, String> {
    let bytes = std::fs::read(audio).map_err(|e| format!("{}: {e}", audio.display()))?;
    let out = dir.join(format!("{}.wav", &blake3::hash(&bytes).to_hex()[..32]));
    if out.is_file() {
        return Ok(out);
    }
    let vocals = separated_signal(audio, separator, features).map_err(|e| e.to_string())?;
    write_mono_wav(&out, &vocals)?;
    Ok(out)
}

/// Writes `signal` to `out` as mono 32-bit float WAV through a temporary file in the same
/// folder, so that a cache never holds a half-written file.
pub(crate) fn write_mono_wav(out: &Path, signal: &singerid_audio::Signal) -> Result<(), String> {
    let dir = out.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        out.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    singerid_audio::wav::write_wav(&tmp, &[&signal.samples], signal.sample_rate_hz)
        .map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, out).map_err(|e| format!("{}: {e}", out.display()))
}

/// The separated vocals of `audio`'s channel mix at the feature rate.
///
/// # Errors
/// Decoding errors naming the file; a resampling failure.
pub fn separated_signal(
    audio: &Path,
    separator: &Separator,
    features: &FeatureConfig,
) -> Result<singerid_audio::Signal, singerid_audio::AudioError> {
    let signal = load(audio, &mix_of(features))?;
    separate_signal(&signal, separator, audio)
}

/// `features` with the channel mix: what a separator is given.
pub fn mix_of(features: &FeatureConfig) -> FeatureConfig {
    FeatureConfig {
        channel: Channel::Mix,
        ..*features
    }
}

/// The separated vocals of a loaded signal (`audio` names it in errors).
///
/// # Errors
/// A resampling failure.
pub fn separate_signal(
    signal: &singerid_audio::Signal,
    separator: &Separator,
    audio: &Path,
) -> Result<singerid_audio::Signal, singerid_audio::AudioError> {
    let stems = separator
        .separate_at(&signal.samples, signal.sample_rate_hz)
        .map_err(|message| singerid_audio::AudioError::Io {
            path: audio.to_owned(),
            source: std::io::Error::other(message),
        })?;
    Ok(singerid_audio::Signal {
        samples: stems.vocals,
        sample_rate_hz: signal.sample_rate_hz,
    })
}

/// Log-mel features of the separated vocals of `audio` (what `identify` computes for a model
/// trained on separated vocals).
///
/// # Errors
/// As [`separated_signal`] and [`log_mel`].
pub fn separated_features(
    audio: &Path,
    separator: &Separator,
    features: &FeatureConfig,
) -> Result<LogMel, singerid_audio::AudioError> {
    log_mel(&separated_signal(audio, separator, features)?, features)
}

/// A separator folder, or the `best/` separator of a `train-separator` run folder.
pub fn resolve_separator_dir(dir: &Path) -> PathBuf {
    let file = singerid_models::separation::separator::SEPARATOR_FILE;
    if !dir.join(file).exists() && dir.join("best").join(file).exists() {
        dir.join("best")
    } else {
        dir.to_owned()
    }
}

/// Loads a separator folder (or a run folder's `best/`) on the CPU; returns it with the
/// folder used.
///
/// # Errors
/// [`crate::Error::Experiment`] saying the folder is not a separator.
pub fn load_separator(dir: &Path) -> Result<(Separator, PathBuf), crate::Error> {
    let dir = resolve_separator_dir(dir);
    let separator = Separator::load(&dir, &burn::tensor::Device::default()).map_err(|e| {
        crate::Error::Experiment {
            message: format!(
                "{}: not a separator ({e}); pass a folder written by `singerid train-separator`",
                dir.display()
            ),
        }
    })?;
    Ok((separator, dir))
}
