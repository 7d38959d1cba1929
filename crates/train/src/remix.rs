//! Remixed training recordings (issue 13): a singer's voice over another singer's
//! accompaniment, separated like every other recording when the run uses a separator.
//!
//! On MIR-1K each song has one accompaniment, so a model can learn "this backing track means
//! this singer" from the mixture, and part of that backing survives separation. Remixing takes
//! each training recording's voice stem (right channel) and puts it over the accompaniment stem
//! (left channel) of a random training recording of *another* singer, with independent random
//! gains (0.25 to 1.25, as the separator's training), `count` times per recording. The
//! accompaniment is repeated when shorter than the voice. The mixture is `g_v R_i / 2 +
//! g_a L_j / 2`, the scale of the dataset's own `(L + R) / 2`.
//!
//! The remixes are cached as mono 32-bit float WAV files at the feature rate under
//! `<cache>/remixed/<separator id or "mixture">/`, each named by a blake3 of everything that
//! makes it (both files' bytes, the gains, the seed and the copy index), so a rerun reuses them
//! and any change makes new ones. Only training recordings are remixed: validation and test
//! stay the dataset's own mixtures.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use singerid_audio::{FeatureConfig, Signal};
use singerid_data::{Progress, Recording};
use singerid_models::separation::Separator;

use crate::error::Error;
use crate::separation::{StemClip, stem_clip};
use crate::trainer::epochs::stream_seed;

/// Gains of each stem are drawn uniformly from this range.
const GAIN: std::ops::RangeInclusive<f32> = 0.25..=1.25;

/// One planned remix: whose voice, whose accompaniment, which gains, and the file it becomes.
#[derive(Debug, Clone)]
struct Plan {
    voice: usize,
    accompaniment: usize,
    voice_gain: f32,
    accompaniment_gain: f32,
    copy: usize,
    out: PathBuf,
}

/// Makes `count` remixes of every recording of `train` (whose `abs_path` must be the stereo
/// stem file) and returns them as extra training recordings: same singer, album and song as
/// the voice, `path` `remix/<copy>/<path>`, `abs_path` the cached WAV (separated when
/// `separator` is given).
///
/// A recording whose singer is the only one in `train` has no other accompaniment and is
/// skipped; so is everything when `count` is 0.
///
/// # Errors
/// [`Error::Experiment`] naming the file for audio that cannot be decoded or is not stereo,
/// or a remix that cannot be separated or written.
pub fn remix_recordings(
    train: &[Recording],
    count: usize,
    seed: u64,
    features: &FeatureConfig,
    separator: Option<&Separator>,
    cache_dir: &Path,
    progress: &dyn Progress,
) -> Result<Vec<Recording>, Error> {
    if count == 0 || train.is_empty() {
        return Ok(Vec::new());
    }
    let experiment = |message: String| Error::Experiment { message };
    let dir = cache_dir
        .join("remixed")
        .join(separator.map_or_else(|| "mixture".to_owned(), Separator::id));
    std::fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
    let hashes: Vec<blake3::Hash> = train
        .par_iter()
        .map(|r| {
            std::fs::read(&r.abs_path)
                .map(|bytes| blake3::hash(&bytes))
                .map_err(|e| experiment(format!("{}: {e}", r.abs_path.display())))
        })
        .collect::<Result<_, _>>()?;

    let mut plans = Vec::new();
    for (i, recording) in train.iter().enumerate() {
        let others: Vec<usize> = (0..train.len())
            .filter(|&j| train[j].singer != recording.singer)
            .collect();
        if others.is_empty() {
            continue;
        }
        for copy in 0..count {
            let mut rng = ChaCha8Rng::seed_from_u64(stream_seed(seed, i, 4 + copy as u64));
            let accompaniment = others[rng.random_range(0..others.len())];
            let voice_gain = rng.random_range(GAIN);
            let accompaniment_gain = rng.random_range(GAIN);
            let mut key = blake3::Hasher::new();
            key.update(hashes[i].as_bytes());
            key.update(hashes[accompaniment].as_bytes());
            key.update(&voice_gain.to_le_bytes());
            key.update(&accompaniment_gain.to_le_bytes());
            key.update(&seed.to_le_bytes());
            key.update(&(copy as u64).to_le_bytes());
            key.update(&features.sample_rate_hz.to_le_bytes());
            let name = format!("{}.wav", &key.finalize().to_hex()[..32]);
            plans.push(Plan {
                voice: i,
                accompaniment,
                voice_gain,
                accompaniment_gain,
                copy,
                out: dir.join(name),
            });
        }
    }

    // Decode only the stems a missing remix needs.
    let mut needed: Vec<usize> = plans
        .iter()
        .filter(|p| !p.out.is_file())
        .flat_map(|p| [p.voice, p.accompaniment])
        .collect();
    needed.sort_unstable();
    needed.dedup();
    let rate = features.sample_rate_hz;
    let stems: HashMap<usize, StemClip> = needed
        .par_iter()
        .map(|&i| Ok((i, stem_clip(&train[i].abs_path, &train[i].path, rate)?)))
        .collect::<Result<_, Error>>()?;

    progress.start("remix", Some(plans.len() as u64));
    let made: Result<Vec<Recording>, Error> = plans
        .par_iter()
        .map(|plan| {
            if !plan.out.is_file() {
                let voice = &stems[&plan.voice].voice;
                let accompaniment = &stems[&plan.accompaniment].accompaniment;
                let mixture = remix(
                    voice,
                    accompaniment,
                    plan.voice_gain,
                    plan.accompaniment_gain,
                );
                let signal = Signal {
                    samples: mixture,
                    sample_rate_hz: rate,
                };
                let audio = &train[plan.voice].abs_path;
                let signal = match separator {
                    Some(separator) => crate::vocals::separate_signal(&signal, separator, audio)
                        .map_err(|e| experiment(e.to_string()))?,
                    None => signal,
                };
                crate::vocals::write_mono_wav(&plan.out, &signal).map_err(experiment)?;
            }
            progress.advance(1);
            let source = &train[plan.voice];
            Ok(Recording {
                path: Path::new("remix")
                    .join(plan.copy.to_string())
                    .join(&source.path),
                abs_path: plan.out.clone(),
                ..source.clone()
            })
        })
        .collect();
    progress.finish();
    made
}

/// `g_v voice + g_a accompaniment`, the accompaniment repeated to the voice's length (silence
/// when it is empty).
fn remix(voice: &[f32], accompaniment: &[f32], g_v: f32, g_a: f32) -> Vec<f32> {
    voice
        .iter()
        .enumerate()
        .map(|(t, &v)| {
            let a = if accompaniment.is_empty() {
                0.0
            } else {
                accompaniment[t % accompaniment.len()]
            };
            g_v * v + g_a * a
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remix_repeats_a_short_accompaniment_and_applies_the_gains() {
        let out = remix(&[1.0, 2.0, 3.0, 4.0, 5.0], &[10.0, 20.0], 0.5, 0.1);
        assert_eq!(out, vec![1.5, 3.0, 2.5, 4.0, 3.5]);
        assert_eq!(remix(&[1.0, 2.0], &[], 2.0, 1.0), vec![2.0, 4.0]);
    }
}
