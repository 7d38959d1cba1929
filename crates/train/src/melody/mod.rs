//! The melody input of the CRNNM models (issue 14): the FGNL authors' one-hot melody contour,
//! computed by CREPE on the same vocal source as the log-mel branch, cached, recorded in the
//! run and the model bundle, and replayed by `eval` and `identify`.
//!
//! - [`pitch_track`]: a 16 kHz signal -> CREPE frames -> activations -> decoded [`PitchTrack`]
//!   (also what `singerid melody` writes as CSV and pictures, in `singerid-infer`).
//! - [`MelodyOptions`]: the settings of a track (hop, decoder, pitch range) and of its outputs.
//! - [`cache`]: tracks stored once per recording, vocal source, CREPE weights and settings.
//! - [`MelodyExtractor`]: a loaded CREPE with the authors' settings ([`MelodyOptions::authors`],
//!   whose 512-sample hop at 16 kHz is the log-mel's, so contour frame `t` is mel frame `t`),
//!   turning recordings or signals into per-frame contour bins
//!   ([`singerid_models::pitch::contour_bins`]) that [`crate::ClipSet::attach_melody`] holds and
//!   batches as the `[batch, 1, 128, frames]` one-hot input.
//! - [`MelodyRecord`]: which CREPE weights and settings a model was trained with (in
//!   `train.json` and `singerid.json`); a bundle loads the same weights again or refuses.

pub mod cache;

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use singerid_audio::{Channel, FeatureConfig, Signal, load};
use singerid_data::{Progress, Recording};
use singerid_models::pitch::decode::{Decoder, PitchRange, PitchTrack, decode};
use singerid_models::pitch::frames::frame;
use singerid_models::pitch::melody::{MELODY_BINS, MELODY_HOP_LENGTH, contour_bins};
use singerid_models::pitch::{Crepe, SAMPLE_RATE_HZ, WINDOW_SIZE, load_crepe};

pub use cache::{MelodyCache, TrackSource};

use crate::Error;

/// Frames per network call: the CREPE package's `batch_size` default (the full model unrolls
/// about 34 MB per frame, so about 1 GB per call).
pub const CREPE_BATCH_SIZE: usize = 32;

/// How a melody is extracted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MelodyOptions {
    /// Samples between CREPE frames at 16 kHz, > 0 (default 160: 10 ms; the authors' 512).
    pub hop_length: usize,
    /// How activations become f0 (default the CREPE package's Viterbi).
    pub decoder: Decoder,
    /// Bins decoding may choose (default: all, as the CREPE package; torchcrepe's decoders
    /// conventionally use `PitchRange::default()`, 50-2006 Hz).
    pub range: PitchRange,
    /// Frames whose confidence is below this get f0 = 0 in the CSV (default 0.5). The contour
    /// ignores it, as the authors' code does.
    pub voicing_threshold: f32,
    /// Frames per network call (default [`CREPE_BATCH_SIZE`]).
    pub batch_size: usize,
    /// Also write `<stem>.contour.csv`, the authors' one-hot contour's row per frame.
    pub contour: bool,
}

impl Default for MelodyOptions {
    fn default() -> Self {
        Self {
            hop_length: hop_for_step_ms(10.0).unwrap_or(160),
            decoder: Decoder::CrepeViterbi,
            range: PitchRange::all(),
            voicing_threshold: 0.5,
            batch_size: CREPE_BATCH_SIZE,
            contour: false,
        }
    }
}

impl MelodyOptions {
    /// The FGNL authors' recipe (with CREPE `full`): a 32 ms step, the CREPE package's Viterbi
    /// over all bins, and the contour written.
    pub fn authors() -> Self {
        Self {
            hop_length: MELODY_HOP_LENGTH,
            decoder: Decoder::CrepeViterbi,
            range: PitchRange::all(),
            contour: true,
            ..Self::default()
        }
    }

    /// Seconds between frames.
    pub fn step_s(&self) -> f64 {
        self.hop_length as f64 / f64::from(SAMPLE_RATE_HZ)
    }
}

/// The hop at 16 kHz for a step in milliseconds, as the CREPE package computes it:
/// `int(16000 * step_ms / 1000)` (32 ms -> 512).
///
/// # Errors
/// [`Error::Melody`] for a step that is not finite or gives no sample.
pub fn hop_for_step_ms(step_ms: f64) -> Result<usize, Error> {
    let hop = f64::from(SAMPLE_RATE_HZ) * step_ms / 1000.0;
    if !hop.is_finite() || hop < 1.0 {
        return Err(Error::Melody(format!(
            "a step of {step_ms} ms is less than one sample at {SAMPLE_RATE_HZ} Hz"
        )));
    }
    Ok(hop as usize)
}

/// The pitch track of a 16 kHz mono signal: centred CREPE frames every
/// `options.hop_length` samples (`1 + len / hop` of them), the network in batches of
/// `options.batch_size` (`progress` counts frames), then `options.decoder`.
///
/// # Errors
/// [`Error::Melody`] for a signal not at 16 kHz or an invalid option.
pub fn pitch_track(
    crepe: &Crepe,
    signal: &Signal,
    options: &MelodyOptions,
    device: &Device,
    progress: &dyn Progress,
    what: &str,
) -> Result<PitchTrack, Error> {
    if signal.sample_rate_hz != SAMPLE_RATE_HZ {
        return Err(Error::Melody(format!(
            "CREPE takes {SAMPLE_RATE_HZ} Hz audio, not {} Hz",
            signal.sample_rate_hz
        )));
    }
    let invalid = |e: singerid_models::ModelError| Error::Melody(e.to_string());
    let frames = frame(&signal.samples, options.hop_length, true).map_err(invalid)?;
    let count = frames.len() / WINDOW_SIZE;
    progress.start(what, Some(count as u64));
    let activations = crepe.activations(&frames, options.batch_size.max(1), device, |n| {
        progress.advance(n as u64)
    }); // [count · 360]
    progress.finish();
    decode(&activations, &options.range, options.decoder).map_err(invalid)
}

/// The melody a model was trained with: which CREPE weights, from where, and the settings of
/// the track. Recorded in `train.json` (part of the run's identity) and `singerid.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MelodyRecord {
    /// The blake3 hash of the CREPE weights (`model.safetensors`).
    pub crepe_id: String,
    /// The CREPE folder the weights were loaded from (a bundle loads them from there again,
    /// or from `models/<its name>` of the working folder, and checks the hash).
    pub crepe_source: PathBuf,
    /// Samples between CREPE frames at 16 kHz (the authors' 512, the log-mel's hop).
    pub hop_length: usize,
    /// How activations became f0.
    pub decoder: Decoder,
    /// Bins decoding could choose.
    pub range: PitchRange,
}

/// A CREPE network and the settings of a model's melody input; see the module docs.
#[derive(Debug)]
pub struct MelodyExtractor {
    crepe: Crepe,
    record: MelodyRecord,
    device: Device,
}

impl MelodyExtractor {
    /// CREPE from `crepe_dir` (a folder with `crepe.json` and `model.safetensors`) with the
    /// authors' settings, on the CPU.
    ///
    /// # Errors
    /// [`Error::Melody`] when the folder is not a CREPE model.
    pub fn authors(crepe_dir: &Path) -> Result<Self, Error> {
        let options = MelodyOptions::authors();
        let crepe_id = TrackSource::new(crepe_dir, String::new())
            .map_err(|e| not_crepe(crepe_dir, &e))?
            .crepe;
        let record = MelodyRecord {
            crepe_id,
            crepe_source: std::path::absolute(crepe_dir).unwrap_or_else(|_| crepe_dir.into()),
            hop_length: options.hop_length,
            decoder: options.decoder,
            range: options.range,
        };
        Self::load(crepe_dir, record)
    }

    /// The CREPE a model was trained with, as `record` says: from its source folder, or else
    /// from `models/<the source folder's name>` under the working folder; the weights must
    /// have the recorded hash.
    ///
    /// # Errors
    /// [`Error::Melody`] when neither folder holds those weights.
    pub fn from_record(record: &MelodyRecord) -> Result<Self, Error> {
        let mut tried = vec![record.crepe_source.clone()];
        if let Some(name) = record.crepe_source.file_name() {
            tried.push(Path::new("models").join(name));
        }
        for dir in &tried {
            let Ok(source) = TrackSource::new(dir, String::new()) else {
                continue;
            };
            if source.crepe == record.crepe_id {
                return Self::load(dir, record.clone());
            }
        }
        let listed: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
        Err(Error::Melody(format!(
            "the model's melody input was made by the CREPE weights {}, found in none of {}; \
             convert them there again (see docs/melody.md)",
            &record.crepe_id[..16.min(record.crepe_id.len())],
            listed.join(", ")
        )))
    }

    fn load(dir: &Path, record: MelodyRecord) -> Result<Self, Error> {
        let device = Device::default();
        let (_, crepe) = load_crepe(dir, &device).map_err(|e| not_crepe(dir, &e))?;
        Ok(Self {
            crepe,
            record,
            device,
        })
    }

    /// What a bundle records.
    pub fn record(&self) -> &MelodyRecord {
        &self.record
    }

    /// The track settings of the record.
    pub fn options(&self) -> MelodyOptions {
        MelodyOptions {
            hop_length: self.record.hop_length,
            decoder: self.record.decoder,
            range: self.record.range,
            ..MelodyOptions::authors()
        }
    }

    /// Checks that a feature config's frames are the contour's frames: 16 kHz, the hop of the
    /// record, and [`MELODY_BINS`] mel bands (the two branches take inputs of one shape).
    ///
    /// # Errors
    /// [`Error::Melody`] saying which setting differs.
    pub fn check_features(&self, features: &FeatureConfig) -> Result<(), Error> {
        if features.sample_rate_hz != SAMPLE_RATE_HZ
            || features.hop_length != self.record.hop_length
            || features.n_mels != MELODY_BINS
        {
            return Err(Error::Melody(format!(
                "the melody contour has one row per {MELODY_BINS} mel-grid bins and one frame \
                 per {} samples at {SAMPLE_RATE_HZ} Hz; the features have {} mel bands and a \
                 hop of {} samples at {} Hz (use the default kuo2021 features)",
                self.record.hop_length,
                features.n_mels,
                features.hop_length,
                features.sample_rate_hz
            )));
        }
        Ok(())
    }

    /// The contour bins of a 16 kHz signal, one per frame, `frames` of them (the last
    /// repeated, or the extra dropped, should the counts differ).
    ///
    /// # Errors
    /// As [`pitch_track`].
    pub fn contour_of_signal(
        &self,
        signal: &Signal,
        frames: usize,
        progress: &dyn Progress,
        what: &str,
    ) -> Result<Vec<u16>, Error> {
        let track = pitch_track(
            &self.crepe,
            signal,
            &self.options(),
            &self.device,
            progress,
            what,
        )?;
        Ok(fit(&contour_bins(&track.f0_hz), frames))
    }

    /// The contour bins of each recording's audio (`abs_path`, read with `features`: its
    /// channel at 16 kHz), `frames[i]` per recording, read from and written to the melody
    /// cache of the feature cache folder `cache_dir` when one is given. One result per
    /// recording, in order; an error names the file.
    pub fn contours(
        &self,
        recordings: &[&Recording],
        frames: &[usize],
        features: &FeatureConfig,
        cache_dir: Option<&Path>,
        progress: &dyn Progress,
    ) -> Vec<Result<Vec<u16>, String>> {
        let cache = cache_dir.map(MelodyCache::in_features_cache);
        let source = TrackSource {
            vocals: channel_source(features.channel),
            crepe: self.record.crepe_id.clone(),
        };
        let options = self.options();
        let quiet = singerid_data::progress::Silent;
        progress.start("melody", Some(recordings.len() as u64));
        let results = recordings
            .iter()
            .zip(frames)
            .map(|(recording, &n)| {
                let path = &recording.abs_path;
                let named = |e: String| format!("{}: melody: {e}", path.display());
                let track = (|| {
                    let key = match &cache {
                        Some(cache) => Some((cache, MelodyCache::key(path, &source, &options)?)),
                        None => None,
                    };
                    if let Some(track) = key.as_ref().and_then(|(c, k)| c.get(k)) {
                        return Ok(track);
                    }
                    let signal = load(path, features).map_err(|e| Error::Melody(e.to_string()))?;
                    let track =
                        pitch_track(&self.crepe, &signal, &options, &self.device, &quiet, "")?;
                    if let Some((cache, key)) = &key
                        && let Err(e) = cache.put(key, &track)
                    {
                        tracing::warn!("{}: melody not cached: {e}", path.display());
                    }
                    Ok::<_, Error>(track)
                })()
                .map_err(|e| named(e.to_string()));
                progress.advance(1);
                track.map(|t| fit(&contour_bins(&t.f0_hz), n))
            })
            .collect();
        progress.finish();
        results
    }
}

/// The vocal source of a pitch track read from a file's `channel` ([`TrackSource::vocals`]):
/// `mix` for the channel mix, `channel:<name>` for another one.
pub fn channel_source(channel: Channel) -> String {
    match channel {
        Channel::Mix => "mix".to_owned(),
        other => format!("channel:{}", other.name()),
    }
}

fn not_crepe(dir: &Path, e: &dyn std::fmt::Display) -> Error {
    Error::Melody(format!("{}: not a CREPE model folder ({e})", dir.display()))
}

/// `bins` as `u16`, `frames` long: the last bin repeated, or the extra dropped.
fn fit(bins: &[usize], frames: usize) -> Vec<u16> {
    let last = bins.last().copied().unwrap_or(0);
    (0..frames)
        .map(|t| bins.get(t).copied().unwrap_or(last).min(MELODY_BINS - 1) as u16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hops_follow_the_crepe_package() {
        assert_eq!(hop_for_step_ms(10.0).expect("ok"), 160);
        assert_eq!(hop_for_step_ms(32.0).expect("ok"), 512);
        assert_eq!(hop_for_step_ms(0.1).expect("ok"), 1);
        assert!(hop_for_step_ms(0.01).is_err());
        assert!(hop_for_step_ms(f64::NAN).is_err());
    }

    #[test]
    fn contours_fit_the_mel_frames() {
        assert_eq!(fit(&[3, 4, 5], 5), vec![3, 4, 5, 5, 5]);
        assert_eq!(fit(&[3, 4, 5], 2), vec![3, 4]);
        assert_eq!(fit(&[], 2), vec![0, 0]);
        assert_eq!(fit(&[500], 1), vec![127]);
    }
}
