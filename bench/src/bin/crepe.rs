//! Times singerid's CREPE: framing (normalised 1024-sample frames) and the network's
//! activations for a song's first `--seconds` at 16 kHz, for one capacity; with
//! `bench/crepe_vs_torch.py`, against `torchcrepe` 0.0.24 on the same signal, model size, hop,
//! batch and thread count (issue 14; bench/RESULTS.md). Decoding is not timed (it is a small
//! part of either side and torchcrepe's Viterbi runs in librosa).
//!
//! The weights are the shipped ones for `tiny` (`models/crepe-tiny`) and random for `full`
//! unless `--weights DIR` gives a converted folder: the arithmetic is the same either way.
//!
//! Usage: `crepe [--capacity tiny|full] [--weights DIR] [--song FILE] [--seconds 30]
//! [--hop 160] [--batch 512] [--reps 3] [--write-wav OUT] [--json]`

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use clap::Parser;
use singerid_bench::median;
use singerid_models::pitch::{CrepeConfig, frames_tensor, load_crepe};

/// Time CREPE inference on a song.
#[derive(Parser, Debug)]
struct Args {
    /// Model capacity: tiny or full.
    #[arg(long, default_value = "tiny")]
    capacity: String,
    /// A converted CREPE folder to load (default: models/crepe-tiny for tiny, random for full).
    #[arg(long)]
    weights: Option<PathBuf>,
    /// The audio (channel mix, resampled to 16 kHz).
    #[arg(
        long,
        default_value = "../shared/data/songs/karissa_hobbs-lets_go_fishin.ogg"
    )]
    song: PathBuf,
    /// Seconds from the start of the song that are analysed.
    #[arg(long, default_value_t = 30.0)]
    seconds: f64,
    /// Samples between frames (160 = 10 ms).
    #[arg(long, default_value_t = 160)]
    hop: usize,
    /// Frames per network call (torchcrepe's batch_size).
    #[arg(long, default_value_t = 512)]
    batch: usize,
    /// Timed repetitions (after one warm-up); the median is reported.
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Write the analysed 16 kHz signal here (for bench/crepe_vs_torch.py).
    #[arg(long)]
    write_wav: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Also print the time of each of the six conv blocks (one pass over the first --batch
    /// frames) on burn's tensor-op path (`Crepe::forward_ops`, the path of autodiff and GPU
    /// devices; inference on the CPU takes `CrepeCpu`), to see where its time goes.
    #[arg(long)]
    layers: bool,
}

fn main() -> ExitCode {
    singerid_bench::exit(run(&Args::parse()))
}

fn run(args: &Args) -> Result<()> {
    if args.reps == 0 || args.batch == 0 || args.hop == 0 || args.seconds <= 0.0 {
        bail!("--reps, --batch, --hop and --seconds must be positive");
    }
    let mut config = singerid_audio::Preset::Fgnl.config();
    config.channel = singerid_audio::Channel::Mix;
    let mut signal = singerid_audio::load(&args.song, &config).context("loading the song")?;
    if signal.sample_rate_hz != 16_000 {
        bail!("expected 16 kHz, got {}", signal.sample_rate_hz);
    }
    let keep = ((args.seconds * 16_000.0) as usize).min(signal.samples.len());
    signal.samples.truncate(keep);
    if let Some(out) = &args.write_wav {
        singerid_audio::wav::write_wav(out, &[&signal.samples], 16_000)
            .context("writing the WAV")?;
    }
    let device = Device::flex();
    device.seed(0);
    let model = match (&args.weights, args.capacity.as_str()) {
        (Some(dir), _) => load_crepe(dir, &device).context("loading --weights")?.1,
        (None, "tiny") => {
            load_crepe(std::path::Path::new("models/crepe-tiny"), &device)
                .context("loading models/crepe-tiny (run from the repository root)")?
                .1
        }
        (None, "full") => CrepeConfig::full().init(&device),
        (None, other) => bail!("--capacity must be tiny or full, got {other}"),
    };
    if args.layers {
        let x = frames_tensor(&signal.samples, args.hop, true, &device).context("framing")?;
        let n = x.dims()[0].min(args.batch);
        let mut x = x
            .narrow(0, 0, n)
            .reshape([n, 1, singerid_models::pitch::WINDOW_SIZE]);
        let _ = model.forward(x.clone().reshape([n, singerid_models::pitch::WINDOW_SIZE]));
        for (k, layer) in model.layers.iter().enumerate() {
            let start = Instant::now();
            x = layer.forward(x);
            let _: f32 = x.clone().sum().into_scalar();
            println!(
                "block {}: {:.3} s, output {:?}",
                k + 1,
                start.elapsed().as_secs_f64(),
                x.dims()
            );
        }
    }
    let mut times = Vec::new();
    let mut frames = 0;
    for i in 0..=args.reps {
        let start = Instant::now();
        let x = frames_tensor(&signal.samples, args.hop, true, &device).context("framing")?;
        frames = x.dims()[0];
        let activations = model.forward_batched(x, args.batch);
        let _: f32 = activations.sum().into_scalar();
        if i > 0 {
            times.push(start.elapsed().as_secs_f64());
        }
    }
    let t = median(times);
    let gflop_per_s = 2.0 * multiply_adds_per_frame(&model) * frames as f64 / t / 1e9;
    let seconds = signal.samples.len() as f64 / 16_000.0;
    let threads = rayon::current_num_threads();
    if args.json {
        println!(
            "{}",
            serde_json::json!({"capacity": args.capacity, "seconds_of_audio": seconds,
                "hop": args.hop, "batch": args.batch, "frames": frames, "infer_s": t,
                "frames_per_s": frames as f64 / t, "gflop_per_s": gflop_per_s,
                "threads": threads})
        );
    } else {
        println!(
            "CREPE {}: {seconds:.1} s of audio, {frames} frames (hop {}), batch {}, {threads} \
             threads: {t:.3} s ({:.0} frames/s, {:.1} % of the audio's duration, \
             {gflop_per_s:.1} GFLOP/s in the convolutions and the classifier)",
            args.capacity,
            args.hop,
            args.batch,
            frames as f64 / t,
            100.0 * t / seconds
        );
    }
    Ok(())
}

/// Multiply-adds of one frame through the six conv layers and the classifier (the
/// element-wise layers are not counted): `positions · kernel · channels_in · filters` per
/// layer, positions `ceil(length / stride)`, the length halved by each pool.
fn multiply_adds_per_frame(model: &singerid_models::pitch::Crepe) -> f64 {
    let mut length = singerid_models::pitch::WINDOW_SIZE;
    let mut total = 0.0;
    for layer in &model.layers {
        let [filters, channels_in, kernel] = layer.conv.weight.dims();
        let positions = length.div_ceil(layer.conv.stride);
        total += (positions * kernel * channels_in * filters) as f64;
        length = positions / 2;
    }
    let [inputs, outputs] = model.classifier.weight.dims();
    total + (inputs * outputs) as f64
}
