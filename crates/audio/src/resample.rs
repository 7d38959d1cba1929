//! Resampling to the feature rate with rubato's synchronous FFT resampler.
//!
//! librosa's default (`res_type="soxr_hq"`) is libsoxr's high-quality linear-phase filter;
//! rubato's [`FftFixedInOut`] is a different filter (a Blackman-Harris windowed sinc applied by
//! overlap-add FFT convolution), so the two outputs differ slightly near the band edge. The
//! measured difference, and its effect on the dB features, is in `docs/audio.md`. What
//! matches librosa exactly is the *length*: `ceil(n * to / from)` samples
//! (`librosa.resample` with `fix=True`), and the resampler's delay is removed so the output
//! is time-aligned with the input.

use rubato::{FftFixedInOut, Resampler};

/// Target length of one FFT block of input, in samples. Longer blocks give the anti-alias
/// filter a sharper transition band (its length equals the block) at a small cost in speed;
/// 2048 keeps the pass band flat to within 0.1 dB up to ~0.9 x Nyquist of the lower rate.
pub const RESAMPLE_CHUNK_TARGET: usize = 2048;

/// Output length of resampling `n_in` samples from `from_hz` to `to_hz`:
/// `ceil(n_in * to_hz / from_hz)`, as `librosa.resample(..., fix=True)`.
pub fn resampled_len(n_in: usize, from_hz: u32, to_hz: u32) -> usize {
    let num = n_in as u128 * u128::from(to_hz);
    num.div_ceil(u128::from(from_hz)) as usize
}

/// The input block length handed to rubato: a multiple of `from / gcd(from, to)` near
/// [`RESAMPLE_CHUNK_TARGET`] with an *even* number of such units, so that both FFT block
/// lengths are even. rubato reports its delay as `block_out / 2` while its filter is
/// centred at `block_in / 2` (integer division); with an odd block either figure drops half
/// a sample and the output is shifted by 0.5 input or output samples (measured: 0.071 rad
/// at 1 kHz for 44.1 -> 16 kHz).
fn even_chunk(from_hz: u32, to_hz: u32) -> usize {
    let unit = (from_hz / gcd(from_hz, to_hz)) as usize;
    let units = RESAMPLE_CHUNK_TARGET.div_ceil(unit).max(1);
    (units + units % 2) * unit
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// Resamples a mono signal from `from_hz` to `to_hz` (librosa `resample(y, orig_sr, target_sr)`).
///
/// Returns the input unchanged when the rates are equal. The output has exactly
/// [`resampled_len`] samples and no delay.
///
/// # Errors
///
/// rubato's error message, if it rejects the rates (a zero rate).
pub fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> Result<Vec<f32>, String> {
    if from_hz == to_hz {
        return Ok(samples.to_vec());
    }
    let n_out = resampled_len(samples.len(), from_hz, to_hz);
    let mut resampler = FftFixedInOut::<f32>::new(
        from_hz as usize,
        to_hz as usize,
        even_chunk(from_hz, to_hz),
        1,
    )
    .map_err(|e| e.to_string())?;
    let chunk_in = resampler.input_frames_next();
    let chunk_out = resampler.output_frames_next();
    let delay = resampler.output_delay();
    let mut output = Vec::with_capacity(n_out + delay + chunk_out);
    let mut block_out = vec![vec![0.0_f32; chunk_out]];
    let mut padded = vec![vec![0.0_f32; chunk_in]];
    let mut position = 0;
    while output.len() < n_out + delay {
        let end = (position + chunk_in).min(samples.len());
        let (_, written) = if end - position.min(end) == chunk_in {
            resampler.process_into_buffer(&[&samples[position..end]], &mut block_out, None)
        } else {
            // The tail, and then silence to push the delayed samples out.
            let block = &mut padded[0];
            block.fill(0.0);
            if position < end {
                block[..end - position].copy_from_slice(&samples[position..end]);
            }
            resampler.process_into_buffer(&padded, &mut block_out, None)
        }
        .map_err(|e| e.to_string())?;
        output.extend_from_slice(&block_out[0][..written]);
        position += chunk_in;
    }
    output.drain(..delay);
    output.truncate(n_out);
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_ceil_of_ratio() {
        assert_eq!(resampled_len(44_100, 44_100, 16_000), 16_000);
        assert_eq!(resampled_len(44_101, 44_100, 16_000), 16_001);
        assert_eq!(resampled_len(1, 22_050, 16_000), 1);
        assert_eq!(resampled_len(0, 8_000, 16_000), 0);
        for n in [0_usize, 1, 7, 441, 1000, 12_345] {
            let out = resample(&vec![0.1; n], 44_100, 16_000).expect("valid rates");
            assert_eq!(out.len(), resampled_len(n, 44_100, 16_000), "n = {n}");
        }
    }

    #[test]
    fn equal_rates_are_the_identity() {
        let x = [0.5_f32, -0.25, 0.125];
        assert_eq!(resample(&x, 16_000, 16_000).expect("identity"), x);
    }

    /// A 1 kHz sine stays a 1 kHz sine of the same amplitude and phase: the delay is removed.
    #[test]
    fn sine_keeps_amplitude_and_phase() {
        let (from, to) = (44_100_u32, 16_000_u32);
        let freq = 1_000.0_f64;
        let tone = |rate: u32, n: usize| -> Vec<f32> {
            (0..n)
                .map(|i| {
                    (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin() as f32
                })
                .collect()
        };
        let input = tone(from, 44_100);
        let output = resample(&input, from, to).expect("valid rates");
        let expected = tone(to, output.len());
        // Skip the edges, where the filter sees the zero padding.
        let worst = output[500..output.len() - 500]
            .iter()
            .zip(&expected[500..expected.len() - 500])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0_f32, f32::max);
        assert!(worst < 1e-3, "max abs error {worst}");
    }

    /// The output is time-aligned with the input (no fractional delay) and keeps the
    /// amplitude of in-band tones, for the rate pairs the presets need. Phase is measured by
    /// projecting the output onto sin/cos at the tone frequency.
    #[test]
    fn no_fractional_delay_for_preset_rate_pairs() {
        let pairs = [
            (44_100_u32, 16_000_u32),
            (16_000, 12_000),
            (16_000, 22_050),
            (8_000, 16_000),
            (44_100, 22_050),
            (48_000, 16_000),
        ];
        for (from, to) in pairs {
            for freq in [500.0_f64, 3000.0] {
                let input: Vec<f32> = (0..from as usize * 2)
                    .map(|i| {
                        (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(from)).sin()
                            as f32
                    })
                    .collect();
                let out = resample(&input, from, to).expect("valid rates");
                let (mut s, mut c) = (0.0, 0.0);
                let middle = 2000..out.len() - 2000;
                for j in middle.clone() {
                    let phase = 2.0 * std::f64::consts::PI * freq * j as f64 / f64::from(to);
                    s += f64::from(out[j]) * phase.sin();
                    c += f64::from(out[j]) * phase.cos();
                }
                let delay_in = -c.atan2(s) / (2.0 * std::f64::consts::PI * freq) * f64::from(from);
                let amplitude = 2.0 * (s * s + c * c).sqrt() / middle.len() as f64;
                assert!(
                    delay_in.abs() < 0.01,
                    "{from} -> {to} at {freq} Hz: delay {delay_in} input samples"
                );
                assert!(
                    (amplitude - 1.0).abs() < 1e-3,
                    "{from} -> {to} at {freq} Hz: amplitude {amplitude}"
                );
            }
        }
    }

    #[test]
    fn upsampling_works_too() {
        let out = resample(&vec![0.0; 8_000], 8_000, 16_000).expect("valid rates");
        assert_eq!(out.len(), 16_000);
        assert!(out.iter().all(|x| x.abs() < 1e-6));
    }
}
