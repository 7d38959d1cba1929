//! The melody cache: a file's CREPE pitch track stored once, content-addressed like the
//! features, so that a melody is computed once per recording, vocal source, CREPE model and
//! setting (issue 14: contours "cached like features").
//!
//! A track is `<cache>/melody/<key[..2]>/<key>.safetensors` with the tensors `bins` (i64),
//! `f0_hz` (f64) and `periodicity` (f32) of [`PitchTrack`], one row per frame, and its identity
//! in the metadata. The key hashes the audio file's bytes, the vocal source (the channel mix or
//! a separator's id), the CREPE weights and the settings that change the track (hop, decoder,
//! pitch range); the voicing threshold and the batch size do not. Files are written atomically,
//! so a reader sees a whole track or none; an unreadable entry is recomputed and replaced.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use singerid_data::cache::ContentHash;
use singerid_models::pitch::decode::PitchTrack;

use super::MelodyOptions;
use crate::error::Error;

/// Value of the `format` metadata of a cached track.
pub const FORMAT: &str = "singerid-pitch-track";
/// Bumped when the stored track or its computation changes: older entries are never reused.
pub const VERSION: u32 = 1;

/// Where pitch tracks are kept: the `melody/` folder of a feature cache.
#[derive(Debug, Clone)]
pub struct MelodyCache {
    dir: PathBuf,
}

/// Everything a cached track depends on besides the audio bytes.
#[derive(Debug, Clone)]
pub struct TrackSource {
    /// `mix`, or `separated:<separator id>`.
    pub vocals: String,
    /// The blake3 hash of the CREPE weights file.
    pub crepe: String,
}

impl TrackSource {
    /// The source for CREPE weights in `crepe_dir` (its `model.safetensors`) and `vocals`.
    ///
    /// # Errors
    /// [`Error::Io`] when the weights cannot be read.
    pub fn new(crepe_dir: &Path, vocals: String) -> Result<Self, Error> {
        let weights = crepe_dir.join("model.safetensors");
        let hash = ContentHash::of_file(&weights).map_err(|e| Error::Io {
            path: weights.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        Ok(Self {
            vocals,
            crepe: hash.to_string(),
        })
    }
}

impl MelodyCache {
    /// The melody cache inside the feature cache folder `features_dir`.
    pub fn in_features_cache(features_dir: &Path) -> Self {
        Self {
            dir: features_dir.join("melody"),
        }
    }

    /// The key of `audio`'s track from `source` with `options`.
    ///
    /// # Errors
    /// [`Error::Io`] when the audio file cannot be read.
    pub fn key(
        audio: &Path,
        source: &TrackSource,
        options: &MelodyOptions,
    ) -> Result<String, Error> {
        let content = ContentHash::of_file(audio).map_err(|e| Error::Io {
            path: audio.to_owned(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let identity = format!(
            "{FORMAT} v{VERSION}\naudio {content}\nvocals {}\ncrepe {}\nhop {}\ndecoder {:?}\n\
             range {:?}",
            source.vocals, source.crepe, options.hop_length, options.decoder, options.range
        );
        Ok(ContentHash::of_bytes(identity.as_bytes()).to_string())
    }

    /// The file of `key`.
    pub fn path(&self, key: &str) -> PathBuf {
        self.dir
            .join(&key[..2.min(key.len())])
            .join(format!("{key}.safetensors"))
    }

    /// The cached track of `key`, if there is a readable one.
    pub fn get(&self, key: &str) -> Option<PitchTrack> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        let tensors = SafeTensors::deserialize(&bytes).ok()?;
        let column = |name: &str, dtype: Dtype| {
            let t = tensors.tensor(name).ok()?;
            (t.dtype() == dtype).then(|| t.data().to_vec())
        };
        let bins: Vec<usize> = column("bins", Dtype::I64)?
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap_or_default()).max(0) as usize)
            .collect();
        let f0_hz: Vec<f64> = column("f0_hz", Dtype::F64)?
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap_or_default()))
            .collect();
        let periodicity: Vec<f32> = column("periodicity", Dtype::F32)?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap_or_default()))
            .collect();
        (bins.len() == f0_hz.len() && f0_hz.len() == periodicity.len()).then_some(PitchTrack {
            bins,
            f0_hz,
            periodicity,
        })
    }

    /// Stores `track` under `key`, atomically.
    ///
    /// # Errors
    /// [`Error::Io`] when the folder or the file cannot be written.
    pub fn put(&self, key: &str, track: &PitchTrack) -> Result<(), Error> {
        let path = self.path(key);
        let io = |e: std::io::Error| Error::Io {
            path: path.clone(),
            source: e,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let frames = track.f0_hz.len();
        let bins: Vec<u8> = track
            .bins
            .iter()
            .flat_map(|&b| (b as i64).to_le_bytes())
            .collect();
        let f0: Vec<u8> = track.f0_hz.iter().flat_map(|v| v.to_le_bytes()).collect();
        let periodicity: Vec<u8> = track
            .periodicity
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut tensors = Vec::new();
        for (name, dtype, data) in [
            ("bins", Dtype::I64, bins.as_slice()),
            ("f0_hz", Dtype::F64, f0.as_slice()),
            ("periodicity", Dtype::F32, periodicity.as_slice()),
        ] {
            let view = TensorView::new(dtype, vec![frames], data)
                .map_err(|e| io(std::io::Error::other(e.to_string())))?;
            tensors.push((name, view));
        }
        let metadata = HashMap::from([
            ("format".to_owned(), FORMAT.to_owned()),
            ("version".to_owned(), VERSION.to_string()),
        ]);
        let bytes = safetensors::serialize(tensors, Some(metadata))
            .map_err(|e| io(std::io::Error::other(e.to_string())))?;
        singerid_data::atomic::write_atomic(&path, &bytes).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use singerid_models::pitch::decode::Decoder;

    fn source(vocals: &str) -> TrackSource {
        TrackSource {
            vocals: vocals.into(),
            crepe: "c".repeat(64),
        }
    }

    /// A track survives the round trip bit for bit (with a `-inf` periodicity, which JSON could
    /// not hold); the key changes with the audio, the vocal source, the CREPE weights and the
    /// hop, and not with the voicing threshold; a damaged entry reads as missing.
    #[test]
    fn tracks_round_trip_and_keys_follow_what_changes_the_track() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a.wav"), dir.path().join("b.wav"));
        std::fs::write(&a, b"audio a").expect("write");
        std::fs::write(&b, b"audio b").expect("write");
        let cache = MelodyCache::in_features_cache(dir.path());
        let options = MelodyOptions::default();
        let key = MelodyCache::key(&a, &source("mix"), &options).expect("key");
        assert!(cache.get(&key).is_none());
        let track = PitchTrack {
            bins: vec![0, 17, 359],
            f0_hz: vec![31.7, 440.0, 0.0],
            periodicity: vec![0.25, 0.9, f32::NEG_INFINITY],
        };
        cache.put(&key, &track).expect("put");
        assert_eq!(cache.get(&key), Some(track.clone()));

        let other = |audio: &Path, vocals: &str, options: &MelodyOptions| {
            MelodyCache::key(audio, &source(vocals), options).expect("key")
        };
        assert_ne!(other(&b, "mix", &options), key);
        assert_ne!(other(&a, "separated:0123", &options), key);
        let mut crepe = source("mix");
        crepe.crepe = "d".repeat(64);
        assert_ne!(MelodyCache::key(&a, &crepe, &options).expect("key"), key);
        let authors = MelodyOptions::authors();
        assert_ne!(other(&a, "mix", &authors), key);
        let local = MelodyOptions {
            decoder: Decoder::LocalAverage,
            ..options
        };
        assert_ne!(other(&a, "mix", &local), key);
        let stricter = MelodyOptions {
            voicing_threshold: 0.9,
            batch_size: 7,
            ..options
        };
        assert_eq!(other(&a, "mix", &stricter), key);

        std::fs::write(cache.path(&key), b"not safetensors").expect("damage");
        assert!(cache.get(&key).is_none());
    }
}
