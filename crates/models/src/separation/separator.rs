//! The separator: mixture audio -> STFT -> [`OpenUnmix`] -> mask on the complex mixture ->
//! inverse STFT -> vocals, with the accompaniment as the residual (Open-Unmix's single-target
//! `Separator` with `residual=True`).
//!
//! A separator is stored as a folder: `separator.json` ([`SeparatorFile`]: the
//! [`SeparatorConfig`] and free-form provenance) and `model.safetensors` (the network). Long
//! signals are run through the network in chunks of [`SeparatorConfig::chunk_frames`] frames
//! with [`SeparatorConfig::context_frames`] of context on each side, so memory is bounded by
//! the chunk, not by the file.

use std::path::{Path, PathBuf};

use burn::config::Config;
use burn::tensor::{Device, Tensor, TensorData};
use burn_store::{ModuleSnapshot, SafetensorsStore};
use serde::{Deserialize, Serialize};
use singerid_audio::resample::resample;
use singerid_audio::stft::{ComplexSpectrogram, ComplexStft};

use super::open_unmix::{OpenUnmix, OpenUnmixConfig};
use crate::error::ModelError;

/// The separator's configuration file inside its folder.
pub const SEPARATOR_FILE: &str = "separator.json";
/// The network's weights inside a separator folder.
pub const SEPARATOR_WEIGHTS: &str = "model.safetensors";

/// How the estimated vocal magnitude becomes a mask on the complex mixture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MaskKind {
    /// `M = min(V / |X|, 1)`: the network's magnitude with the mixture's phase (Open-Unmix's
    /// `softmask` with one target).
    Direct,
    /// `M = V^2 / (V^2 + R^2)` with the residual `R = max(|X| - V, 0)`: the single-channel
    /// Wiener gain of Open-Unmix's `Separator(niter=0, residual=True)`.
    #[default]
    Wiener,
}

impl MaskKind {
    /// The name used in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            MaskKind::Direct => "direct",
            MaskKind::Wiener => "wiener",
        }
    }
}

/// Everything needed to rebuild a separator besides its weights.
#[derive(Config, Debug)]
pub struct SeparatorConfig {
    /// The network.
    pub model: OpenUnmixConfig,
    /// The rate the network works at; input is resampled to it and back.
    #[config(default = 16000)]
    pub sample_rate_hz: u32,
    /// STFT size; `model.nb_bins` must be `n_fft / 2 + 1`.
    #[config(default = 1024)]
    pub n_fft: usize,
    /// STFT hop.
    #[config(default = 512)]
    pub hop_length: usize,
    /// Mask applied to the complex mixture.
    #[config(default = "MaskKind::Wiener")]
    pub mask: MaskKind,
    /// Frames per network call on long signals (1875 = 60 s at 16 kHz, hop 512).
    #[config(default = 1875)]
    pub chunk_frames: usize,
    /// Frames of context on each side of a chunk, run through the network and discarded.
    #[config(default = 94)]
    pub context_frames: usize,
}

impl SeparatorConfig {
    /// The small mono Open-Unmix used for MIR-1K at 16 kHz: n_fft 1024, hop 512, all 513 bins
    /// fed in, `hidden` wide, 3 LSTM layers.
    pub fn mono_16k(hidden: usize) -> Self {
        SeparatorConfig::new(
            OpenUnmixConfig::new()
                .with_nb_bins(513)
                .with_nb_channels(1)
                .with_hidden_size(hidden)
                .with_max_bin(None),
        )
    }

    /// Checks that the STFT and the network agree.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] naming the mismatch.
    pub fn validate(&self) -> Result<(), ModelError> {
        let invalid = |m: String| Err(ModelError::InvalidConfig(format!("separator: {m}")));
        if self.n_fft < 2 || self.hop_length == 0 || self.hop_length > self.n_fft {
            return invalid(format!(
                "n_fft {} and hop {} need n_fft >= 2 and 1 <= hop <= n_fft",
                self.n_fft, self.hop_length
            ));
        }
        if self.model.nb_bins != self.n_fft / 2 + 1 {
            return invalid(format!(
                "the network has {} bins but n_fft {} gives {}",
                self.model.nb_bins,
                self.n_fft,
                self.n_fft / 2 + 1
            ));
        }
        if self.model.nb_channels == 0 {
            return invalid("the network needs at least one channel".into());
        }
        if self.sample_rate_hz == 0 || self.chunk_frames == 0 {
            return invalid("sample rate and chunk_frames must be positive".into());
        }
        Ok(())
    }
}

/// `separator.json`: the configuration and where the weights came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeparatorFile {
    /// Always `"open_unmix"` for now.
    pub kind: String,
    /// The configuration.
    pub config: SeparatorConfig,
    /// Free-form record of the training run (data, split, scores).
    #[serde(default)]
    pub provenance: serde_json::Value,
}

/// The two stems of one channel, each as long as the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Stems {
    /// The estimated singing voice.
    pub vocals: Vec<f32>,
    /// The mixture minus the vocals.
    pub accompaniment: Vec<f32>,
}

/// A trained separator on a plain (inference) device; see the module docs.
pub struct Separator {
    model: OpenUnmix,
    config: SeparatorConfig,
    stft: ComplexStft,
    id: String,
}

impl Separator {
    /// Wraps a network (its inference copy: batch-norm statistics, no dropout).
    ///
    /// # Errors
    /// As [`SeparatorConfig::validate`].
    pub fn new(model: OpenUnmix, config: SeparatorConfig) -> Result<Self, ModelError> {
        config.validate()?;
        let stft = ComplexStft::new(config.n_fft, config.hop_length);
        let id = weights_id(&model)?;
        Ok(Self {
            model,
            config,
            stft,
            id,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SeparatorConfig {
        &self.config
    }

    /// The network.
    pub fn model(&self) -> &OpenUnmix {
        &self.model
    }

    /// Reads a separator folder onto `device`.
    ///
    /// # Errors
    /// [`ModelError::Io`] / [`ModelError::Json`] for `separator.json`, the config's checks,
    /// [`ModelError::Safetensors`] / [`ModelError::Keys`] for the weights.
    pub fn load(dir: &Path, device: &Device) -> Result<Self, ModelError> {
        let file = read_separator_file(dir)?;
        let mut model = file.config.model.try_init(device)?;
        let weights = dir.join(SEPARATOR_WEIGHTS);
        let result = model
            .load_from(&mut SafetensorsStore::from_file(&weights))
            .map_err(|e| ModelError::Safetensors {
                path: weights.clone(),
                message: e.to_string(),
            })?;
        if !result.missing.is_empty() || !result.unused.is_empty() {
            return Err(ModelError::Keys {
                path: weights,
                missing: result.missing.iter().map(|(k, _)| k.clone()).collect(),
                unused: result.unused.clone(),
                mis_shaped: Vec::new(),
            });
        }
        Self::new(model, file.config)
    }

    /// Writes `separator.json` and `model.safetensors` into `dir` (created if needed).
    ///
    /// # Errors
    /// [`ModelError::Io`] or [`ModelError::Safetensors`] naming the file.
    pub fn save(&self, dir: &Path, provenance: serde_json::Value) -> Result<(), ModelError> {
        save_separator(&self.model, &self.config, dir, provenance)
    }

    /// The network's vocal magnitude for a mono network's mixture spectrogram, frame-major
    /// like `spec`.
    pub fn vocal_magnitude(&self, spec: &ComplexSpectrogram) -> Vec<f32> {
        self.vocal_magnitudes(std::slice::from_ref(spec))
            .pop()
            .unwrap_or_default()
    }

    /// The network's vocal magnitude of each channel, frame-major like the spectrograms, which
    /// must be one per network channel and of equal size.
    fn vocal_magnitudes(&self, specs: &[ComplexSpectrogram]) -> Vec<Vec<f32>> {
        let channels = specs.len();
        let (bins, frames) = (specs[0].n_bins, specs[0].n_frames);
        let magnitudes: Vec<Vec<f32>> = specs.iter().map(ComplexSpectrogram::magnitude).collect();
        let device = self.model.input_mean.val().device();
        let mut out = vec![vec![0.0_f32; bins * frames]; channels];
        let (chunk, context) = (self.config.chunk_frames, self.config.context_frames);
        let mut start = 0;
        while start < frames {
            let end = (start + chunk).min(frames);
            let (lo, hi) = (start.saturating_sub(context), (end + context).min(frames));
            let n = hi - lo;
            // [channels, bins, n] from the frame-major slices.
            let mut input = vec![0.0_f32; channels * bins * n];
            for (c, magnitude) in magnitudes.iter().enumerate() {
                for t in 0..n {
                    for f in 0..bins {
                        input[(c * bins + f) * n + t] = magnitude[(lo + t) * bins + f];
                    }
                }
            }
            let x = Tensor::<4>::from_data(TensorData::new(input, [1, channels, bins, n]), &device);
            let y = self.model.forward(x).into_data();
            let y = y.as_slice::<f32>().expect("the network outputs f32");
            for (c, out) in out.iter_mut().enumerate() {
                for t in start..end {
                    for f in 0..bins {
                        out[t * bins + f] = y[(c * bins + f) * n + (t - lo)];
                    }
                }
            }
            start = end;
        }
        out
    }

    /// Separates a mono signal at [`SeparatorConfig::sample_rate_hz`] (a multichannel network
    /// gets it on every channel, and the vocals are the mean of its estimates).
    pub fn separate(&self, mixture: &[f32]) -> Stems {
        self.separate_channels(&[mixture])
            .pop()
            .expect("one channel in, one out")
    }

    /// Separates the channels of one signal at [`SeparatorConfig::sample_rate_hz`]; one
    /// [`Stems`] per input channel.
    ///
    /// A mono network separates each channel on its own. A network of `C > 1` channels sees
    /// them together: a mono input is given on every channel and its vocals are the mean of the
    /// estimates; an input of `C` channels maps one to one.
    ///
    /// # Panics
    /// If `channels` is empty, the channels differ in length, or a multichannel network gets
    /// neither 1 nor its own count (check with [`Separator::accepts_channels`]).
    pub fn separate_channels(&self, channels: &[&[f32]]) -> Vec<Stems> {
        assert!(
            self.accepts_channels(channels.len()),
            "{} channels for a {}-channel separator",
            channels.len(),
            self.config.model.nb_channels
        );
        let net = self.config.model.nb_channels;
        if net == 1 {
            return channels
                .iter()
                .map(|channel| {
                    let spec = self.stft.forward(channel);
                    let vocal = self.vocal_magnitude(&spec);
                    self.stems(channel, &spec, &vocal)
                })
                .collect();
        }
        let len = channels[0].len();
        assert!(channels.iter().all(|c| c.len() == len), "unequal channels");
        let specs: Vec<ComplexSpectrogram> = (0..net)
            .map(|c| self.stft.forward(channels[c % channels.len()]))
            .collect();
        let vocals = self.vocal_magnitudes(&specs);
        let stems: Vec<Stems> = (0..net)
            .map(|c| self.stems(channels[c % channels.len()], &specs[c], &vocals[c]))
            .collect();
        if channels.len() == net {
            return stems;
        }
        let mean = |pick: fn(&Stems) -> &Vec<f32>| -> Vec<f32> {
            (0..len)
                .map(|t| stems.iter().map(|s| pick(s)[t]).sum::<f32>() / net as f32)
                .collect()
        };
        vec![Stems {
            vocals: mean(|s| &s.vocals),
            accompaniment: mean(|s| &s.accompaniment),
        }]
    }

    /// Whether [`Separator::separate_channels`] takes `n` channels: any positive number for a
    /// mono network, 1 or its own count for a multichannel one.
    pub fn accepts_channels(&self, n: usize) -> bool {
        let net = self.config.model.nb_channels;
        n > 0 && (net == 1 || n == 1 || n == net)
    }

    /// The stems of one channel from its spectrogram and the network's vocal magnitude.
    fn stems(&self, mixture: &[f32], spec: &ComplexSpectrogram, vocal: &[f32]) -> Stems {
        let mask = self.config.mask;
        let mut vocals_spec = spec.clone();
        for (x, &v) in vocals_spec.bins.iter_mut().zip(vocal) {
            let m = x.norm();
            let gain = match mask {
                MaskKind::Direct => {
                    if m > 0.0 {
                        (v / m).min(1.0)
                    } else {
                        0.0
                    }
                }
                MaskKind::Wiener => {
                    let r = (m - v).max(0.0);
                    let (v2, r2) = (v * v, r * r);
                    if v2 + r2 > 0.0 { v2 / (v2 + r2) } else { 0.0 }
                }
            };
            *x *= gain;
        }
        let vocals = self.stft.inverse(&vocals_spec, mixture.len());
        let accompaniment = mixture.iter().zip(&vocals).map(|(m, v)| m - v).collect();
        Stems {
            vocals,
            accompaniment,
        }
    }
}

impl Separator {
    /// Separates one channel at `rate` Hz: resampled to the separator's rate and back, the
    /// stems trimmed or zero-padded to the input's length.
    ///
    /// # Errors
    /// The resampler's message for a rate it rejects (0 Hz).
    pub fn separate_at(&self, samples: &[f32], rate: u32) -> Result<Stems, String> {
        Ok(self
            .separate_channels_at(&[samples], rate)?
            .pop()
            .expect("one channel in, one out"))
    }

    /// [`Separator::separate_channels`] at `rate` Hz: each channel resampled to the
    /// separator's rate and back, the stems trimmed or zero-padded to the input's length.
    ///
    /// # Errors
    /// The resampler's message for a rate it rejects (0 Hz); a channel count the network does
    /// not take ([`Separator::accepts_channels`]).
    pub fn separate_channels_at(
        &self,
        channels: &[&[f32]],
        rate: u32,
    ) -> Result<Vec<Stems>, String> {
        if !self.accepts_channels(channels.len()) {
            return Err(format!(
                "{} channels given to a {}-channel separator (it takes 1 or {})",
                channels.len(),
                self.config.model.nb_channels,
                self.config.model.nb_channels
            ));
        }
        let model_rate = self.config.sample_rate_hz;
        let at_model: Vec<Vec<f32>> = channels
            .iter()
            .map(|c| resample(c, rate, model_rate))
            .collect::<Result<_, _>>()?;
        let refs: Vec<&[f32]> = at_model.iter().map(Vec::as_slice).collect();
        let len = channels[0].len();
        self.separate_channels(&refs)
            .into_iter()
            .map(|stems| {
                let back = |x: &[f32]| -> Result<Vec<f32>, String> {
                    let mut y = resample(x, model_rate, rate)?;
                    y.resize(len, 0.0);
                    Ok(y)
                };
                Ok(Stems {
                    vocals: back(&stems.vocals)?,
                    accompaniment: back(&stems.accompaniment)?,
                })
            })
            .collect()
    }

    /// A short identity of the weights: the first 16 hex digits of the blake3 hash of the
    /// network's tensors as saved, so caches of separated audio are keyed by the separator.
    pub fn id(&self) -> String {
        self.id.clone()
    }
}

impl std::fmt::Debug for Separator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Separator")
            .field("id", &self.id)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The first 16 hex digits of blake3 over every tensor (name, shape, bytes) in name order:
/// independent of how the weights were stored.
fn weights_id(model: &OpenUnmix) -> Result<String, ModelError> {
    let mut tensors = Vec::new();
    for tensor in model.collect(None, None, false) {
        let (name, _, shape, _, bytes) = tensor
            .into_parts()
            .map_err(|e| ModelError::InvalidConfig(format!("separator weights: {e}")))?;
        tensors.push((name, shape, bytes));
    }
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let mut hasher = blake3::Hasher::new();
    for (name, shape, bytes) in &tensors {
        hasher.update(name.as_bytes());
        hasher.update(format!("{shape:?}").as_bytes());
        hasher.update(bytes);
    }
    Ok(hasher.finalize().to_hex()[..16].to_owned())
}

/// Writes a separator folder from a network and its config (used by [`Separator::save`] and
/// by training, whose network lives on an autodiff device).
///
/// # Errors
/// [`ModelError::Io`] or [`ModelError::Safetensors`] naming the file.
pub fn save_separator<M: ModuleSnapshot>(
    model: &M,
    config: &SeparatorConfig,
    dir: &Path,
    provenance: serde_json::Value,
) -> Result<(), ModelError> {
    std::fs::create_dir_all(dir).map_err(|source| ModelError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let weights = dir.join(SEPARATOR_WEIGHTS);
    let mut store = SafetensorsStore::from_file(&weights).overwrite(true);
    model
        .save_into(&mut store)
        .map_err(|e| ModelError::Safetensors {
            path: weights.clone(),
            message: e.to_string(),
        })?;
    let file = SeparatorFile {
        kind: "open_unmix".into(),
        config: config.clone(),
        provenance,
    };
    let path = dir.join(SEPARATOR_FILE);
    let text = serde_json::to_string_pretty(&file).expect("separator files serialise");
    std::fs::write(&path, text + "\n").map_err(|source| ModelError::Io { path, source })
}

/// Reads `dir/separator.json`.
///
/// # Errors
/// [`ModelError::Io`] when it cannot be read (the message says the folder is not a
/// separator), [`ModelError::Json`] when it does not parse.
pub fn read_separator_file(dir: &Path) -> Result<SeparatorFile, ModelError> {
    let path: PathBuf = dir.join(SEPARATOR_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| ModelError::Io {
        path: path.clone(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| ModelError::Json { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::{Module, Param};

    fn tiny() -> SeparatorConfig {
        SeparatorConfig::new(
            OpenUnmixConfig::new()
                .with_nb_bins(33)
                .with_nb_channels(1)
                .with_hidden_size(4)
                .with_nb_layers(1)
                .with_max_bin(None),
        )
        .with_n_fft(64)
        .with_hop_length(16)
        .with_chunk_frames(7)
        .with_context_frames(3)
    }

    /// With fc3 = 0 and unit BN statistics the network's mask is `relu(output_mean)`: a mean
    /// of 1 everywhere passes the whole mixture to the vocals (direct mask), and the
    /// accompaniment is then zero; chunking must not change that.
    #[test]
    fn a_unit_mask_gives_back_the_mixture_through_chunks() {
        let device = Device::default();
        let config = tiny().with_mask(MaskKind::Direct);
        let mut model = config.model.init(&device);
        model.fc3.weight = Param::from_tensor(Tensor::zeros([4, 33], &device));
        model.output_mean = Param::from_tensor(Tensor::ones([33], &device));
        let separator = Separator::new(model.valid(), config).expect("valid");
        let y: Vec<f32> = (0..1000).map(|i| ((i as f32) * 0.37).sin() * 0.3).collect();
        let stems = separator.separate(&y);
        assert_eq!(stems.vocals.len(), y.len());
        for (a, b) in y.iter().zip(&stems.vocals) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        assert!(stems.accompaniment.iter().all(|a| a.abs() < 1e-4));
    }

    /// A stereo network with the same unit mask returns each channel of a stereo input, and a
    /// mono input (given on both channels, estimates averaged) as it is.
    #[test]
    fn a_stereo_network_separates_channels_jointly_and_mono_on_both() {
        let device = Device::default();
        let mut config = tiny().with_mask(MaskKind::Direct);
        config.model = config.model.clone().with_nb_channels(2);
        let mut model = config.model.init(&device);
        model.fc3.weight = Param::from_tensor(Tensor::zeros([4, 66], &device));
        model.output_mean = Param::from_tensor(Tensor::ones([33], &device));
        let separator = Separator::new(model.valid(), config).expect("valid");
        let left: Vec<f32> = (0..900).map(|i| ((i as f32) * 0.37).sin() * 0.3).collect();
        let right: Vec<f32> = (0..900).map(|i| ((i as f32) * 0.11).cos() * 0.2).collect();
        let stems = separator.separate_channels(&[&left, &right]);
        assert_eq!(stems.len(), 2);
        for (input, stem) in [&left, &right].into_iter().zip(&stems) {
            for (a, b) in input.iter().zip(&stem.vocals) {
                assert!((a - b).abs() < 1e-4, "{a} vs {b}");
            }
        }
        let mono = separator.separate(&left);
        for (a, b) in left.iter().zip(&mono.vocals) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        assert!(separator.accepts_channels(1) && separator.accepts_channels(2));
        assert!(!separator.accepts_channels(3) && !separator.accepts_channels(0));
        assert!(
            separator
                .separate_channels_at(&[&left, &left, &left], 16000)
                .is_err()
        );
    }

    /// Chunked and whole-signal inference agree away from chunk edges only approximately
    /// (the BLSTM sees less context), but every frame is computed exactly once and the output
    /// has the input's shape.
    #[test]
    fn chunked_magnitude_has_every_frame() {
        let device = Device::default();
        let config = tiny();
        let model = config.model.init(&device).valid();
        let separator = Separator::new(model, config).expect("valid");
        let y: Vec<f32> = (0..2000).map(|i| ((i as f32) * 0.11).cos()).collect();
        let spec = separator.stft.forward(&y);
        let v = separator.vocal_magnitude(&spec);
        assert_eq!(v.len(), spec.bins.len());
        assert!(v.iter().all(|x| x.is_finite() && *x >= 0.0));
    }

    #[test]
    fn save_and_load_round_trip() {
        let device = Device::default();
        let config = tiny();
        let separator = Separator::new(config.model.init(&device), config).expect("valid");
        let dir = tempfile::tempdir().expect("tempdir");
        separator
            .save(dir.path(), serde_json::json!({"note": "test"}))
            .expect("saves");
        let loaded = Separator::load(dir.path(), &device).expect("loads");
        let y: Vec<f32> = (0..700).map(|i| ((i as f32) * 0.05).sin()).collect();
        assert_eq!(separator.separate(&y), loaded.separate(&y));
        let err = Separator::load(&dir.path().join("nothing"), &device).expect_err("no folder");
        assert!(err.to_string().contains("separator.json"), "{err}");
    }

    #[test]
    fn mismatched_bins_are_refused() {
        let config = tiny().with_n_fft(128);
        let message = config.validate().expect_err("bins").to_string();
        assert!(
            message.contains("33 bins but n_fft 128 gives 65"),
            "{message}"
        );
    }
}
