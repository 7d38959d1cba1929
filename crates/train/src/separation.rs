//! Training the [`Separator`] on a dataset's stems (issue 12): MIR-1K's stereo files hold the
//! accompaniment on the left and the voice on the right, so the mixture is `(L + R) / 2` and
//! the target `R / 2`, and `mixture = target + residual` holds exactly.
//!
//! Each step draws `batch` examples as Open-Unmix trains (`openunmix/data.py`,
//! `random_track_mix`): a random crop of one clip's voice, with probability `remix` the
//! accompaniment of another random clip (else the same clip's, at its own random offset),
//! each source scaled by a random gain; the loss is the mean squared error between the
//! network's vocal magnitude and the target's (Open-Unmix's objective). After every epoch
//! (`steps_per_epoch` steps) the validation clips are separated whole and scored by GNSDR
//! (BSS Eval v3, [`singerid_eval::separation`]); the best epoch is kept as a separator folder.
//!
//! Run folder: `spec.json` (the [`SeparationSpec`]; a rerun with another spec is refused, except
//! for the stopping rules: epochs, patience, budget),
//! `log.csv` (one row per epoch), `last/` (network and Adam state, for resuming),
//! `best/` (a [`Separator`] folder whose provenance records the data, split and score).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::{Module, Param};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, OptimizerRecord};
use burn::tensor::{Device, Tensor, TensorData};
use burn_store::{BurnpackStore, ModuleSnapshot};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use singerid_audio::decode::decode;
use singerid_audio::resample::resample;
use singerid_audio::stft::ComplexStft;
use singerid_data::atomic::write_atomic;
use singerid_data::{Dataset, Progress};
use singerid_eval::separation::nsdr;
use singerid_models::separation::{
    MaskKind, OpenUnmix, Separator, SeparatorConfig, save_separator,
};

use crate::error::Error;
use crate::trainer::epochs::stream_seed;

/// What a separator training run is: data, network size, sampling and optimisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeparationSpec {
    /// Dataset (a folder tree or a manifest CSV) of stereo files: left = accompaniment,
    /// right = voice.
    pub data: PathBuf,
    /// Split trained on.
    pub train_split: String,
    /// Split selected on (GNSDR after every epoch).
    pub val_split: String,
    /// Width of the network (Open-Unmix's `hidden_size`).
    pub hidden: usize,
    /// LSTM layers.
    pub layers: usize,
    /// Mask applied at inference (and in validation).
    pub mask: MaskKind,
    /// Seconds per training example.
    pub seconds: f64,
    /// Examples per step.
    pub batch: usize,
    /// Steps between validations.
    pub steps_per_epoch: usize,
    /// Most epochs.
    pub epochs: usize,
    /// Adam's learning rate at the start.
    pub lr: f64,
    /// Epochs without a better validation GNSDR before the learning rate is multiplied by 0.3.
    pub lr_patience: usize,
    /// Epochs without a better validation GNSDR before training stops.
    pub patience: usize,
    /// Probability that an example's accompaniment comes from another clip.
    pub remix: f64,
    /// Each source is scaled by a gain drawn uniformly from `[gain_min, gain_max]`.
    pub gain_min: f32,
    /// See `gain_min`.
    pub gain_max: f32,
    /// Seed of initialisation and sampling.
    pub seed: u64,
    /// Wall-clock budget in seconds (training stops after the epoch that crosses it).
    pub budget_s: Option<f64>,
}

impl SeparationSpec {
    /// The defaults chosen for MIR-1K (bench/RESULTS.md, issue 12).
    pub fn new(data: PathBuf) -> Self {
        Self {
            data,
            train_split: "train".into(),
            val_split: "val".into(),
            hidden: 128,
            layers: 3,
            mask: MaskKind::Wiener,
            seconds: 3.0,
            batch: 16,
            steps_per_epoch: 100,
            epochs: 200,
            lr: 1e-3,
            lr_patience: 4,
            patience: 12,
            remix: 0.5,
            gain_min: 0.25,
            gain_max: 1.25,
            seed: 0,
            budget_s: None,
        }
    }

    /// The separator this spec trains.
    pub fn separator_config(&self) -> SeparatorConfig {
        let mut config = SeparatorConfig::mono_16k(self.hidden).with_mask(self.mask);
        config.model = config.model.with_nb_layers(self.layers);
        config
    }
}

/// One clip's stems at the separator's rate, already halved so that mixture = voice + rest.
#[derive(Debug, Clone)]
pub struct StemClip {
    /// Path relative to the dataset root.
    pub path: PathBuf,
    /// `R / 2`.
    pub voice: Vec<f32>,
    /// `L / 2`.
    pub accompaniment: Vec<f32>,
}

impl StemClip {
    /// `(L + R) / 2`.
    pub fn mixture(&self) -> Vec<f32> {
        self.voice
            .iter()
            .zip(&self.accompaniment)
            .map(|(v, a)| v + a)
            .collect()
    }
}

/// Decodes the stereo stems of every recording of `split` at `rate` Hz, in parallel.
///
/// # Errors
/// [`Error::Experiment`] for an empty split or a file that is not stereo; decoding errors
/// name the file.
pub fn load_stems(
    dataset: &Dataset,
    split: &str,
    rate: u32,
    progress: &dyn Progress,
) -> Result<Vec<StemClip>, Error> {
    let recordings = dataset
        .recordings_in_split(split)
        .map_err(|e| Error::Experiment {
            message: format!("split {split:?}: {e}"),
        })?;
    if recordings.is_empty() {
        return Err(Error::Experiment {
            message: format!("split {split:?} has no recordings"),
        });
    }
    progress.start(&format!("stems ({split})"), Some(recordings.len() as u64));
    let clips = recordings
        .par_iter()
        .map(|recording| {
            let clip = stem_clip(&dataset.root.join(&recording.path), &recording.path, rate)?;
            progress.advance(1);
            Ok(clip)
        })
        .collect::<Result<Vec<_>, Error>>();
    progress.finish();
    clips
}

/// Decodes one stereo stem file (`path`; `relative` names it in the clip) at `rate` Hz.
///
/// # Errors
/// [`Error::Experiment`] naming the file when it cannot be decoded or resampled or is not
/// stereo.
pub fn stem_clip(path: &Path, relative: &Path, rate: u32) -> Result<StemClip, Error> {
    let audio = decode(path).map_err(|e| Error::Experiment {
        message: format!("{}: {e}", path.display()),
    })?;
    if audio.channels.len() != 2 {
        return Err(Error::Experiment {
            message: format!(
                "{}: {} channel(s); stems must be stereo (left = accompaniment, right = voice)",
                path.display(),
                audio.channels.len()
            ),
        });
    }
    let half = |samples: &[f32]| -> Result<Vec<f32>, Error> {
        let resampled =
            resample(samples, audio.sample_rate_hz, rate).map_err(|e| Error::Experiment {
                message: format!("{}: {e}", path.display()),
            })?;
        Ok(resampled.into_iter().map(|x| x * 0.5).collect())
    };
    Ok(StemClip {
        path: relative.to_owned(),
        accompaniment: half(&audio.channels[0])?,
        voice: half(&audio.channels[1])?,
    })
}

/// A random crop of `len` samples starting anywhere (zero-padded when the clip is shorter).
fn crop(samples: &[f32], len: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let mut out = vec![0.0; len];
    if samples.len() <= len {
        out[..samples.len()].copy_from_slice(samples);
    } else {
        let start = rng.random_range(0..=samples.len() - len);
        out.copy_from_slice(&samples[start..start + len]);
    }
    out
}

/// One training example: `(mixture, voice)` of `len` samples (see the module docs).
pub fn draw_example(
    clips: &[StemClip],
    spec: &SeparationSpec,
    len: usize,
    rng: &mut ChaCha8Rng,
) -> (Vec<f32>, Vec<f32>) {
    let i = rng.random_range(0..clips.len());
    let j = if rng.random_bool(spec.remix.clamp(0.0, 1.0)) {
        rng.random_range(0..clips.len())
    } else {
        i
    };
    let voice_gain = rng.random_range(spec.gain_min..=spec.gain_max);
    let rest_gain = rng.random_range(spec.gain_min..=spec.gain_max);
    let voice: Vec<f32> = crop(&clips[i].voice, len, rng)
        .into_iter()
        .map(|x| x * voice_gain)
        .collect();
    let rest = crop(&clips[j].accompaniment, len, rng);
    let mixture = voice
        .iter()
        .zip(&rest)
        .map(|(v, a)| v + a * rest_gain)
        .collect();
    (mixture, voice)
}

/// Magnitudes of `signals` as a `[batch, 1, bins, frames]` tensor.
fn magnitudes(stft: &ComplexStft, signals: &[Vec<f32>], device: &Device) -> Tensor<4> {
    let specs: Vec<_> = signals
        .par_iter()
        .map(|s| stft.forward(s).magnitude())
        .collect();
    let bins = stft.n_bins();
    let frames = specs[0].len() / bins;
    let mut data = vec![0.0_f32; signals.len() * bins * frames];
    for (b, magnitude) in specs.iter().enumerate() {
        let base = b * bins * frames;
        for t in 0..frames {
            for f in 0..bins {
                data[base + f * frames + t] = magnitude[t * bins + f];
            }
        }
    }
    Tensor::from_data(
        TensorData::new(data, [signals.len(), 1, bins, frames]),
        device,
    )
}

/// Per-bin mean and standard deviation of the training mixtures' magnitudes (Open-Unmix's
/// input scaler), the std floored at 1e-4 of its largest value as `openunmix` does.
fn input_statistics(stft: &ComplexStft, clips: &[StemClip]) -> (Vec<f32>, Vec<f32>) {
    let bins = stft.n_bins();
    let (sum, sum_sq, count) = clips
        .par_iter()
        .map(|clip| {
            let magnitude = stft.forward(&clip.mixture()).magnitude();
            let mut sum = vec![0.0_f64; bins];
            let mut sum_sq = vec![0.0_f64; bins];
            for frame in magnitude.chunks(bins) {
                for (f, &m) in frame.iter().enumerate() {
                    sum[f] += f64::from(m);
                    sum_sq[f] += f64::from(m) * f64::from(m);
                }
            }
            (sum, sum_sq, magnitude.len() / bins)
        })
        .reduce(
            || (vec![0.0; bins], vec![0.0; bins], 0),
            |mut a, b| {
                for f in 0..bins {
                    a.0[f] += b.0[f];
                    a.1[f] += b.1[f];
                }
                (a.0, a.1, a.2 + b.2)
            },
        );
    let n = count.max(1) as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
    let std: Vec<f64> = sum_sq
        .iter()
        .zip(&mean)
        .map(|(s, m)| (s / n - m * m).max(0.0).sqrt())
        .collect();
    let floor = std.iter().copied().fold(0.0, f64::max) * 1e-4;
    (
        mean.iter().map(|&m| m as f32).collect(),
        std.iter().map(|&s| s.max(floor).max(1e-8) as f32).collect(),
    )
}

/// GNSDR of `network` on `clips` (NSDR only: the cheap score training selects on).
fn validation_gnsdr(separator: &Separator, clips: &[StemClip]) -> f64 {
    // Each clip's mixture is built once and used for both separation and scoring.
    let separated: Vec<(Vec<f32>, Vec<f32>)> = clips
        .iter()
        .map(|c| {
            let mixture = c.mixture();
            let vocals = separator.separate(&mixture).vocals;
            (mixture, vocals)
        })
        .collect();
    let (weighted, total) = clips
        .par_iter()
        .zip(&separated)
        .filter_map(|(clip, (mixture, estimate))| {
            let to64 = |x: &[f32]| x.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>();
            let voice = to64(&clip.voice);
            let mixture = to64(mixture);
            let gain = nsdr(&voice, &to64(estimate), &mixture).ok()?;
            Some((gain * voice.len() as f64, voice.len() as f64))
        })
        .reduce(|| (0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
    if total > 0.0 {
        weighted / total
    } else {
        f64::NEG_INFINITY
    }
}

/// Where a run stands (`last/state.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    epoch: usize,
    best_epoch: usize,
    best_gnsdr: f64,
    lr: f64,
    since_best: usize,
    elapsed_s: f64,
}

/// How a separator training run ended.
#[derive(Debug, Clone, Serialize)]
pub struct SeparationOutcome {
    /// Epochs done in total.
    pub epochs: usize,
    /// The best epoch (1-based) and its validation GNSDR.
    pub best_epoch: usize,
    /// Validation GNSDR of `best/`, dB.
    pub best_gnsdr: f64,
    /// Training time over all sessions, seconds.
    pub elapsed_s: f64,
    /// Why it stopped: "epochs", "patience" or "budget".
    pub stopped: String,
}

fn json_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Json {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

fn run_error(path: &Path, message: String) -> Error {
    Error::Run {
        path: path.to_owned(),
        message,
    }
}

/// Trains (or resumes) a separator in `run_dir`; see the module docs.
///
/// # Errors
/// A run folder holding another spec; data that cannot be read; files that cannot be written.
pub fn train_separator(
    run_dir: &Path,
    spec: &SeparationSpec,
    device: &Device,
    progress: &dyn Progress,
) -> Result<SeparationOutcome, Error> {
    let config = spec.separator_config();
    config.validate().map_err(|e| Error::Experiment {
        message: e.to_string(),
    })?;
    if spec.batch == 0 || spec.steps_per_epoch == 0 || spec.seconds <= 0.0 {
        return Err(Error::Experiment {
            message: "batch, steps per epoch and seconds must be positive".into(),
        });
    }
    std::fs::create_dir_all(run_dir).map_err(Error::io(run_dir))?;
    let spec_path = run_dir.join("spec.json");
    let spec_json = serde_json::to_string_pretty(spec).map_err(|e| json_error(&spec_path, e))?;
    if let Ok(old) = std::fs::read_to_string(&spec_path) {
        let old: SeparationSpec =
            serde_json::from_str(&old).map_err(|e| json_error(&spec_path, e))?;
        // The stopping rules (epochs, budget, patience) and the plateau rule's patience may
        // change between sessions; a changed plateau patience applies from the resumed epoch.
        let comparable = |s: &SeparationSpec| SeparationSpec {
            epochs: 0,
            budget_s: None,
            patience: 0,
            lr_patience: 0,
            ..s.clone()
        };
        if comparable(&old) != comparable(spec) {
            return Err(run_error(
                &spec_path,
                "this run folder was started with another spec; use a new folder".into(),
            ));
        }
    }
    write_atomic(&spec_path, (spec_json + "\n").as_bytes()).map_err(Error::io(&spec_path))?;

    let dataset = Dataset::open(&spec.data).map_err(|e| Error::Experiment {
        message: e.to_string(),
    })?;
    let rate = config.sample_rate_hz;
    let train = load_stems(&dataset, &spec.train_split, rate, progress)?;
    let val = load_stems(&dataset, &spec.val_split, rate, progress)?;
    let stft = ComplexStft::new(config.n_fft, config.hop_length);

    let ad = device.clone().autodiff();
    let last_dir = run_dir.join("last");
    let state_path = last_dir.join("state.json");
    let (mut model, mut optim, mut state): (OpenUnmix, ModuleOptimizer, State) =
        if state_path.exists() {
            let state: State = serde_json::from_str(
                &std::fs::read_to_string(&state_path).map_err(Error::io(&state_path))?,
            )
            .map_err(|e| json_error(&state_path, e))?;
            let mut model = config.model.init(&ad);
            let model_path = last_dir.join("model.bpk");
            model
                .load_from(&mut BurnpackStore::from_file(&model_path))
                .map_err(|e| run_error(&model_path, format!("cannot be loaded: {e}")))?;
            let optim_path = last_dir.join("optimizer.bpk");
            let record = OptimizerRecord::load(&optim_path)
                .map_err(|e| run_error(&optim_path, format!("cannot be loaded: {e}")))?;
            let optim = AdamConfig::new().init().load_record(record);
            progress.message(&format!("resuming after epoch {}", state.epoch));
            (model, optim, state)
        } else {
            device.seed(spec.seed);
            let mut model = config.model.init(&ad);
            let (mean, std) = input_statistics(&stft, &train);
            let bins = mean.len();
            let neg_mean: Vec<f32> = mean.iter().map(|m| -m).collect();
            let inv_std: Vec<f32> = std.iter().map(|s| 1.0 / s).collect();
            model.input_mean =
                Param::from_tensor(Tensor::from_data(TensorData::new(neg_mean, [bins]), &ad));
            model.input_scale =
                Param::from_tensor(Tensor::from_data(TensorData::new(inv_std, [bins]), &ad));
            let state = State {
                epoch: 0,
                best_epoch: 0,
                best_gnsdr: f64::NEG_INFINITY,
                lr: spec.lr,
                since_best: 0,
                elapsed_s: 0.0,
            };
            (model, AdamConfig::new().init(), state)
        };

    let log_path = run_dir.join("log.csv");
    if !log_path.exists() {
        std::fs::write(
            &log_path,
            "epoch,steps,train_loss,val_gnsdr_db,lr,elapsed_s\n",
        )
        .map_err(Error::io(&log_path))?;
    }
    let len = (spec.seconds * f64::from(rate)).round() as usize;
    let mut stopped = "epochs";
    while state.epoch < spec.epochs {
        if state.since_best >= spec.patience && state.epoch > 0 {
            stopped = "patience";
            break;
        }
        if spec.budget_s.is_some_and(|b| state.elapsed_s >= b) {
            stopped = "budget";
            break;
        }
        let started = Instant::now();
        let epoch = state.epoch + 1;
        let mut rng = ChaCha8Rng::seed_from_u64(stream_seed(spec.seed, epoch, 1));
        progress.start(
            &format!("separator epoch {epoch}"),
            Some(spec.steps_per_epoch as u64),
        );
        let mut loss_sum = 0.0_f64;
        for _ in 0..spec.steps_per_epoch {
            let (mixtures, voices): (Vec<_>, Vec<_>) = (0..spec.batch)
                .map(|_| draw_example(&train, spec, len, &mut rng))
                .unzip();
            let x = magnitudes(&stft, &mixtures, &ad);
            let y = magnitudes(&stft, &voices, &ad);
            let loss = (model.forward(x) - y).powi_scalar(2).mean();
            loss_sum += f64::from(loss.clone().into_scalar::<f32>());
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(state.lr, model, grads);
            progress.advance(1);
        }
        progress.finish();
        let separator =
            Separator::new(model.valid(), config.clone()).map_err(|e| Error::Experiment {
                message: e.to_string(),
            })?;
        let gnsdr = validation_gnsdr(&separator, &val);
        state.elapsed_s += started.elapsed().as_secs_f64();
        state.epoch = epoch;
        let train_loss = loss_sum / spec.steps_per_epoch as f64;
        if gnsdr > state.best_gnsdr {
            state.best_gnsdr = gnsdr;
            state.best_epoch = epoch;
            state.since_best = 0;
            let provenance = serde_json::json!({
                "trained_on": {
                    "data": spec.data, "split": spec.train_split,
                    "recordings": train.len(),
                    "stems": "left = accompaniment, right = voice; mixture (L+R)/2, target R/2",
                },
                "selected_on": {"split": spec.val_split, "recordings": val.len(),
                                "gnsdr_db": gnsdr, "epoch": epoch},
                "spec": spec,
                "licence": "trained on MIR-1K: research use only",
            });
            let staging = run_dir.join("best.staging");
            save_separator(&separator_model(&model), &config, &staging, provenance)
                .map_err(|e| run_error(&staging, e.to_string()))?;
            singerid_data::atomic::replace_dir(
                &staging,
                &run_dir.join("best"),
                &run_dir.join("best.aside"),
            )
            .map_err(Error::io(run_dir))?;
        } else {
            state.since_best += 1;
            if state.since_best % spec.lr_patience.max(1) == 0 {
                state.lr *= 0.3;
            }
        }
        // last/: network, optimizer, state, through a staging folder.
        let staging = run_dir.join("last.staging");
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(Error::io(&staging))?;
        }
        std::fs::create_dir_all(&staging).map_err(Error::io(&staging))?;
        let model_path = staging.join("model.bpk");
        model
            .save_into(&mut BurnpackStore::from_file(&model_path).overwrite(true))
            .map_err(|e| run_error(&model_path, format!("cannot be written: {e}")))?;
        let optim_path = staging.join("optimizer.bpk");
        optim
            .to_record()
            .save(&optim_path)
            .map_err(|e| run_error(&optim_path, format!("cannot be written: {e}")))?;
        let state_json =
            serde_json::to_string_pretty(&state).map_err(|e| json_error(&state_path, e))?;
        write_atomic(&staging.join("state.json"), (state_json + "\n").as_bytes())
            .map_err(Error::io(&staging))?;
        singerid_data::atomic::replace_dir(&staging, &last_dir, &run_dir.join("last.aside"))
            .map_err(Error::io(&last_dir))?;
        let mut log = std::fs::OpenOptions::new()
            .append(true)
            .open(&log_path)
            .map_err(Error::io(&log_path))?;
        writeln!(
            log,
            "{epoch},{},{train_loss:.6},{gnsdr:.4},{:.2e},{:.1}",
            epoch * spec.steps_per_epoch,
            state.lr,
            state.elapsed_s
        )
        .map_err(Error::io(&log_path))?;
        progress.message(&format!(
            "epoch {epoch}: train loss {train_loss:.5}, validation GNSDR {gnsdr:.2} dB (best \
             {:.2} dB at epoch {}), {:.0} s",
            state.best_gnsdr,
            state.best_epoch,
            started.elapsed().as_secs_f64()
        ));
    }
    Ok(SeparationOutcome {
        epochs: state.epoch,
        best_epoch: state.best_epoch,
        best_gnsdr: state.best_gnsdr,
        elapsed_s: state.elapsed_s,
        stopped: stopped.into(),
    })
}

/// The inference copy of a network being trained (what `best/` stores).
fn separator_model(model: &OpenUnmix) -> OpenUnmix {
    model.valid()
}
