//! Reading the fixture's weights file (safetensors, every Keras variable as f32).

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::ModelError;

/// Tensors of a safetensors file: key -> (shape, row-major f32 values).
pub type KerasTensors = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

/// Reads a safetensors file into `(shape, f32 values)` per key.
///
/// # Errors
/// I/O errors, malformed files, and non-f32 tensors, naming the file (and key).
pub fn read_f32_safetensors(path: &Path) -> Result<KerasTensors, ModelError> {
    let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_owned(),
        source,
    })?;
    let fail = |message: String| ModelError::Safetensors {
        path: path.to_owned(),
        message,
    };
    let file = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| fail(format!("not a safetensors file: {e}")))?;
    let mut out = BTreeMap::new();
    for (name, view) in file.tensors() {
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(fail(format!("{name} is {:?}, expected F32", view.dtype())));
        }
        let values = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        out.insert(name, (view.shape().to_vec(), values));
    }
    Ok(out)
}
