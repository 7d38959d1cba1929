//! Framing and per-frame normalisation: a 16 kHz signal -> the `[frames, 1024]` network input.
//!
//! Follows `torchcrepe.preprocess` (0.0.24): with `center`, the signal is zero-padded by
//! `1024 / 2` samples on each side and frame `t` starts at `t * hop_length`, so it is centred
//! on sample `t * hop_length` of the original; there are `1 + len / hop_length` frames.
//! Without `center`, frames start at `t * hop_length` of the signal itself and there are
//! `1 + (len - 1024) / hop_length`. Each frame is then centred on its mean and divided by its
//! standard deviation (PyTorch's `std`: the unbiased `N - 1` estimate), floored at `1e-10` so
//! digital silence stays finite (and large, which the network expects).
//!
//! The CREPE authors' package (`crepe` 0.0.16 `core.get_activation`, which the FGNL authors'
//! melody used) frames the same way (`center=True` pads 512 zeros on each side) but
//! normalises with NumPy's `std` (the biased `N` estimate) floored at `1e-8`: its frames are
//! `sqrt(1023 / 1024)` (0.05 %) smaller than torchcrepe's, and a frame of digital silence stays
//! all zeros either way. singerid keeps torchcrepe's normalisation for both.

use burn::tensor::{Device, Tensor, TensorData};

use super::crepe::WINDOW_SIZE;
use crate::error::ModelError;

/// CREPE's sample rate: the network only knows 16 kHz.
pub const SAMPLE_RATE_HZ: u32 = 16_000;
/// torchcrepe's default hop: 10 ms (`SAMPLE_RATE_HZ / 100`).
pub const HOP_LENGTH: usize = 160;
/// Floor of a frame's standard deviation (torchcrepe's `1e-10`).
pub const MIN_FRAME_STD: f64 = 1e-10;

/// Number of frames [`frame`] makes of `len` samples.
///
/// `1 + len / hop_length` with `center`, `1 + (len - 1024) / hop_length` without (0 if the
/// signal is shorter than one frame).
pub fn frame_count(len: usize, hop_length: usize, center: bool) -> usize {
    if center {
        1 + len / hop_length
    } else if len < WINDOW_SIZE {
        0
    } else {
        1 + (len - WINDOW_SIZE) / hop_length
    }
}

/// Cuts `signal` into normalised 1024-sample frames (see the module docs).
///
/// - `signal`: mono samples at [`SAMPLE_RATE_HZ`] (resample first; see
///   `singerid_audio::resample`), any scale.
/// - `hop_length`: samples between frame starts, > 0 (torchcrepe's default [`HOP_LENGTH`],
///   10 ms).
/// - `center`: pad by 512 zeros on each side so frame `t` is centred on sample
///   `t * hop_length` (torchcrepe's `pad=True`, the default).
///
/// Returns the frames row-major, `frame_count(..) * 1024` values.
///
/// # Errors
/// [`ModelError::InvalidConfig`] for a zero hop or, without `center`, a signal shorter than
/// one frame.
pub fn frame(signal: &[f32], hop_length: usize, center: bool) -> Result<Vec<f32>, ModelError> {
    if hop_length == 0 {
        return Err(ModelError::InvalidConfig(
            "CREPE framing: hop_length must be > 0".into(),
        ));
    }
    let count = frame_count(signal.len(), hop_length, center);
    if count == 0 {
        return Err(ModelError::InvalidConfig(format!(
            "CREPE framing: {} samples is shorter than one {WINDOW_SIZE}-sample frame; use \
             center = true to pad",
            signal.len()
        )));
    }
    let offset = if center { WINDOW_SIZE / 2 } else { 0 };
    let mut frames = Vec::with_capacity(count * WINDOW_SIZE);
    for t in 0..count {
        // Sample index in the (virtually) padded signal -> index in `signal`.
        let start = (t * hop_length) as isize - offset as isize;
        let begin = frames.len();
        frames.extend((start..start + WINDOW_SIZE as isize).map(|i| {
            usize::try_from(i)
                .ok()
                .and_then(|i| signal.get(i))
                .copied()
                .unwrap_or(0.0)
        }));
        normalise(&mut frames[begin..]);
    }
    Ok(frames)
}

/// Zero mean, unit (unbiased) standard deviation floored at [`MIN_FRAME_STD`]; sums in f64.
fn normalise(frame: &mut [f32]) {
    let n = frame.len() as f64;
    let mean = frame.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = frame
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / (n - 1.0);
    let std = var.sqrt().max(MIN_FRAME_STD);
    for v in frame {
        *v = ((f64::from(*v) - mean) / std) as f32;
    }
}

/// [`frame`] as a tensor.
///
/// # Shapes
/// - output: `[frame_count(signal.len(), hop_length, center), 1024]`
///
/// # Errors
/// As [`frame`].
pub fn frames_tensor(
    signal: &[f32],
    hop_length: usize,
    center: bool,
    device: &Device,
) -> Result<Tensor<2>, ModelError> {
    let values = frame(signal, hop_length, center)?;
    let count = values.len() / WINDOW_SIZE;
    Ok(Tensor::from_data(
        TensorData::new(values, [count, WINDOW_SIZE]),
        device,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_counts_follow_torchcrepe() {
        assert_eq!(frame_count(16_000, 160, true), 101);
        assert_eq!(frame_count(0, 160, true), 1);
        assert_eq!(frame_count(1023, 160, false), 0);
        assert_eq!(frame_count(1024, 160, false), 1);
        assert_eq!(frame_count(1024 + 159, 160, false), 1);
        assert_eq!(frame_count(1024 + 160, 160, false), 2);
    }

    /// Frames are centred on `t * hop`: with a ramp `x[i] = i` and center, frame 0 is 512 zeros
    /// then 0..512; after normalisation every frame has mean 0 and unbiased std 1.
    #[test]
    fn frames_are_centred_and_normalised() {
        let signal: Vec<f32> = (0..2048).map(|i| i as f32).collect();
        let frames = frame(&signal, 256, true).expect("frames");
        assert_eq!(frames.len(), 9 * WINDOW_SIZE);
        for f in frames.chunks_exact(WINDOW_SIZE) {
            let mean = f.iter().map(|&v| f64::from(v)).sum::<f64>() / 1024.0;
            let var = f
                .iter()
                .map(|&v| (f64::from(v) - mean).powi(2))
                .sum::<f64>()
                / 1023.0;
            assert!(
                mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4,
                "{mean} {var}"
            );
        }
        // Frame 0: 512 equal zeros, then a ramp: the first 512 values are equal and below.
        let f0 = &frames[..WINDOW_SIZE];
        assert!(f0[..512].iter().all(|v| *v == f0[0]) && f0[513] > f0[512]);
        // Without center, frame 1 is x[256..1280]: a pure ramp, antisymmetric about its middle.
        let plain = frame(&signal, 256, false).expect("frames");
        let f1 = &plain[WINDOW_SIZE..2 * WINDOW_SIZE];
        assert!((f1[0] + f1[1023]).abs() < 1e-5);
    }

    /// Digital silence divides by the floor, not by zero: zeros stay zeros.
    #[test]
    fn silence_stays_finite() {
        let frames = frame(&[0.0; 3000], 160, true).expect("frames");
        assert!(frames.iter().all(|v| *v == 0.0));
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(frame(&[0.0; 2000], 0, true).is_err());
        let message = frame(&[0.0; 100], 160, false)
            .expect_err("too short")
            .to_string();
        assert!(message.contains("100 samples"), "{message}");
    }
}
