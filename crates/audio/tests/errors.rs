//! Bad input returns `AudioError` (never a panic), silence gives finite features, and the
//! WAV sample formats decode to librosa's (libsndfile's) values. Every file is written into a
//! fresh temporary directory by the test itself.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::format_fixture;
use singerid_audio::decode::decode;
use singerid_audio::{
    AudioError, Channel, FeatureConfig, Preset, Signal, features_from_file, load, log_mel,
};

/// WAV sample encodings written by [`write_wav`].
#[derive(Clone, Copy)]
enum WavFormat {
    Pcm16,
    Pcm24,
    Pcm32,
    Float32,
}

/// Writes a canonical RIFF/WAVE file of interleaved `frames` (one inner Vec per frame).
fn write_wav(path: &Path, rate: u32, format: WavFormat, frames: &[Vec<f64>]) {
    let channels = frames.first().map_or(1, Vec::len) as u16;
    let (bits, tag): (u16, u16) = match format {
        WavFormat::Pcm16 => (16, 1),
        WavFormat::Pcm24 => (24, 1),
        WavFormat::Pcm32 => (32, 1),
        WavFormat::Float32 => (32, 3),
    };
    let mut data = Vec::new();
    for frame in frames {
        for &x in frame {
            match format {
                WavFormat::Pcm16 => data.extend_from_slice(&((x * 32768.0) as i16).to_le_bytes()),
                WavFormat::Pcm24 => {
                    data.extend_from_slice(&((x * 8_388_608.0) as i32).to_le_bytes()[..3])
                }
                WavFormat::Pcm32 => {
                    data.extend_from_slice(&((x * 2_147_483_648.0) as i32).to_le_bytes())
                }
                WavFormat::Float32 => data.extend_from_slice(&(x as f32).to_le_bytes()),
            }
        }
    }
    let block_align = channels * bits / 8;
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16_u32.to_le_bytes());
    bytes.extend_from_slice(&tag.to_le_bytes());
    bytes.extend_from_slice(&channels.to_le_bytes());
    bytes.extend_from_slice(&rate.to_le_bytes());
    bytes.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
    bytes.extend_from_slice(&block_align.to_le_bytes());
    bytes.extend_from_slice(&bits.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&(data.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&data);
    std::fs::write(path, bytes).expect("write wav");
}

fn temp_file(dir: &tempfile::TempDir, name: &str, contents: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    let mut file = std::fs::File::create(&path).expect("create");
    file.write_all(contents).expect("write");
    path
}

fn expect_file_error(path: &Path) -> AudioError {
    let err = features_from_file(path, &FeatureConfig::default()).expect_err("must be an error");
    let message = err.to_string();
    assert!(
        message.contains(&*path.file_name().expect("name").to_string_lossy()),
        "error does not name the file: {message}"
    );
    assert!(
        !message.contains('\n'),
        "Display must be one line: {message}"
    );
    err
}

#[test]
fn missing_file_is_an_io_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = expect_file_error(&dir.path().join("absent.wav"));
    assert!(matches!(err, AudioError::Io { .. }), "{err:?}");
}

#[test]
fn empty_files_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in [
        "empty.wav",
        "empty.mp3",
        "empty.flac",
        "empty.ogg",
        "empty.m4a",
    ] {
        let err = expect_file_error(&temp_file(&dir, name, b""));
        assert!(
            matches!(err, AudioError::EmptyFile { .. }),
            "{name}: {err:?}"
        );
    }
}

#[test]
fn text_files_with_audio_extensions_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = b"This is not audio.\nJust a text file with an audio extension.\n".repeat(20);
    for name in [
        "notes.wav",
        "notes.mp3",
        "notes.flac",
        "notes.ogg",
        "notes.m4a",
        "notes.aac",
    ] {
        let err = expect_file_error(&temp_file(&dir, name, &text));
        assert!(
            matches!(
                err,
                AudioError::Unsupported { .. } | AudioError::Decode { .. }
            ),
            "{name}: {err:?}"
        );
    }
}

#[test]
fn zero_length_audio_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("zero_frames.wav");
    write_wav(&path, 16_000, WavFormat::Pcm16, &[]);
    let err = expect_file_error(&path);
    assert!(matches!(err, AudioError::NoSamples { .. }), "{err:?}");
}

/// Cuts of the real MP3 fixture: its LAME header announces the length, so any cut that loses
/// audio is reported as truncated; a cut inside the header is not decodable at all.
#[test]
fn truncated_mp3s_are_errors() {
    let full = std::fs::read(format_fixture("amy_1_01.mp3")).expect("fixture present");
    let dir = tempfile::tempdir().expect("tempdir");
    for fraction in [0.9_f64, 0.5, 0.1] {
        let cut = (full.len() as f64 * fraction) as usize;
        let path = temp_file(&dir, &format!("cut_{cut}.mp3"), &full[..cut]);
        let err = expect_file_error(&path);
        assert!(
            matches!(err, AudioError::Truncated { .. }),
            "{fraction}: {err:?}"
        );
    }
    for cut in [10, 100, 400] {
        let path = temp_file(&dir, &format!("stub_{cut}.mp3"), &full[..cut]);
        expect_file_error(&path);
    }
}

#[test]
fn truncated_wav_is_an_error() {
    let full = std::fs::read(format_fixture("amy_1_01.wav")).expect("fixture present");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = temp_file(&dir, "cut.wav", &full[..full.len() / 2]);
    let err = expect_file_error(&path);
    assert!(matches!(err, AudioError::Truncated { .. }), "{err:?}");
}

/// Digital silence: every preset gives finite values (the amin floor), no NaN or -inf.
#[test]
fn silence_gives_finite_features() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("silence.wav");
    write_wav(
        &path,
        16_000,
        WavFormat::Pcm16,
        &vec![vec![0.0, 0.0]; 16_000],
    );
    for preset in Preset::ALL {
        let features = features_from_file(&path, &preset.config()).expect("silence is valid audio");
        assert!(
            features.data.iter().all(|v| v.is_finite()),
            "{}",
            preset.name()
        );
        let first = features.data[0];
        assert!(
            features.data.iter().all(|&v| v == first),
            "{}: silence is flat",
            preset.name()
        );
    }
}

/// 16/24/32-bit integer and 32-bit float WAV decode to the values written, scaled as
/// libsndfile scales them (`i16 / 2^15`, `i24 / 2^23`, `i32 / 2^31`).
#[test]
fn wav_sample_formats_decode_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let values = [0.0, 0.5, -0.5, 0.25, -1.0, 0.125];
    let frames: Vec<Vec<f64>> = values.iter().map(|&v| vec![v, -v / 2.0]).collect();
    for (tag, format) in [
        ("pcm16", WavFormat::Pcm16),
        ("pcm24", WavFormat::Pcm24),
        ("pcm32", WavFormat::Pcm32),
        ("float", WavFormat::Float32),
    ] {
        let path = dir.path().join(format!("{tag}.wav"));
        write_wav(&path, 44_100, format, &frames);
        let decoded = decode(&path).unwrap_or_else(|e| panic!("{tag}: {e}"));
        assert_eq!(decoded.sample_rate_hz, 44_100);
        assert_eq!(decoded.channels.len(), 2);
        let left: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        let right: Vec<f32> = values.iter().map(|&v| (-v / 2.0) as f32).collect();
        assert_eq!(decoded.channels[0], left, "{tag}");
        assert_eq!(decoded.channels[1], right, "{tag}");
    }
}

#[test]
fn mono_file_rejects_left_right_side() {
    let path = format_fixture("amy_1_01_22k_mono.wav");
    for channel in [Channel::Left, Channel::Right, Channel::Side] {
        let config = FeatureConfig {
            channel,
            ..Preset::Iclr2018.config()
        };
        let err = load(&path, &config).expect_err("mono has one channel");
        assert!(
            matches!(err, AudioError::ChannelUnavailable { channels: 1, .. }),
            "{err:?}"
        );
    }
}

#[test]
fn bad_signals_are_errors() {
    let config = FeatureConfig::default();
    let empty = Signal {
        samples: Vec::new(),
        sample_rate_hz: 16_000,
    };
    assert!(matches!(
        log_mel(&empty, &config),
        Err(AudioError::EmptySignal)
    ));
    let wrong_rate = Signal {
        samples: vec![0.0; 100],
        sample_rate_hz: 44_100,
    };
    assert!(matches!(
        log_mel(&wrong_rate, &config),
        Err(AudioError::SampleRateMismatch {
            expected_hz: 16_000,
            found_hz: 44_100
        })
    ));
    let nan = Signal {
        samples: vec![0.0, f32::NAN, 0.0],
        sample_rate_hz: 16_000,
    };
    assert!(matches!(
        log_mel(&nan, &config),
        Err(AudioError::NonFiniteSample { index: 1, .. })
    ));
    let invalid = FeatureConfig {
        n_mels: 0,
        ..config
    };
    let ok_signal = Signal {
        samples: vec![0.0; 100],
        sample_rate_hz: 16_000,
    };
    assert!(matches!(
        log_mel(&ok_signal, &invalid),
        Err(AudioError::InvalidConfig {
            field: "n_mels",
            ..
        })
    ));
}

/// One sample is enough for one frame per `1 + n / hop` (librosa gives 1 frame too).
#[test]
fn a_single_sample_gives_one_frame() {
    let config = FeatureConfig::default();
    let signal = Signal {
        samples: vec![0.5],
        sample_rate_hz: 16_000,
    };
    let features = log_mel(&signal, &config).expect("one sample is enough");
    assert_eq!((features.n_mels, features.n_frames), (128, 1));
    assert!(features.data.iter().all(|v| v.is_finite()));
}
