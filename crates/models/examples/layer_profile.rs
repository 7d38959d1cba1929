//! Breaks one training step of a singerid model into forward, backward and optimiser time per
//! layer type (issue #4, item 1).
//!
//! Every layer of the model runs in isolation on an input of the shape it sees inside the model
//! (a fresh leaf that requires its gradient), on an autodiff flex device: the forward is timed to
//! a device sync, then the backward from a gradient of ones. The whole step (forward, backward,
//! Adam) is timed as well, so the per-layer sums can be checked against it. Medians of `--reps`
//! after one warm-up.
//!
//! ```text
//! RAYON_NUM_THREADS=2 cargo run --release -p singerid-models --example layer_profile -- crnn 157 16 5
//! ```
//!
//! Arguments (positional, all optional): model (`crnn` or `crnn-fgnl`), frames (157), batch (16),
//! repetitions (5), and `composed` to time burn's convolution, ELU, batch-norm and max-pool in place
//! of the kernels of `singerid_models::kernels`. Output: one line per layer, then the totals per layer type, as Markdown rows.

use std::collections::BTreeMap;
use std::time::Instant;

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::Distribution;
use singerid_models::attention::AttentionBlock;
use singerid_models::blocks::conv_block::elu;
use singerid_models::kernels;
use singerid_models::{Model, ModelConfig, ModelKind};

/// Classes in artist20.
const CLASSES: usize = 20;

/// Forward and backward seconds of one layer (medians).
#[derive(Clone, Copy, Default)]
struct Cost {
    forward: f64,
    backward: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Times `f` on a fresh leaf of `shape`: forward to a sync, then backward from ones.
fn time_layer<const D: usize, const E: usize>(
    device: &Device,
    shape: [usize; D],
    reps: usize,
    f: impl Fn(Tensor<D>) -> Tensor<E>,
) -> (Cost, [usize; E]) {
    let mut forward = Vec::new();
    let mut backward = Vec::new();
    let mut out_shape = [0; E];
    for i in 0..=reps {
        let x = Tensor::<D>::random(shape, Distribution::Normal(0.0, 1.0), device).require_grad();
        device.sync().expect("sync");
        let start = Instant::now();
        let y = f(x.clone());
        device.sync().expect("sync");
        let t_forward = start.elapsed().as_secs_f64();
        out_shape = y.dims();
        let start = Instant::now();
        let grads = y.backward();
        let _ = x.grad(&grads).map(|g| g.into_data());
        let t_backward = start.elapsed().as_secs_f64();
        if i > 0 {
            forward.push(t_forward);
            backward.push(t_backward);
        }
    }
    (
        Cost {
            forward: median(forward),
            backward: median(backward),
        },
        out_shape,
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let kind = match args.first().map(String::as_str) {
        None | Some("crnn") => ModelKind::Crnn,
        Some("crnn-fgnl") | Some("crnn_fgnl") => ModelKind::CrnnFgnl,
        Some(other) => panic!("unknown model {other:?}: crnn or crnn-fgnl"),
    };
    let arg = |i: usize, default: usize| {
        args.get(i)
            .map(|s| s.parse().expect("a positive integer"))
            .unwrap_or(default)
    };
    let (frames, batch, reps) = (arg(1, 157), arg(2, 16), arg(3, 5));
    // `composed` as the fifth argument times burn's own ELU, batch-norm and max-pool instead of
    // singerid's fused kernels (the whole-step figures always use the model as built).
    let composed = args.get(4).is_some_and(|a| a == "composed");
    let device = Device::flex().autodiff();
    device.seed(0);
    let config = ModelConfig::new(kind, CLASSES);
    let model: Model = config.init(&device);
    let mels = config.backbone.mels;
    println!(
        "# {kind} T={frames} batch {batch}, {} rayon threads, median of {reps}",
        rayon_threads()
    );

    let mut by_type: BTreeMap<&str, Cost> = BTreeMap::new();
    let mut add = |name: &'static str, cost: Cost, shape: &[usize]| {
        println!(
            "| {name} | {shape:?} | {:.1} | {:.1} |",
            cost.forward * 1e3,
            cost.backward * 1e3
        );
        let entry = by_type.entry(name).or_default();
        entry.forward += cost.forward;
        entry.backward += cost.backward;
    };

    let branch = &model.branches[0];
    let (cost, _) = time_layer(&device, [batch, 1, mels, frames], reps, |x| {
        branch.input_norm.forward(x)
    });
    add("input batch-norm", cost, &[batch, 1, mels, frames]);
    let mut shape = [batch, 1, mels, frames];
    let mut previous_shape = shape;
    for block in &branch.blocks {
        let (cost, out) = if composed {
            time_layer(&device, shape, reps, |x| block.conv.forward(x))
        } else {
            time_layer(&device, shape, reps, |x| {
                kernels::conv::conv2d(&block.conv, x)
            })
        };
        add("conv 3x3", cost, &shape);
        let mut out = out;
        if composed {
            let (cost, _) = time_layer(&device, out, reps, elu);
            add("ELU", cost, &out);
            let (cost, _) = time_layer(&device, out, reps, |x| block.norm.forward(x));
            add("batch-norm", cost, &out);
            if let Some(pool) = &block.pool {
                let (cost, pooled) = time_layer(&device, out, reps, |x| pool.forward(x));
                add("max-pool", cost, &out);
                out = pooled;
            }
        } else {
            let pool = block.pool.as_ref().map(|p| p.kernel_size);
            let (cost, pooled) = time_layer(&device, out, reps, |x| {
                kernels::elu_batch_norm_pool(x, &block.norm, pool)
            });
            add("ELU + batch-norm + max-pool (fused)", cost, &out);
            out = pooled;
        }
        let (cost, _) = time_layer(&device, out, reps, |x| block.dropout.forward(x));
        add("dropout", cost, &out);
        previous_shape = shape;
        shape = out;
    }
    if let Some(AttentionBlock::Fgnl(fgnl)) = &model.attention {
        // X3 is the block-3 output: the input of the last block.
        let x3 = Tensor::<4>::random(previous_shape, Distribution::Normal(0.0, 1.0), &device);
        let (cost, _) = time_layer(&device, shape, reps, |x| fgnl.forward(x, Some(x3.clone())));
        add("FGNL attention", cost, &shape);
    }
    let [_, c, f, t] = shape;
    let gru_in = [batch, t, f * c];
    let (cost, seq) = time_layer(&device, gru_in, reps, |x| model.gru_sequence.forward(x).0);
    add("GRU (sequence)", cost, &gru_in);
    let (cost, _) = time_layer(&device, seq, reps, |x| model.gru_final.forward(x).1);
    add("GRU (final)", cost, &seq);
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let labels = Tensor::<1, Int>::from_data(
        TensorData::new((0..batch).map(|i| (i % CLASSES) as i64).collect(), [batch]),
        &device,
    );
    let (cost, _) = time_layer(&device, [batch, config.gru_units], reps, |x| {
        loss_fn
            .forward(
                model.dense.forward(model.dropout.forward(x)),
                labels.clone(),
            )
            .unsqueeze::<1>()
    });
    add("dense + loss", cost, &[batch, config.gru_units]);

    // The machine's matrix-multiply rate on the shape of the CRNN's block-2 convolution
    // ([128, 576] x [576, 64·78] per clip, 16 clips), for the arithmetic floor.
    let plain = Device::flex();
    let a = Tensor::<3>::random([1, 128, 576], Distribution::Default, &plain);
    let b = Tensor::<3>::random([16, 576, 64 * 78], Distribution::Default, &plain);
    let mut rates = Vec::new();
    for i in 0..=reps {
        let start = Instant::now();
        let c = a.clone().matmul(b.clone());
        plain.sync().expect("sync");
        let t = start.elapsed().as_secs_f64();
        drop(c);
        if i > 0 {
            rates.push(2.0 * 128.0 * 576.0 * (16.0 * 64.0 * 78.0) / t / 1e9);
        }
    }
    println!("gemm rate: {:.1} GFLOP/s (median)", median(rates));

    // The whole step, split into forward, backward and optimiser.
    let mel = Tensor::<4>::random(
        [batch, 1, mels, frames],
        Distribution::Normal(0.0, 20.0),
        &device,
    );
    let mut optim = AdamConfig::new().with_epsilon(1e-7).init();
    let mut model = model;
    let (mut t_f, mut t_b, mut t_o) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..=reps {
        let start = Instant::now();
        let out = model.forward(mel.clone(), None);
        let loss = loss_fn.forward(out.logits, labels.clone());
        device.sync().expect("sync");
        let forward = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        device.sync().expect("sync");
        let backward = start.elapsed().as_secs_f64();
        let start = Instant::now();
        model = optim.step(1e-4, model, grads);
        device.sync().expect("sync");
        let step = start.elapsed().as_secs_f64();
        if i > 0 {
            t_f.push(forward);
            t_b.push(backward);
            t_o.push(step);
        }
    }
    println!("\n| layer type | forward ms | backward ms |\n|---|---:|---:|");
    let (mut sum_f, mut sum_b) = (0.0, 0.0);
    for (name, cost) in &by_type {
        println!(
            "| {name} | {:.1} | {:.1} |",
            cost.forward * 1e3,
            cost.backward * 1e3
        );
        sum_f += cost.forward;
        sum_b += cost.backward;
    }
    println!(
        "| sum of layers | {:.1} | {:.1} |",
        sum_f * 1e3,
        sum_b * 1e3
    );
    println!(
        "| whole step (forward / backward / Adam) | {:.1} | {:.1} | {:.1} |",
        median(t_f) * 1e3,
        median(t_b) * 1e3,
        median(t_o) * 1e3
    );
}

fn rayon_threads() -> String {
    std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "default".into())
}
