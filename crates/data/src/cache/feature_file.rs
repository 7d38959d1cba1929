//! One cached feature matrix as a safetensors file, written atomically.
//!
//! The file holds one tensor, `mel`: f32, shape `[n_mels, n_frames]`, row-major (the
//! [`LogMel`] layout), plus string metadata (see [`FeatureFileMeta`]), so any safetensors reader
//! (Python `safetensors.numpy.load_file`, burn-store, ...) opens it.

use std::collections::HashMap;
use std::path::Path;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use singerid_audio::LogMel;

use crate::error::DataError;

/// Name of the tensor in every feature file.
pub const MEL_TENSOR: &str = "mel";
/// Value of the `format` metadata entry.
pub const FORMAT: &str = "singerid-log-mel";

/// The metadata stored beside the tensor (all strings, as safetensors requires).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureFileMeta {
    /// The feature key (the file's name without extension).
    pub key: String,
    /// The config id (see [`crate::cache::ConfigIdentity`]).
    pub config_id: String,
    /// The canonical JSON of the feature config.
    pub config_json: String,
    /// `FEATURE_ALGORITHM_VERSION` of the writer.
    pub algorithm_version: u32,
    /// blake3 of the source audio file's bytes.
    pub content_blake3: String,
    /// Absolute path of the audio file the features were computed from.
    pub source_path: String,
}

impl FeatureFileMeta {
    fn to_map(&self) -> HashMap<String, String> {
        HashMap::from([
            ("format".to_owned(), FORMAT.to_owned()),
            ("key".to_owned(), self.key.clone()),
            ("config_id".to_owned(), self.config_id.clone()),
            ("config".to_owned(), self.config_json.clone()),
            (
                "feature_algorithm_version".to_owned(),
                self.algorithm_version.to_string(),
            ),
            ("content_blake3".to_owned(), self.content_blake3.clone()),
            ("source_path".to_owned(), self.source_path.clone()),
        ])
    }

    fn from_map(map: &HashMap<String, String>) -> Result<Self, String> {
        let get = |name: &str| {
            map.get(name)
                .cloned()
                .ok_or_else(|| format!("metadata lacks `{name}`"))
        };
        if get("format")? != FORMAT {
            return Err(format!("metadata `format` is not `{FORMAT}`"));
        }
        let version = get("feature_algorithm_version")?;
        Ok(Self {
            key: get("key")?,
            config_id: get("config_id")?,
            config_json: get("config")?,
            algorithm_version: version
                .parse()
                .map_err(|_| format!("bad feature_algorithm_version `{version}`"))?,
            content_blake3: get("content_blake3")?,
            source_path: get("source_path")?,
        })
    }
}

/// Serialises `mel` and `meta` to safetensors bytes.
///
/// # Errors
/// [`DataError::BadFeatures`] when `mel.data` does not have `n_mels * n_frames` values.
pub fn encode(mel: &LogMel, meta: &FeatureFileMeta, path: &Path) -> Result<Vec<u8>, DataError> {
    let bytes: Vec<u8> = mel.data.iter().flat_map(|v| v.to_le_bytes()).collect();
    let bad = |reason: String| DataError::BadFeatures {
        path: path.to_path_buf(),
        reason,
    };
    let view = TensorView::new(Dtype::F32, vec![mel.n_mels, mel.n_frames], &bytes)
        .map_err(|err| bad(format!("cannot describe the mel tensor: {err}")))?;
    safetensors::serialize([(MEL_TENSOR, view)], Some(meta.to_map()))
        .map_err(|err| bad(format!("cannot serialise the mel tensor: {err}")))
}

/// Reads a feature file back.
///
/// # Errors
/// [`DataError::Read`] when it cannot be read, [`DataError::CorruptFeatureFile`] when it is not
/// a well-formed singerid feature file.
pub fn read(path: &Path) -> Result<(LogMel, FeatureFileMeta), DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    decode(&bytes).map_err(|reason| DataError::CorruptFeatureFile {
        path: path.to_path_buf(),
        reason,
    })
}

fn decode(bytes: &[u8]) -> Result<(LogMel, FeatureFileMeta), String> {
    let (_, metadata) = SafeTensors::read_metadata(bytes).map_err(|err| err.to_string())?;
    let meta = metadata
        .metadata()
        .as_ref()
        .ok_or_else(|| "no metadata".to_owned())
        .and_then(FeatureFileMeta::from_map)?;
    let tensors = SafeTensors::deserialize(bytes).map_err(|err| err.to_string())?;
    let mel = tensors
        .tensor(MEL_TENSOR)
        .map_err(|err| format!("tensor `{MEL_TENSOR}`: {err}"))?;
    if mel.dtype() != Dtype::F32 {
        return Err(format!(
            "tensor `{MEL_TENSOR}` is {:?}, not F32",
            mel.dtype()
        ));
    }
    let [n_mels, n_frames] = *mel.shape() else {
        return Err(format!(
            "tensor `{MEL_TENSOR}` has shape {:?}, expected [n_mels, n_frames]",
            mel.shape()
        ));
    };
    let data = mel
        .data()
        .chunks_exact(4)
        .map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
        .collect();
    Ok((
        LogMel {
            n_mels,
            n_frames,
            data,
        },
        meta,
    ))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, flushed to disk,
/// then renamed over `path`. A reader (or a later run after a kill) sees the old file or the
/// complete new one, never a part.
///
/// # Errors
/// [`DataError::Write`] naming `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DataError> {
    crate::atomic::write_atomic(path, bytes).map_err(|source| DataError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> FeatureFileMeta {
        FeatureFileMeta {
            key: "k".repeat(64),
            config_id: "0123456789abcdef".to_owned(),
            config_json: "{\"n_mels\":2}".to_owned(),
            algorithm_version: 7,
            content_blake3: "c".repeat(64),
            source_path: "/data/a/b/c.mp3".to_owned(),
        }
    }

    #[test]
    fn round_trip_keeps_values_shape_and_metadata() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/x.safetensors");
        let mel = LogMel {
            n_mels: 2,
            n_frames: 3,
            data: vec![0.0, -1.5, -80.0, 3.25, f32::MIN_POSITIVE, 12.0],
        };
        let bytes = encode(&mel, &meta(), &path).expect("encode");
        write_atomic(&path, &bytes).expect("write");
        let (back, back_meta) = read(&path).expect("read");
        assert_eq!(back, mel);
        assert_eq!(back_meta, meta());
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(path.parent().expect("parent"))
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from("x.safetensors")]);
    }

    #[test]
    fn wrong_sizes_and_garbage_are_errors() {
        let path = Path::new("x.safetensors");
        let short = LogMel {
            n_mels: 2,
            n_frames: 3,
            data: vec![0.0; 5],
        };
        assert!(matches!(
            encode(&short, &meta(), path),
            Err(DataError::BadFeatures { .. })
        ));
        let dir = tempfile::tempdir().expect("tempdir");
        let garbage = dir.path().join("g.safetensors");
        std::fs::write(&garbage, b"\x05\0\0\0\0\0\0\0{}").expect("write");
        assert!(matches!(
            read(&garbage),
            Err(DataError::CorruptFeatureFile { .. })
        ));
        // A valid safetensors file that lacks the singerid metadata is rejected too.
        let plain = safetensors::serialize(
            [(
                MEL_TENSOR,
                TensorView::new(Dtype::F32, vec![1, 1], &[0, 0, 0, 0]).expect("view"),
            )],
            None,
        )
        .expect("serialize");
        std::fs::write(&garbage, plain).expect("write");
        let err = read(&garbage).expect_err("no metadata");
        assert!(err.to_string().contains("no metadata"), "{err}");
    }
}
