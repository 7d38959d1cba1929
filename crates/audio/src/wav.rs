//! Writing audio: planar `f32` channels to a 32-bit float WAV file (through `hound`), so
//! stems louder than full scale are kept, not clipped.

use std::path::{Path, PathBuf};

use crate::error::AudioError;

/// Writes planar channels (all the same length) as a 32-bit float WAV file.
///
/// # Errors
/// [`AudioError::Io`] naming the file.
pub fn write_wav(path: &Path, channels: &[&[f32]], sample_rate_hz: u32) -> Result<(), AudioError> {
    let mut writer = WavStream::create(path, channels.len(), sample_rate_hz)?;
    writer.write(channels)?;
    writer.finish()
}

/// A 32-bit float WAV file written block by block (long stems never held whole).
pub struct WavStream {
    path: PathBuf,
    writer: hound::WavWriter<std::io::BufWriter<std::fs::File>>,
}

impl WavStream {
    /// Creates (or replaces) `path` for `channels` channels at `sample_rate_hz`.
    ///
    /// # Errors
    /// [`AudioError::Io`] naming the file.
    pub fn create(path: &Path, channels: usize, sample_rate_hz: u32) -> Result<Self, AudioError> {
        let spec = hound::WavSpec {
            channels: channels as u16,
            sample_rate: sample_rate_hz,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let writer = hound::WavWriter::create(path, spec).map_err(|e| io_error(path, e))?;
        Ok(Self {
            path: path.to_owned(),
            writer,
        })
    }

    /// Appends one block of planar channels (all the same length, as many as at creation).
    ///
    /// # Errors
    /// [`AudioError::Io`] naming the file (a full disk; WAV's 4 GiB size limit).
    pub fn write(&mut self, channels: &[&[f32]]) -> Result<(), AudioError> {
        let n = channels.first().map_or(0, |c| c.len());
        for i in 0..n {
            for channel in channels {
                self.writer
                    .write_sample(channel[i])
                    .map_err(|e| io_error(&self.path, e))?;
            }
        }
        Ok(())
    }

    /// Writes the header's final sizes and closes the file.
    ///
    /// # Errors
    /// [`AudioError::Io`] naming the file.
    pub fn finish(self) -> Result<(), AudioError> {
        let path = self.path;
        self.writer.finalize().map_err(|e| io_error(&path, e))
    }
}

fn io_error(path: &Path, e: hound::Error) -> AudioError {
    AudioError::Io {
        path: path.to_owned(),
        source: match e {
            hound::Error::IoError(e) => e,
            other => std::io::Error::other(other.to_string()),
        },
    }
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
