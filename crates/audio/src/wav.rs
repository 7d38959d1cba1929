//! Writing audio: planar `f32` channels to a 32-bit float WAV file (through `hound`), so
//! stems louder than full scale are kept, not clipped.

use std::path::Path;

use crate::error::AudioError;

/// Writes planar channels (all the same length) as a 32-bit float WAV file.
///
/// # Errors
/// [`AudioError::Io`] naming the file.
pub fn write_wav(path: &Path, channels: &[&[f32]], sample_rate_hz: u32) -> Result<(), AudioError> {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: sample_rate_hz,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let fail = |e: hound::Error| AudioError::Io {
        path: path.to_owned(),
        source: match e {
            hound::Error::IoError(e) => e,
            other => std::io::Error::other(other.to_string()),
        },
    };
    let mut writer = hound::WavWriter::create(path, spec).map_err(fail)?;
    let n = channels.first().map_or(0, |c| c.len());
    for i in 0..n {
        for channel in channels {
            writer.write_sample(channel[i]).map_err(fail)?;
        }
    }
    writer.finalize().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;

    #[test]
    fn written_stereo_decodes_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.wav");
        let left: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.01).sin() * 1.5).collect();
        let right: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.02).cos() * 0.5).collect();
        write_wav(&path, &[&left, &right], 22_050).expect("writes");
        let back = decode(&path).expect("decodes");
        assert_eq!(back.sample_rate_hz, 22_050);
        assert_eq!(back.channels, vec![left, right]);
    }
}
