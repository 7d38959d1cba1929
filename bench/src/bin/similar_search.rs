//! Exact nearest-neighbour search (`singerid_library::similar::exact_nearest`, what `singerid
//! similar` runs) against an HNSW index (`instant-distance` 0.6) on synthetic recording
//! embeddings, to find the library size where the approximate index starts to pay (issue 16,
//! item 3; bench/RESULTS.md).
//!
//! Embeddings: `--dim` (256: the shipped model's) Gaussian vectors around `--singers` random
//! centres, like recordings of a library around their singers. For each size: exact query time
//! (median over `--queries`), HNSW build time, HNSW query time and its recall of the exact
//! 10 nearest. Single process; the HNSW build uses every core (rayon), exact search one.
//!
//! Usage: `similar_search [--sizes 1000,10000,100000] [--dim 256] [--queries 50]`

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use clap::Parser;
use instant_distance::{Builder, Point, Search};
use singerid_bench::median;
use singerid_library::similar::exact_nearest;

/// Exact vs HNSW search on synthetic embeddings.
#[derive(Parser, Debug)]
struct Args {
    /// Library sizes (recordings), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
    sizes: Vec<usize>,
    /// Embedding dimension.
    #[arg(long, default_value_t = 256)]
    dim: usize,
    /// Singers (cluster centres).
    #[arg(long, default_value_t = 500)]
    singers: usize,
    /// Queries per size.
    #[arg(long, default_value_t = 50)]
    queries: usize,
    /// Neighbours asked for.
    #[arg(long, default_value_t = 10)]
    k: usize,
}

/// A unit vector; distance `1 - cosine`, as the library's.
#[derive(Clone, Debug)]
struct Unit(Vec<f32>);

impl Point for Unit {
    fn distance(&self, other: &Self) -> f32 {
        1.0 - self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum::<f32>()
    }
}

/// A small deterministic generator (xorshift64*) with Box-Muller normals.
struct Rng(u64);

impl Rng {
    fn next_f32(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f32 + 0.5) / (1u64 << 24) as f32
    }

    fn normal(&mut self) -> f32 {
        let (u, v) = (self.next_f32(), self.next_f32());
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }
}

fn unit(v: Vec<f32>) -> Vec<f32> {
    let n = v
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
        .max(f32::MIN_POSITIVE);
    v.into_iter().map(|x| x / n).collect()
}

fn main() -> ExitCode {
    singerid_bench::exit(run(&Args::parse()))
}

fn run(args: &Args) -> Result<()> {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let centres: Vec<Vec<f32>> = (0..args.singers)
        .map(|_| (0..args.dim).map(|_| rng.normal()).collect())
        .collect();
    println!(
        "| recordings | exact query ms | HNSW build s | HNSW query ms | recall@{} | queries to repay the build |",
        args.k
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for &n in &args.sizes {
        let sample = |rng: &mut Rng| {
            let c = &centres[(rng.next_f32() * args.singers as f32) as usize % args.singers];
            unit(c.iter().map(|x| x + 0.8 * rng.normal()).collect())
        };
        let points: Vec<Vec<f32>> = (0..n).map(|_| sample(&mut rng)).collect();
        let queries: Vec<Vec<f32>> = (0..args.queries).map(|_| sample(&mut rng)).collect();

        let candidates: Vec<(usize, &[f32])> = points
            .iter()
            .enumerate()
            .map(|(i, p)| (i, p.as_slice()))
            .collect();
        let mut exact_ms = Vec::new();
        let mut truth = Vec::new();
        for q in &queries {
            let t = Instant::now();
            let found = exact_nearest(q, &candidates, args.k);
            exact_ms.push(t.elapsed().as_secs_f64() * 1e3);
            truth.push(found.into_iter().map(|(i, _)| i).collect::<Vec<_>>());
        }

        let t = Instant::now();
        let map = Builder::default().seed(7).build(
            points.iter().cloned().map(Unit).collect(),
            (0..n).collect::<Vec<usize>>(),
        );
        let build_s = t.elapsed().as_secs_f64();
        let mut search = Search::default();
        let mut hnsw_ms = Vec::new();
        let mut hits = 0;
        for (q, want) in queries.iter().zip(&truth) {
            let t = Instant::now();
            let got: Vec<usize> = map
                .search(&Unit(q.clone()), &mut search)
                .take(args.k)
                .map(|item| *item.value)
                .collect();
            hnsw_ms.push(t.elapsed().as_secs_f64() * 1e3);
            hits += got.iter().filter(|g| want.contains(g)).count();
        }
        let (exact, hnsw) = (median(exact_ms), median(hnsw_ms));
        let repay = if exact > hnsw {
            format!("{:.0}", build_s * 1e3 / (exact - hnsw))
        } else {
            "never".into()
        };
        println!(
            "| {n} | {exact:.2} | {build_s:.2} | {hnsw:.3} | {:.3} | {repay} |",
            hits as f64 / (args.k * queries.len()) as f64
        );
    }
    Ok(())
}
