//! Decoding: any supported audio file to planar `f32` samples at the file's own rate.
//!
//! symphonia reads WAV (PCM 8/16/24/32-bit integer and 32/64-bit float), FLAC, MP3, Ogg
//! Vorbis and AAC in MP4/M4A or ADTS. Integer PCM is scaled exactly as libsndfile (and so
//! `librosa.load` through soundfile) scales it: `i16 / 32768`, `i24 / 2^23`, `i32 / 2^31`.
//! Encoder delay and padding announced by the container (LAME/Xing header, Ogg granule
//! positions) are trimmed, as libsndfile/mpg123 do.

use std::fs::File;
use std::path::Path;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::channel::select_channel_into;
use crate::error::AudioError;
use crate::load::Signal;
use crate::preset::Channel;

/// A decoded file: one `Vec<f32>` per channel, all the same length, at the file's rate.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedAudio {
    /// Samples per channel (`channels[c][i]`), nominally in `-1.0..=1.0`.
    pub channels: Vec<Vec<f32>>,
    /// The file's sample rate, in Hz.
    pub sample_rate_hz: u32,
}

impl DecodedAudio {
    /// Number of frames (samples per channel).
    pub fn n_frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }
}

/// Frames (samples per channel) of the header-announced length that may be missing before a
/// file counts as truncated: four MP3 frames of 1152 samples (capped at half the announced
/// length). Headers count whole codec frames and a decoder may legitimately drop part of the
/// last one; a real truncation loses far more.
const TRUNCATION_SLACK_FRAMES: u64 = 4_608;

/// Decodes the first audio track of `path` to planar `f32` samples.
///
/// Packets that fail to decode in the middle of a stream are skipped with a warning (as
/// mpg123 and libsndfile do); a stream that ends before the length its header announces is
/// an error.
///
/// # Errors
///
/// - [`AudioError::Io`] if the file cannot be opened or read;
/// - [`AudioError::EmptyFile`] for a 0-byte file;
/// - [`AudioError::Unsupported`] if no format or codec recognises it (a text file named
///   `.wav`, a format not built in);
/// - [`AudioError::Decode`] for a malformed stream, or when every packet fails;
/// - [`AudioError::Truncated`] if fewer frames decode than the header announces;
/// - [`AudioError::NoSamples`] if the stream holds no samples.
pub fn decode(path: &Path) -> Result<DecodedAudio, AudioError> {
    let mut channels: Vec<Vec<f32>> = Vec::new();
    let sample_rate_hz = decode_with(path, |planes, _| {
        if channels.is_empty() {
            channels = vec![Vec::new(); planes.len()];
        }
        for (channel, plane) in channels.iter_mut().zip(planes) {
            channel.extend_from_slice(plane);
        }
        Ok(())
    })?;
    Ok(DecodedAudio {
        channels,
        sample_rate_hz,
    })
}

/// Decodes `path` straight to one channel selection (librosa `load(sr=None, mono=True)` for
/// [`Channel::Mix`]): each decoded packet is reduced with
/// [`select_channel_into`] as it arrives, so no planar copy of the file is kept. Gives exactly
/// `select_channel(decode(path)?.channels, channel, path)`.
///
/// # Errors
///
/// As [`decode`], plus [`AudioError::ChannelUnavailable`].
pub fn decode_mono(path: &Path, channel: Channel) -> Result<Signal, AudioError> {
    let mut samples = Vec::new();
    let sample_rate_hz = decode_with(path, |planes, _| {
        select_channel_into(planes, channel, path, &mut samples)
    })?;
    Ok(Signal {
        samples,
        sample_rate_hz,
    })
}

/// Decodes `path` block by block: `on_planes` gets each decoded packet's planar `f32` samples
/// with the stream's sample rate, so a file of any length is processed in bounded memory.
/// Returns the sample rate. The checks of [`decode`] apply; those that need the whole stream
/// (truncation, an empty stream) fail at the end, after the blocks were delivered, so a caller
/// writing output must only keep it when this returns `Ok`.
///
/// # Errors
/// As [`decode`], and whatever `on_planes` returns (which stops decoding).
pub fn decode_stream(
    path: &Path,
    on_planes: impl FnMut(&[Vec<f32>], u32) -> Result<(), AudioError>,
) -> Result<u32, AudioError> {
    decode_with(path, on_planes)
}

/// The decoding loop: calls `on_planes` with each decoded packet's planar `f32` samples and
/// the sample rate, and returns the stream's sample rate after the checks described at
/// [`decode`].
fn decode_with(
    path: &Path,
    mut on_planes: impl FnMut(&[Vec<f32>], u32) -> Result<(), AudioError>,
) -> Result<u32, AudioError> {
    let io_err = |source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    if file.metadata().map_err(io_err)?.len() == 0 {
        return Err(AudioError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(extension) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(extension);
    }
    let unsupported = |err: SymphoniaError| AudioError::Unsupported {
        path: path.to_path_buf(),
        reason: err.to_string(),
    };
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(unsupported)?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| AudioError::Unsupported {
            path: path.to_path_buf(),
            reason: "no audio track".into(),
        })?;
    let track_id = track.id;
    let expected_frames = track.num_frames;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| AudioError::Unsupported {
            path: path.to_path_buf(),
            reason: "the audio track has no codec parameters".into(),
        })?;
    let declared_rate = params.sample_rate;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(unsupported)?;

    let mut n_channels_seen: Option<usize> = None;
    let mut decoded: u64 = 0;
    let mut sample_rate_hz = declared_rate;
    let mut planar: Vec<Vec<f32>> = Vec::new();
    let mut packets_ok = 0_usize;
    let mut packets_bad = 0_usize;
    let mut first_error: Option<String> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // A stream cut in the middle of a packet ends with an EOF error; whether that
            // lost anything is judged below against the header's length.
            Err(SymphoniaError::IoError(err))
                if err.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                break;
            }
            Err(err) => {
                if packets_ok == 0 {
                    return Err(AudioError::Decode {
                        path: path.to_path_buf(),
                        reason: err.to_string(),
                    });
                }
                return Err(AudioError::Decode {
                    path: path.to_path_buf(),
                    reason: format!("after {packets_ok} good packets: {err}"),
                });
            }
        };
        if packet.track_id != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(buffer) => {
                packets_ok += 1;
                let spec = buffer.spec();
                let n_channels = spec.channels().count();
                let rate = *sample_rate_hz.get_or_insert(spec.rate());
                if n_channels == 0 {
                    continue;
                }
                match n_channels_seen {
                    None => n_channels_seen = Some(n_channels),
                    Some(seen) if seen != n_channels => {
                        return Err(AudioError::Decode {
                            path: path.to_path_buf(),
                            reason: format!(
                                "channel count changes mid-stream ({seen} -> {n_channels})"
                            ),
                        });
                    }
                    Some(_) => {}
                }
                buffer.copy_to_vecs_planar(&mut planar);
                let frames = planar.first().map_or(0, Vec::len);
                if frames > 0 {
                    on_planes(&planar, rate)?;
                    decoded += frames as u64;
                }
            }
            Err(SymphoniaError::DecodeError(reason)) => {
                packets_bad += 1;
                first_error.get_or_insert_with(|| reason.to_string());
            }
            Err(SymphoniaError::IoError(err)) => {
                packets_bad += 1;
                first_error.get_or_insert_with(|| err.to_string());
            }
            Err(err) => {
                return Err(AudioError::Decode {
                    path: path.to_path_buf(),
                    reason: err.to_string(),
                });
            }
        }
    }
    if packets_bad > 0 {
        if packets_ok == 0 {
            return Err(AudioError::Decode {
                path: path.to_path_buf(),
                reason: format!(
                    "none of {packets_bad} packets decoded: {}",
                    first_error.unwrap_or_default()
                ),
            });
        }
        tracing::warn!(
            path = %path.display(),
            packets_bad,
            packets_ok,
            "skipped packets that failed to decode: {}",
            first_error.unwrap_or_default()
        );
    }
    if let Some(expected) = expected_frames
        && decoded + TRUNCATION_SLACK_FRAMES.min(expected / 2) < expected
    {
        return Err(AudioError::Truncated {
            path: path.to_path_buf(),
            decoded,
            expected,
        });
    }
    if decoded == 0 {
        return Err(AudioError::NoSamples {
            path: path.to_path_buf(),
        });
    }
    sample_rate_hz
        .filter(|&rate| rate > 0)
        .ok_or_else(|| AudioError::Decode {
            path: path.to_path_buf(),
            reason: "the stream declares no sample rate".into(),
        })
}
