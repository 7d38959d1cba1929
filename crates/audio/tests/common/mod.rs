//! Shared helpers for the integration tests: the librosa reference fixture and paths to the
//! shared real-audio data.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use safetensors::{Dtype, SafeTensors};
use serde_json::Value;

/// `../shared/data` seen from this crate.
pub fn shared_data(relative: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).join(relative)
}

/// A file in `../shared/data/fixtures/formats/`.
pub fn format_fixture(name: &str) -> PathBuf {
    shared_data("fixtures/formats").join(name)
}

/// The reference values written by `tools/librosa_reference.py`.
pub struct Reference {
    bytes: Vec<u8>,
    pub header: Value,
    pub values: HashMap<String, Value>,
}

pub fn reference() -> &'static Reference {
    static REFERENCE: OnceLock<Reference> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/librosa_reference.safetensors"
        );
        let bytes = std::fs::read(path)
            .expect("reference fixture present (run tools/librosa_reference.py)");
        let (_, metadata) = SafeTensors::read_metadata(&bytes).expect("valid safetensors");
        let map = metadata.metadata().clone().expect("fixture has metadata");
        let header = serde_json::from_str(&map["header"]).expect("header is JSON");
        let values = serde_json::from_str(&map["values"]).expect("values are JSON");
        Reference {
            bytes,
            header,
            values,
        }
    })
}

impl Reference {
    fn tensors(&self) -> SafeTensors<'_> {
        SafeTensors::deserialize(&self.bytes).expect("valid safetensors")
    }

    /// A float32 tensor and its shape.
    pub fn f32(&self, name: &str) -> (Vec<f32>, Vec<usize>) {
        let tensors = self.tensors();
        let view = tensors
            .tensor(name)
            .unwrap_or_else(|e| panic!("tensor {name}: {e}"));
        assert_eq!(view.dtype(), Dtype::F32, "{name}");
        let data = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        (data, view.shape().to_vec())
    }

    /// An int64 tensor.
    pub fn i64(&self, name: &str) -> Vec<i64> {
        let tensors = self.tensors();
        let view = tensors
            .tensor(name)
            .unwrap_or_else(|e| panic!("tensor {name}: {e}"));
        assert_eq!(view.dtype(), Dtype::I64, "{name}");
        view.data()
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
            .collect()
    }

    pub fn usize(&self, key: &str) -> usize {
        self.values[key]
            .as_u64()
            .unwrap_or_else(|| panic!("{key} is an integer")) as usize
    }

    pub fn f64(&self, key: &str) -> f64 {
        self.values[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} is a number"))
    }

    pub fn frames_per_slice(&self) -> usize {
        self.header["frames_per_slice"]
            .as_u64()
            .expect("frames_per_slice") as usize
    }
}

/// Largest relative difference `|a - b| / max(|b|, floor)`.
pub fn max_rel(ours: &[f32], theirs: &[f32], floor: f32) -> f32 {
    assert_eq!(ours.len(), theirs.len());
    ours.iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs() / b.abs().max(floor))
        .fold(0.0, f32::max)
}

/// Largest absolute difference.
pub fn max_abs(ours: &[f32], theirs: &[f32]) -> f32 {
    assert_eq!(ours.len(), theirs.len());
    ours.iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

/// Mean absolute difference.
pub fn mean_abs(ours: &[f32], theirs: &[f32]) -> f32 {
    assert_eq!(ours.len(), theirs.len());
    let sum: f64 = ours
        .iter()
        .zip(theirs)
        .map(|(a, b)| f64::from((a - b).abs()))
        .sum();
    (sum / ours.len().max(1) as f64) as f32
}
