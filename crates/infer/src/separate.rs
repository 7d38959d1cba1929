//! `separate`: audio files -> vocals and accompaniment stems on disk, and the separation
//! report of a separator on a dataset split (`separate --eval`).
//!
//! Each channel of a file is resampled to the separator's rate, separated
//! ([`Separator::separate`]), and the stems resampled back, so the stems have the input's
//! sample rate, channel count and length (Open-Unmix's convention). Stems are written as
//! 32-bit float WAV (no clipping of loud stems). Files are separated while they decode, one
//! segment of [`SEGMENT_SECONDS`] at a time with [`CONTEXT_SECONDS`] of audio on each side,
//! and written block by block, so memory does not grow with the file (WAV's own limit of
//! 4 GiB, 3.4 hours of 32-bit stereo at 44.1 kHz, is the only length limit).

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;
use singerid_audio::resample::resample;
use singerid_audio::stft::ComplexStft;
use singerid_audio::wav::WavStream;
use singerid_data::{Dataset, Progress};
use singerid_eval::plot::{SpectrogramPanel, spectrograms_png};
use singerid_eval::separation_report::{ClipRow, SeparationReport, SkippedClip, voice_scores};
use singerid_models::separation::{Separator, Stems};
use singerid_train::separation::load_stems;

use crate::{DeviceChoice, Error};

/// The shipped separator used when none is named: its folder under `models/`.
pub const DEFAULT_SEPARATOR: &str = "open_unmix-mir1k";

/// The separator to use when none is named (searched like [`crate::default_model`]).
///
/// # Errors
/// [`Error::NoDefaultModel`] naming the places searched.
pub fn default_separator() -> Result<PathBuf, Error> {
    crate::find_shipped(DEFAULT_SEPARATOR)
}

/// Loads a separator folder, or the `best/` separator of a `train-separator` run folder, or
/// the shipped one when `path` is `None`. Returns it with the folder it came from.
///
/// # Errors
/// No shipped separator; a folder that is not a separator; weights that do not fit.
pub fn load_separator(
    path: Option<&Path>,
    device: DeviceChoice,
) -> Result<(Separator, PathBuf), Error> {
    let dir = match path {
        Some(path) => path.to_owned(),
        None => default_separator()?,
    };
    let dir = if !dir.join("separator.json").exists() && dir.join("best/separator.json").exists() {
        dir.join("best")
    } else {
        dir
    };
    let separator = Separator::load(&dir, &device.device()?).map_err(|e| {
        Error::Evaluation(format!(
            "{}: not a separator ({e}); pass a folder written by `singerid train-separator`",
            dir.display()
        ))
    })?;
    Ok((separator, dir))
}

/// Turns a PyTorch Open-Unmix state dict (one target, e.g. the `vocals` model of `umxhq` or
/// `umxl`, saved as safetensors) into a separator folder at `out`: the network's sizes come
/// from the tensors' shapes, the STFT and rate from the arguments (Open-Unmix's pretrained
/// models: 44.1 kHz, n_fft 4096, hop 1024). The mask is the single-target Wiener gain
/// (`openunmix`'s `Separator(niter=0, residual=True)`).
///
/// # Errors
/// [`Error::Evaluation`] naming the file for a state dict that cannot be read, lacks or has
/// extra keys, or does not agree with the STFT size; the folder cannot be written.
pub fn import_separator(
    state_dict: &Path,
    sample_rate_hz: u32,
    n_fft: usize,
    hop_length: usize,
    out: &Path,
) -> Result<Separator, Error> {
    use singerid_models::separation::import::{
        config_from_state_dict, load_state_dict, read_state_dict,
    };
    let failed = |e: &dyn std::fmt::Display| {
        Error::Evaluation(format!("importing {}: {e}", state_dict.display()))
    };
    let state = read_state_dict(state_dict).map_err(|e| failed(&e))?;
    let model_config = config_from_state_dict(&state, state_dict).map_err(|e| failed(&e))?;
    let config = singerid_models::separation::SeparatorConfig::new(model_config.clone())
        .with_sample_rate_hz(sample_rate_hz)
        .with_n_fft(n_fft)
        .with_hop_length(hop_length);
    config.validate().map_err(|e| failed(&e))?;
    let model = load_state_dict(
        &state,
        &model_config,
        state_dict,
        &burn::tensor::Device::default(),
    )
    .map_err(|e| failed(&e))?;
    let separator = Separator::new(model, config).map_err(|e| failed(&e))?;
    let provenance = serde_json::json!({
        "imported_from": std::path::absolute(state_dict).unwrap_or_else(|_| state_dict.to_owned()),
        "format": "PyTorch Open-Unmix state dict (openunmix 1.3.0 layout), as safetensors",
        "licence": "that of the imported weights",
    });
    separator
        .save(out, provenance)
        .map_err(|e| Error::Evaluation(format!("{}: {e}", out.display())))?;
    Ok(separator)
}

/// What happened to one input of [`separate_files`].
#[derive(Debug, Clone, Serialize)]
pub struct SeparatedFile {
    /// The input.
    pub input: PathBuf,
    /// `<out>/<stem>/vocals.wav`, when it worked.
    pub vocals: Option<PathBuf>,
    /// `<out>/<stem>/accompaniment.wav`, when it worked.
    pub accompaniment: Option<PathBuf>,
    /// Seconds of audio.
    pub seconds: f64,
    /// The input's rate (and the stems').
    pub sample_rate_hz: u32,
    /// The input's channels (and the stems').
    pub channels: usize,
    /// Why it failed.
    pub error: Option<String>,
}

/// Separates every audio file named by `inputs` (files, or folders searched recursively) into
/// `out/<file stem>/{vocals,accompaniment}.wav`, with `spectrogram.png` (the first minute of
/// the mixture above the vocals). Files whose stems would collide (same file stem) or that
/// fail are reported, never fatal.
pub fn separate_files(
    separator: &Separator,
    inputs: &[PathBuf],
    out: &Path,
    progress: &dyn Progress,
) -> Vec<SeparatedFile> {
    let (files, problems) = singerid_data::tree::audio_files(inputs);
    let failed = |input: PathBuf, error: String| SeparatedFile {
        input,
        vocals: None,
        accompaniment: None,
        seconds: 0.0,
        sample_rate_hz: 0,
        channels: 0,
        error: Some(error),
    };
    let mut results: Vec<SeparatedFile> = problems
        .into_iter()
        .map(|p| {
            failed(
                p.path().map(Path::to_path_buf).unwrap_or_default(),
                p.to_string(),
            )
        })
        .collect();
    if files.is_empty() && results.is_empty() {
        for input in inputs {
            results.push(failed(
                input.clone(),
                format!(
                    "no audio files ({}) found",
                    singerid_data::AUDIO_EXTENSIONS.join(", ")
                ),
            ));
        }
    }
    let mut seen = std::collections::HashMap::new();
    progress.start("separate", Some(files.len() as u64));
    for file in files {
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(first) = seen.insert(stem.clone(), file.clone()) {
            results.push(failed(
                file,
                format!(
                    "its stems would overwrite those of {} (same name {stem:?}); separate it \
                     into another --out folder",
                    first.display()
                ),
            ));
            progress.advance(1);
            continue;
        }
        let result = separate_file(separator, &file, &out.join(&stem))
            .unwrap_or_else(|e| failed(file.clone(), e.to_string()));
        if let Some(error) = &result.error {
            tracing::error!("{}: {error}", file.display());
        }
        results.push(result);
        progress.advance(1);
    }
    progress.finish();
    results
}

/// Seconds of input separated at a time by `separate` (with [`CONTEXT_SECONDS`] on each
/// side): the separator's own network chunk, so a segment is one network call.
pub const SEGMENT_SECONDS: f64 = 54.0;
/// Seconds of audio on each side of a segment that are separated with it and discarded, so
/// the network and the resamplers see the music around the segment's edges.
pub const CONTEXT_SECONDS: f64 = 3.0;

fn separate_file(separator: &Separator, input: &Path, dir: &Path) -> Result<SeparatedFile, Error> {
    separate_stream(separator, input, dir, SEGMENT_SECONDS, CONTEXT_SECONDS)
}

/// The stems written while the file is decoded, with what the spectrogram needs.
struct StreamState<'a> {
    separator: &'a Separator,
    vocals: Option<WavStream>,
    accompaniment: Option<WavStream>,
    /// Undelivered input, per channel, from `kept_from` on (the left context included).
    pending: Vec<Vec<f32>>,
    /// Samples of `pending` that are left context (already written).
    context_len: usize,
    rate: u32,
    /// Samples of context on each side of a segment.
    context: usize,
    frames: u64,
    /// The first minute of the channel mix and of the vocals' mix, for the picture.
    preview_mix: Vec<f32>,
    preview_vocals: Vec<f32>,
}

impl StreamState<'_> {
    /// Separates `pending` and writes its samples after the left context, up to `keep_right`
    /// samples before its end (the right context, kept for the next segment).
    fn flush(&mut self, keep_right: usize, dir: &Path) -> Result<(), Error> {
        let total = self.pending.first().map_or(0, Vec::len);
        if total <= self.context_len + keep_right {
            return Ok(());
        }
        let channels: Vec<&[f32]> = self.pending.iter().map(Vec::as_slice).collect();
        let stems = self
            .separator
            .separate_channels_at(&channels, self.rate)
            .map_err(Error::Evaluation)?;
        let (from, to) = (self.context_len, total - keep_right);
        if self.vocals.is_none() {
            let n = self.pending.len();
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Evaluation(format!("{}: {e}", dir.display())))?;
            self.vocals = Some(WavStream::create(&partial(dir, VOCALS), n, self.rate)?);
            self.accompaniment = Some(WavStream::create(
                &partial(dir, ACCOMPANIMENT),
                n,
                self.rate,
            )?);
        }
        let part = |pick: fn(&Stems) -> &Vec<f32>| -> Vec<&[f32]> {
            stems.iter().map(|s| &pick(s)[from..to]).collect()
        };
        if let Some(writer) = &mut self.vocals {
            writer.write(&part(|s| &s.vocals))?;
        }
        if let Some(writer) = &mut self.accompaniment {
            writer.write(&part(|s| &s.accompaniment))?;
        }
        let minute = self.rate as usize * 60;
        let n = self.pending.len() as f32;
        for t in from..to {
            if self.preview_mix.len() >= minute {
                break;
            }
            self.preview_mix
                .push(self.pending.iter().map(|c| c[t]).sum::<f32>() / n);
            self.preview_vocals
                .push(stems.iter().map(|s| s.vocals[t]).sum::<f32>() / n);
        }
        // Keep the left context of the next segment and the unwritten right part.
        let keep_from = to.saturating_sub(self.context);
        for channel in &mut self.pending {
            channel.drain(..keep_from);
        }
        self.context_len = to - keep_from;
        Ok(())
    }
}

const VOCALS: &str = "vocals.wav";
const ACCOMPANIMENT: &str = "accompaniment.wav";

/// `dir/<name>.partial`: where a stem is written until the whole file has decoded.
fn partial(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.partial"))
}

/// Separates `input` while decoding it, `segment_s` seconds at a time with `context_s` of
/// audio on each side, and writes the stems block by block: memory is bounded by the segment,
/// whatever the file's length. The stems are renamed into place only when the whole file
/// decoded without error.
fn separate_stream(
    separator: &Separator,
    input: &Path,
    dir: &Path,
    segment_s: f64,
    context_s: f64,
) -> Result<SeparatedFile, Error> {
    let mut state = StreamState {
        separator,
        vocals: None,
        accompaniment: None,
        pending: Vec::new(),
        context_len: 0,
        rate: 0,
        context: 0,
        frames: 0,
        preview_mix: Vec::new(),
        preview_vocals: Vec::new(),
    };
    let mut failure: Option<Error> = None;
    let decoded = singerid_audio::decode::decode_stream(input, |planes, rate| {
        if state.pending.is_empty() {
            if !separator.accepts_channels(planes.len()) {
                failure = Some(Error::Evaluation(format!(
                    "{} channels, and the separator takes 1 or {}",
                    planes.len(),
                    separator.config().model.nb_channels
                )));
                return Err(stop(input));
            }
            state.pending = vec![Vec::new(); planes.len()];
            state.rate = rate;
            state.context = (context_s * f64::from(rate)) as usize;
        }
        for (channel, plane) in state.pending.iter_mut().zip(planes) {
            channel.extend_from_slice(plane);
        }
        state.frames += planes.first().map_or(0, Vec::len) as u64;
        let segment = (segment_s * f64::from(rate)) as usize;
        let context = state.context;
        if state.pending[0].len() >= state.context_len + segment + context
            && let Err(e) = state.flush(context, dir)
        {
            failure = Some(e);
            return Err(stop(input));
        }
        Ok(())
    });
    let cleanup = |state: &mut StreamState<'_>| {
        state.vocals = None;
        state.accompaniment = None;
        let _ = std::fs::remove_file(partial(dir, VOCALS));
        let _ = std::fs::remove_file(partial(dir, ACCOMPANIMENT));
        // Only removes the folder if nothing else is in it.
        let _ = std::fs::remove_dir(dir);
    };
    if let Some(e) = failure {
        cleanup(&mut state);
        return Err(e);
    }
    if let Err(e) = decoded {
        cleanup(&mut state);
        return Err(Error::Evaluation(e.to_string()));
    }
    if let Err(e) = state.flush(0, dir) {
        cleanup(&mut state);
        return Err(e);
    }
    let rate = state.rate;
    let channels = state.pending.len();
    for (writer, name) in [
        (state.vocals.take(), VOCALS),
        (state.accompaniment.take(), ACCOMPANIMENT),
    ] {
        if let Some(writer) = writer {
            writer.finish()?;
            std::fs::rename(partial(dir, name), dir.join(name))
                .map_err(|e| Error::Evaluation(format!("{}: {e}", dir.join(name).display())))?;
        }
    }
    // The picture: the channel mix of the input and of the vocals, first minute.
    spectrogram_figure(
        separator,
        &dir.join("spectrogram.png"),
        &[
            ("mixture", &state.preview_mix, rate),
            ("separated vocals", &state.preview_vocals, rate),
        ],
    )?;
    Ok(SeparatedFile {
        input: input.to_owned(),
        vocals: Some(dir.join(VOCALS)),
        accompaniment: Some(dir.join(ACCOMPANIMENT)),
        seconds: state.frames as f64 / f64::from(rate),
        sample_rate_hz: rate,
        channels,
        error: None,
    })
}

/// The error that stops decoding when separating failed (the real error is kept aside).
fn stop(input: &Path) -> singerid_audio::AudioError {
    singerid_audio::AudioError::Io {
        path: input.to_owned(),
        source: std::io::Error::other("separation stopped"),
    }
}

/// Log-magnitude spectrograms (dB, 80 dB range) of signals at the separator's STFT, stacked.
fn spectrogram_figure(
    separator: &Separator,
    path: &Path,
    signals: &[(&str, &[f32], u32)],
) -> Result<(), Error> {
    let config = separator.config();
    let stft = ComplexStft::new(config.n_fft, config.hop_length);
    let mut panels = Vec::new();
    for (title, samples, rate) in signals {
        let at = resample(samples, *rate, config.sample_rate_hz).map_err(Error::Evaluation)?;
        let spec = stft.forward(&at);
        let (bins, frames) = (spec.n_bins, spec.n_frames);
        let magnitude = spec.magnitude();
        let mut db = vec![0.0_f32; bins * frames];
        for t in 0..frames {
            for f in 0..bins {
                db[f * frames + t] = 20.0 * magnitude[t * bins + f].max(1e-5).log10();
            }
        }
        panels.push((*title, db, bins, frames));
    }
    let top = panels
        .iter()
        .flat_map(|p| p.1.iter().copied())
        .fold(f32::NEG_INFINITY, f32::max);
    let views: Vec<SpectrogramPanel<'_>> = panels
        .iter()
        .map(|(title, db, bins, frames)| SpectrogramPanel {
            title,
            db,
            bins: *bins,
            frames: *frames,
            overlay: None,
        })
        .collect();
    spectrograms_png(path, &views, top - 80.0)?;
    Ok(())
}

/// The ideal ratio mask's voice estimate (`|V|^2 / (|V|^2 + |A|^2)` on the mixture STFT): the
/// best a magnitude mask can do, the report's upper bound.
fn ideal_ratio_mask(stft: &ComplexStft, voice: &[f32], accompaniment: &[f32]) -> Vec<f32> {
    let v = stft.forward(voice);
    let a = stft.forward(accompaniment);
    let mut mix = v.clone();
    for ((x, v), a) in mix.bins.iter_mut().zip(&v.bins).zip(&a.bins) {
        let (pv, pa) = (v.norm_sqr(), a.norm_sqr());
        let gain = if pv + pa > 0.0 { pv / (pv + pa) } else { 0.0 };
        *x = (*v + *a) * gain;
    }
    stft.inverse(&mix, voice.len())
}

/// Scores `separator` on the stereo stems of a dataset split (left = accompaniment, right =
/// voice) beside the ideal ratio mask and the mixture, and writes the report into `out`
/// (with `spectrogram.png`: mixture, separated voice and true voice of the split's first clip).
///
/// # Errors
/// Unreadable data, an empty split, unwritable files.
pub fn separation_report(
    separator: &Separator,
    separator_dir: &Path,
    data: &Path,
    split: &str,
    out: &Path,
    progress: &dyn Progress,
) -> Result<SeparationReport, Error> {
    let dataset = Dataset::open(data)?;
    let rate = separator.config().sample_rate_hz;
    let clips = load_stems(&dataset, split, rate, progress)?;
    progress.start("separate", Some(clips.len() as u64));
    let estimates: Vec<Vec<f32>> = clips
        .iter()
        .map(|clip| {
            let vocals = separator.separate(&clip.mixture()).vocals;
            progress.advance(1);
            vocals
        })
        .collect();
    progress.finish();
    let stft = ComplexStft::new(separator.config().n_fft, separator.config().hop_length);
    progress.start("BSS Eval", Some(clips.len() as u64));
    let scored: Vec<Result<ClipRow, SkippedClip>> = clips
        .par_iter()
        .zip(&estimates)
        .map(|(clip, estimate)| {
            let to64 = |x: &[f32]| x.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>();
            let (voice, rest) = (to64(&clip.voice), to64(&clip.accompaniment));
            let irm = to64(&ideal_ratio_mask(&stft, &clip.voice, &clip.accompaniment));
            let mixture = to64(&clip.mixture());
            let score = |estimate: &[f64]| voice_scores(&voice, &rest, estimate);
            let row = (|| {
                Ok::<_, singerid_eval::separation::BssEvalError>(ClipRow {
                    path: clip.path.clone(),
                    samples: voice.len(),
                    scores: vec![score(&to64(estimate))?, score(&irm)?, score(&mixture)?],
                })
            })();
            progress.advance(1);
            row.map_err(|e| SkippedClip {
                path: clip.path.clone(),
                reason: e.to_string(),
            })
        })
        .collect();
    progress.finish();
    let (mut rows, mut skipped) = (Vec::new(), Vec::new());
    for result in scored {
        match result {
            Ok(row) => rows.push(row),
            Err(skip) => skipped.push(skip),
        }
    }
    let report = SeparationReport {
        meta: serde_json::json!({
            "data": data, "split": split, "clips": clips.len(),
            "separator": separator_dir,
            "separator_config": separator.config(),
            "stems": "left = accompaniment, right = voice; mixture (L+R)/2, voice R/2",
        }),
        systems: vec![
            "separator".into(),
            "ideal ratio mask".into(),
            "mixture".into(),
        ],
        clips: rows,
        skipped,
    };
    let first = &clips[0];
    std::fs::create_dir_all(out)
        .map_err(|e| Error::Evaluation(format!("{}: {e}", out.display())))?;
    let mixture = first.mixture();
    spectrogram_figure(
        separator,
        &out.join("spectrogram.png"),
        &[
            ("mixture", &mixture, rate),
            ("separated voice", &estimates[0], rate),
            ("true voice (right channel)", &first.voice, rate),
        ],
    )?;
    let extra = format!(
        "## One clip\n\n`{}` (the split's first clip): mixture, separated voice, true voice.\n\n\
         ![spectrograms](spectrogram.png)\n",
        first.path.display()
    );
    report.write(out, &extra)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::{Module, Param};
    use burn::tensor::{Device, Tensor};
    use singerid_models::separation::{MaskKind, OpenUnmixConfig, SeparatorConfig};

    /// A stereo separator whose mask is 1 everywhere (fc3 = 0, output mean 1, direct mask):
    /// its vocals are its input, so any sample lost, doubled or shifted at a segment boundary
    /// shows.
    fn pass_through() -> Separator {
        let device = Device::default();
        let config = SeparatorConfig::new(
            OpenUnmixConfig::new()
                .with_nb_bins(33)
                .with_nb_channels(2)
                .with_hidden_size(4)
                .with_nb_layers(1)
                .with_max_bin(None),
        )
        .with_n_fft(64)
        .with_hop_length(16)
        .with_mask(MaskKind::Direct);
        let mut model = config.model.init(&device);
        model.fc3.weight = Param::from_tensor(Tensor::zeros([4, 66], &device));
        model.output_mean = Param::from_tensor(Tensor::ones([33], &device));
        Separator::new(model.valid(), config).expect("valid")
    }

    #[test]
    fn segments_are_stitched_sample_exactly_and_a_bad_file_leaves_nothing() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let input = tmp.path().join("in.wav");
        let n = 16_000 * 5 + 123;
        let left: Vec<f32> = (0..n).map(|i| ((i as f32) * 0.013).sin() * 0.5).collect();
        let right: Vec<f32> = (0..n).map(|i| ((i as f32) * 0.007).cos() * 0.25).collect();
        singerid_audio::wav::write_wav(&input, &[&left, &right], 16_000).expect("write");
        let separator = pass_through();
        // 0.7 s segments with 0.2 s of context: eight segments and a remainder.
        let out = tmp.path().join("out");
        let file = separate_stream(&separator, &input, &out, 0.7, 0.2).expect("separates");
        assert_eq!(file.channels, 2);
        assert_eq!(file.sample_rate_hz, 16_000);
        let vocals = singerid_audio::decode::decode(&out.join(VOCALS)).expect("vocals");
        assert_eq!(vocals.channels.len(), 2);
        for (channel, original) in vocals.channels.iter().zip([&left, &right]) {
            assert_eq!(channel.len(), n);
            for (i, (a, b)) in channel.iter().zip(original).enumerate() {
                assert!((a - b).abs() < 1e-4, "sample {i}: {a} vs {b}");
            }
        }
        assert!(!partial(&out, VOCALS).exists());
        assert!(out.join("spectrogram.png").is_file());

        // A file that is not audio fails and leaves no stems (and no empty folder).
        let bad = tmp.path().join("bad.wav");
        std::fs::write(&bad, b"not audio at all").expect("write");
        let bad_out = tmp.path().join("bad-out");
        assert!(separate_stream(&separator, &bad, &bad_out, 0.7, 0.2).is_err());
        assert!(!bad_out.exists());
    }
}
