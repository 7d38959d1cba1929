//! Content addressing: what a cached feature file is keyed by.
//!
//! - the *config id* identifies a feature configuration: blake3 of
//!   [`FEATURE_ALGORITHM_VERSION`] and the canonical JSON of the [`FeatureConfig`];
//! - the *feature key* identifies one feature matrix: blake3 of the algorithm version, the
//!   canonical config JSON and the blake3 hash of the audio file's bytes.
//!
//! So the same audio bytes under another path hit the cache, while a different config, a newer
//! algorithm or edited audio always miss it: stale features cannot be served. All hashes use
//! blake3's key-derivation mode with a context string per purpose, and every variable-length
//! field is length-prefixed, so no two distinct inputs share a hash input.

use std::fmt;
use std::fs::File;
use std::path::Path;

use serde_json::Value;
use singerid_audio::{FEATURE_ALGORITHM_VERSION, FeatureConfig};

use crate::error::DataError;

const CONFIG_CONTEXT: &str = "singerid 2026 feature config id v1";
const KEY_CONTEXT: &str = "singerid 2026 feature cache key v1";

/// Hex digits of the config id (64 bits: plenty to tell configs apart in one folder).
const CONFIG_ID_HEX_LEN: usize = 16;

/// The blake3 hash of a file's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ContentHash(pub blake3::Hash);

impl ContentHash {
    /// Hashes the file at `path`, streaming it.
    ///
    /// # Errors
    /// [`DataError::Read`] when the file cannot be opened or read (for example it vanished),
    /// [`DataError::NotRegularFile`] for a FIFO, socket or device, which are never read.
    pub fn of_file(path: &Path) -> Result<Self, DataError> {
        let read_error = |source| DataError::Read {
            path: path.to_path_buf(),
            source,
        };
        let metadata = std::fs::metadata(path).map_err(read_error)?;
        if !metadata.is_file() {
            return Err(DataError::NotRegularFile {
                path: path.to_path_buf(),
            });
        }
        let file = File::open(path).map_err(read_error)?;
        let mut hasher = blake3::Hasher::new();
        hasher.update_reader(file).map_err(read_error)?;
        Ok(Self(hasher.finalize()))
    }

    /// Hashes bytes already in memory.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Self(blake3::hash(bytes))
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.to_hex().as_str())
    }
}

/// A feature configuration together with its canonical JSON and id.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigIdentity {
    /// The configuration.
    pub config: FeatureConfig,
    /// Canonical JSON: compact, object keys sorted (independent of field order and of
    /// `serde_json` features).
    pub canonical_json: String,
    /// First 16 hex digits of the config hash.
    pub id: String,
}

impl ConfigIdentity {
    /// The identity of `config` under the current [`FEATURE_ALGORITHM_VERSION`].
    ///
    /// # Errors
    /// [`DataError::InvalidConfig`] when the config fails its own validation.
    pub fn new(config: &FeatureConfig) -> Result<Self, DataError> {
        config.validate().map_err(DataError::InvalidConfig)?;
        let canonical_json = canonical_json(config);
        let mut hasher = blake3::Hasher::new_derive_key(CONFIG_CONTEXT);
        hasher.update(&FEATURE_ALGORITHM_VERSION.to_le_bytes());
        update_prefixed(&mut hasher, canonical_json.as_bytes());
        let hex = hasher.finalize().to_hex();
        Ok(Self {
            config: *config,
            canonical_json,
            id: hex[..CONFIG_ID_HEX_LEN].to_owned(),
        })
    }

    /// The key of the features of a file with content hash `content` under this config.
    pub fn feature_key(&self, content: &ContentHash) -> FeatureKey {
        let mut hasher = blake3::Hasher::new_derive_key(KEY_CONTEXT);
        hasher.update(&FEATURE_ALGORITHM_VERSION.to_le_bytes());
        update_prefixed(&mut hasher, self.canonical_json.as_bytes());
        hasher.update(content.0.as_bytes());
        FeatureKey(hasher.finalize().to_hex().to_string())
    }
}

/// The 64-hex-digit key a cached feature file is stored under.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeatureKey(pub String);

impl FeatureKey {
    /// The key as hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FeatureKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn update_prefixed(hasher: &mut blake3::Hasher, bytes: &[u8]) {
    hasher.update(&(bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

/// Compact JSON of `config` with object keys sorted at every level.
pub fn canonical_json(config: &FeatureConfig) -> String {
    // Serialising a plain struct of numbers, options and unit enums cannot fail.
    let value = serde_json::to_value(config).unwrap_or(Value::Null);
    let mut out = String::new();
    write_canonical(&value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use singerid_audio::{Channel, Preset};

    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_round_trips() {
        let config = Preset::Fgnl.config();
        let json = canonical_json(&config);
        assert!(!json.contains(' '), "{json}");
        let keys: Vec<String> = serde_json::from_str::<serde_json::Map<String, Value>>(&json)
            .expect("object")
            .keys()
            .cloned()
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert!(json.starts_with("{\"channel\":\"mix\","), "{json}");
        let back: FeatureConfig = serde_json::from_str(&json).expect("parse back");
        assert_eq!(back, config);
    }

    #[test]
    fn every_config_change_changes_the_id_and_the_key() {
        let content = ContentHash::of_bytes(b"some audio bytes");
        let base = ConfigIdentity::new(&Preset::Fgnl.config()).expect("valid");
        let variants = [
            FeatureConfig {
                channel: Channel::Right,
                ..base.config
            },
            FeatureConfig {
                hop_length: 256,
                ..base.config
            },
            FeatureConfig {
                top_db: None,
                ..base.config
            },
            FeatureConfig {
                fmax_hz: Some(7000.0),
                ..base.config
            },
            Preset::Nasrullah.config(),
            Preset::Choi.config(),
            Preset::Iclr2018.config(),
        ];
        let mut ids = vec![base.id.clone()];
        let mut keys = vec![base.feature_key(&content)];
        for config in variants {
            let identity = ConfigIdentity::new(&config).expect("valid");
            ids.push(identity.id.clone());
            keys.push(identity.feature_key(&content));
        }
        let n = ids.len();
        ids.sort();
        ids.dedup();
        keys.sort();
        keys.dedup();
        assert_eq!((ids.len(), keys.len()), (n, n));
    }

    #[test]
    fn keys_depend_on_content_and_are_stable() {
        let identity = ConfigIdentity::new(&Preset::Fgnl.config()).expect("valid");
        let a = identity.feature_key(&ContentHash::of_bytes(b"a"));
        let b = identity.feature_key(&ContentHash::of_bytes(b"b"));
        assert_ne!(a, b);
        assert_eq!(a, identity.feature_key(&ContentHash::of_bytes(b"a")));
        assert_eq!(a.as_str().len(), 64);
        assert_eq!(identity.id.len(), CONFIG_ID_HEX_LEN);
    }

    #[test]
    fn file_hash_equals_byte_hash_and_missing_files_fail() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.wav");
        std::fs::write(&path, b"not really audio").expect("write");
        assert_eq!(
            ContentHash::of_file(&path).expect("hash"),
            ContentHash::of_bytes(b"not really audio")
        );
        assert!(matches!(
            ContentHash::of_file(&dir.path().join("gone.wav")),
            Err(DataError::Read { .. })
        ));
    }
}
