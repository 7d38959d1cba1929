//! Times singerid's Open-Unmix separator: a training step (forward, MSE on magnitudes,
//! backward, Adam) and inference over a long spectrogram, for one model size. Used to choose
//! the separator's size (bench/RESULTS.md, issue 12) and, with `bench/separator_vs_torch.py`,
//! to compare with `openunmix`'s PyTorch model of the same size and thread count.
//!
//! With `--song FILE`, also times the whole [`Separator::separate`] (STFT, network, Wiener
//! mask, inverse STFT) on that song's channel mix at 16 kHz (`--write-wav` saves that signal for
//! `bench/separator_vs_torch.py`), and skips the training step.
//!
//! Usage: `separator [--hidden 128] [--layers 3] [--bins 513] [--batch 16] [--frames 94]
//! [--infer-frames 5625] [--reps 5] [--song FILE [--write-wav OUT]] [--json]`

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor};
use clap::Parser;
use singerid_bench::median;
use singerid_models::separation::{OpenUnmixConfig, Separator, SeparatorConfig};

/// Time one Open-Unmix size: training step and long-file inference.
#[derive(Parser, Debug)]
struct Args {
    /// Width of the fc layers (each LSTM direction has half).
    #[arg(long, default_value_t = 128)]
    hidden: usize,
    /// LSTM layers.
    #[arg(long, default_value_t = 3)]
    layers: usize,
    /// Frequency bins (n_fft / 2 + 1), all fed to the network.
    #[arg(long, default_value_t = 513)]
    bins: usize,
    /// Training batch.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Frames per training example.
    #[arg(long, default_value_t = 94)]
    frames: usize,
    /// Frames of the inference input (5625 = 3 min at 16 kHz, hop 512).
    #[arg(long, default_value_t = 5625)]
    infer_frames: usize,
    /// Timed repetitions (after one warm-up); the median is reported.
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Time the full separator on this song (channel mix, 16 kHz) instead of training.
    #[arg(long)]
    song: Option<std::path::PathBuf>,
    /// With --song: write the 16 kHz mono signal here (32-bit float WAV).
    #[arg(long)]
    write_wav: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    singerid_bench::exit(run(&Args::parse()))
}

fn song(args: &Args, path: &std::path::Path) -> Result<()> {
    let mut config = singerid_audio::Preset::Fgnl.config();
    config.channel = singerid_audio::Channel::Mix;
    let signal = singerid_audio::load(path, &config).context("loading the song")?;
    if let Some(out) = &args.write_wav {
        singerid_audio::wav::write_wav(out, &[&signal.samples], signal.sample_rate_hz)
            .context("writing the WAV")?;
    }
    let plain = Device::flex();
    plain.seed(0);
    let sep_config = SeparatorConfig::mono_16k(args.hidden);
    let mut sep_config = sep_config;
    sep_config.model = sep_config.model.with_nb_layers(args.layers);
    let separator = Separator::new(sep_config.model.init(&plain), sep_config)
        .context("building the separator")?;
    let _ = separator.separate(&signal.samples); // warm-up
    let mut times = Vec::new();
    for _ in 0..args.reps {
        let start = Instant::now();
        let stems = separator.separate(&signal.samples);
        times.push(start.elapsed().as_secs_f64());
        assert_eq!(stems.vocals.len(), signal.samples.len());
    }
    let t = median(times);
    let duration = signal.duration_s();
    if args.json {
        println!(
            "{}",
            serde_json::json!({"song": path, "seconds_of_audio": duration, "hidden": args.hidden,
                "layers": args.layers, "separate_s": t, "fraction_of_duration": t / duration,
                "threads": rayon::current_num_threads()})
        );
    } else {
        println!(
            "separator hidden {} x{}: {:.1} s of audio separated in {t:.3} s ({:.2} % of its \
             duration), {} threads",
            args.hidden,
            args.layers,
            duration,
            100.0 * t / duration,
            rayon::current_num_threads()
        );
    }
    Ok(())
}

fn run(args: &Args) -> Result<()> {
    if let Some(path) = &args.song {
        return song(args, path);
    }
    if args.reps == 0 || args.batch == 0 || args.frames == 0 || args.infer_frames == 0 {
        bail!("--reps, --batch, --frames and --infer-frames must be at least 1");
    }
    let plain = Device::flex();
    plain.seed(0);
    let device = plain.clone().autodiff();
    let config = OpenUnmixConfig::new()
        .with_nb_bins(args.bins)
        .with_nb_channels(1)
        .with_hidden_size(args.hidden)
        .with_nb_layers(args.layers)
        .with_max_bin(None);
    let mut model = config.try_init(&device).context("building the model")?;
    let params = burn::module::Module::num_params(&model);
    let shape = [args.batch, 1, args.bins, args.frames];
    let x = Tensor::<4>::random(shape, Distribution::Uniform(0.0, 1.0), &device);
    let y = Tensor::<4>::random(shape, Distribution::Uniform(0.0, 0.5), &device);
    let mut optim = AdamConfig::new().init();
    let mut train = Vec::new();
    for i in 0..=args.reps {
        let start = Instant::now();
        let loss = (model.forward(x.clone()) - y.clone()).powi_scalar(2).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-3, model, grads);
        device.sync().context("sync")?;
        if i > 0 {
            train.push(start.elapsed().as_secs_f64());
        }
    }
    let valid = model.valid();
    let long = Tensor::<4>::random(
        [1, 1, args.bins, args.infer_frames],
        Distribution::Uniform(0.0, 1.0),
        &plain,
    );
    let mut infer = Vec::new();
    for i in 0..=args.reps.min(3) {
        let start = Instant::now();
        let _: f32 = valid.forward(long.clone()).sum().into_scalar();
        if i > 0 {
            infer.push(start.elapsed().as_secs_f64());
        }
    }
    let (train, infer) = (median(train), median(infer));
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "hidden": args.hidden, "layers": args.layers, "bins": args.bins,
                "batch": args.batch, "frames": args.frames, "params": params,
                "train_step_s": train, "infer_frames": args.infer_frames, "infer_s": infer,
                "threads": rayon::current_num_threads(),
            })
        );
    } else {
        println!(
            "Open-Unmix hidden {} x{} layers, {} bins, {params} params, {} threads: train step \
             (batch {}, {} frames) {train:.3} s; inference of {} frames {infer:.3} s",
            args.hidden,
            args.layers,
            args.bins,
            rayon::current_num_threads(),
            args.batch,
            args.frames,
            args.infer_frames
        );
    }
    Ok(())
}
