//! Times one configuration of a singerid model on burn-flex: training steps or inference.
//!
//! The Rust side of the side-by-side benchmark against TensorFlow and PyTorch (issues #3 and
//! #11). The driver, `bench/models_vs_peers.py`, runs this binary once per configuration (a fresh
//! process each, so that the peak memory belongs to that configuration alone) beside
//! `tools/tf_models.py` and `tools/torch_models.py`, which time the same model, batch, input size
//! and thread count in TensorFlow (tf_keras) and PyTorch.
//!
//! - `--mode train`: forward in training mode (batch statistics, dropout), softmax cross-entropy on
//!   the logits, backward, one Adam step (lr 1e-4, eps 1e-7 as Keras; the same values as the PyTorch
//!   side). The model is moved by the optimizer, so every step trains the previous step's weights.
//! - `--mode infer`: forward on a plain (no autodiff) device with the module in validation mode.
//!
//! `--warmup` untimed steps come first, then `--reps` timed ones. One JSON object goes to stdout
//! (step times in seconds, parameter count, rayon threads, memory from `/proc/self/status`);
//! progress goes to stderr. Threads come from rayon's global pool, which burn-flex and its gemm use:
//! set `RAYON_NUM_THREADS` (the driver sets 2).

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::Distribution;
use clap::{Parser, ValueEnum};
use serde_json::json;
use singerid_models::{Model, ModelConfig, ModelKind};

/// Mel bins of the FGNL feature preset: the models' input height.
const MELS: usize = 128;
/// Classes in artist20.
const CLASSES: usize = 20;
/// The paper's constant learning rate.
const ADAM_LR: f64 = 1e-4;
/// Keras' Adam epsilon; burn's default is 1e-5 and PyTorch's 1e-8, so both sides set it.
const ADAM_EPS: f32 = 1e-7;
/// Standard deviation of the random input, in dB-like units.
const INPUT_STD: f64 = 20.0;

#[derive(Parser, Debug)]
#[command(about = "Time a singerid model on burn-flex (one configuration; prints one JSON object)")]
struct Args {
    /// The model to build.
    #[arg(long, value_enum)]
    model: BenchModel,
    /// T, frames per clip (94 or 157 in the paper).
    #[arg(long)]
    frames: usize,
    /// Training steps or inference.
    #[arg(long, value_enum)]
    mode: Mode,
    /// Clips per batch.
    #[arg(long)]
    batch: usize,
    /// Untimed steps before timing.
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// Timed steps.
    #[arg(long, default_value_t = 10)]
    reps: usize,
    /// Seed of the device RNG (weights, input, dropout masks).
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum BenchModel {
    Crnn,
    CrnnFgnl,
    /// CRNN with the melody branch (input: a one-hot contour, one hot row per frame).
    Crnnm,
    /// CRNN_FGNL with the melody branch.
    CrnnmFgnl,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Train,
    Infer,
}

impl BenchModel {
    fn kind(self) -> ModelKind {
        match self {
            Self::Crnn => ModelKind::Crnn,
            Self::CrnnFgnl => ModelKind::CrnnFgnl,
            Self::Crnnm => ModelKind::Crnnm,
            Self::CrnnmFgnl => ModelKind::CrnnmFgnl,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Crnn => "crnn",
            Self::CrnnFgnl => "crnn-fgnl",
            Self::Crnnm => "crnnm",
            Self::CrnnmFgnl => "crnnm-fgnl",
        }
    }
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Infer => "infer",
        }
    }
}

fn main() -> ExitCode {
    singerid_bench::exit(run(&Args::parse()))
}

fn run(args: &Args) -> Result<()> {
    if args.reps == 0 || args.batch == 0 || args.frames == 0 {
        bail!("--reps, --batch and --frames must be at least 1");
    }
    let plain = Device::flex();
    plain.seed(args.seed);
    let device = match args.mode {
        Mode::Train => plain.clone().autodiff(),
        Mode::Infer => plain.clone(),
    };
    let config = ModelConfig::new(args.model.kind(), CLASSES);
    let model: Model = config.init(&device);
    let model = match args.mode {
        Mode::Train => model,
        Mode::Infer => model.valid(),
    };
    let params = model.num_params();
    let mel = Tensor::<4>::random(
        [args.batch, 1, MELS, args.frames],
        Distribution::Normal(0.0, INPUT_STD),
        &device,
    );
    // A melody model's second input: a one-hot contour (row (7 t + 3 b) % 64 at frame t of clip
    // b, inside CREPE's rows of the authors' grid).
    let melody = args.model.kind().uses_melody().then(|| {
        let mut values = vec![0.0f32; args.batch * MELS * args.frames];
        for b in 0..args.batch {
            for t in 0..args.frames {
                let row = (7 * t + 3 * b) % 64;
                values[(b * MELS + row) * args.frames + t] = 1.0;
            }
        }
        Tensor::<4>::from_data(
            TensorData::new(values, [args.batch, 1, MELS, args.frames]),
            &device,
        )
    });
    let labels: Vec<i64> = (0..args.batch)
        .map(|i| ((i * 7) % CLASSES) as i64)
        .collect();
    let labels = Tensor::<1, Int>::from_data(TensorData::new(labels, [args.batch]), &device);

    let setup = memory_kib()?;
    let label = format!(
        "singerid {} T={} {}",
        args.model.name(),
        args.frames,
        args.mode.name()
    );
    let mut times = Vec::with_capacity(args.reps);
    match args.mode {
        Mode::Train => {
            let loss_fn = CrossEntropyLossConfig::new().init(&device);
            let mut optim = AdamConfig::new().with_epsilon(ADAM_EPS).init();
            let mut model = model;
            for i in 0..args.warmup + args.reps {
                let start = Instant::now();
                let out = model.forward(mel.clone(), melody.clone());
                let loss = loss_fn.forward(out.logits, labels.clone());
                let loss_value: f32 = loss.clone().into_scalar();
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = optim.step(ADAM_LR, model, grads);
                device
                    .sync()
                    .context("synchronising the device after the Adam step")?;
                record(&label, i, args.warmup, start, &mut times);
                if !loss_value.is_finite() {
                    bail!("{label}: loss is {loss_value} at step {}", i + 1);
                }
            }
        }
        Mode::Infer => {
            for i in 0..args.warmup + args.reps {
                let start = Instant::now();
                let out = model.forward(mel.clone(), melody.clone());
                let _: f32 = out.logits.sum().into_scalar();
                record(&label, i, args.warmup, start, &mut times);
            }
        }
    }
    let end = memory_kib()?;

    let report = json!({
        "side": "singerid",
        "engine": "burn 0.22.1 flex",
        "model": args.model.name(),
        "frames": args.frames,
        "mode": args.mode.name(),
        "batch": args.batch,
        "params": params,
        "threads": rayon::current_num_threads(),
        "rayon_num_threads_env": std::env::var("RAYON_NUM_THREADS").ok(),
        "warmup": args.warmup,
        "step_s": times,
        "rss_setup_kib": setup.rss,
        "vmrss_kib": end.rss,
        "vmhwm_kib": end.hwm,
    });
    println!("{report}");
    Ok(())
}

fn record(label: &str, i: usize, warmup: usize, start: Instant, times: &mut Vec<f64>) {
    let elapsed = start.elapsed().as_secs_f64();
    eprintln!("{label}: step {} {elapsed:.3} s", i + 1);
    if i >= warmup {
        times.push(elapsed);
    }
}

/// Resident and peak resident set size of this process, in KiB.
struct Memory {
    rss: u64,
    hwm: u64,
}

fn memory_kib() -> Result<Memory> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    let field = |key: &str| -> Result<u64> {
        let line = status
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .with_context(|| format!("no {key} line in /proc/self/status"))?;
        let value = line
            .trim_start_matches(':')
            .trim()
            .trim_end_matches("kB")
            .trim();
        value
            .parse()
            .with_context(|| format!("parsing {key} value {value:?} in /proc/self/status"))
    };
    Ok(Memory {
        rss: field("VmRSS")?,
        hwm: field("VmHWM")?,
    })
}
