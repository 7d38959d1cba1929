//! Exact t-SNE (van der Maaten & Hinton, "Visualizing Data using t-SNE", JMLR 2008) for the
//! 2-D maps of clip embeddings in reports.
//!
//! The steps and defaults follow the paper and scikit-learn's `TSNE(method="exact")`:
//! Gaussian affinities whose bandwidth is found per point by bisection to reach the target
//! perplexity (`H(P_i) = log(perplexity)`, natural log), symmetrised `P = (P + Pᵀ) / 2n`;
//! Student-t affinities `q_ij ∝ (1 + |y_i - y_j|²)⁻¹` in the map; gradient
//! `4 Σ_j (p_ij - q_ij)(y_i - y_j)(1 + |y_i - y_j|²)⁻¹` (Eq. 5 of the paper) with early
//! exaggeration 12 for the first 250 iterations, momentum 0.5 then 0.8, and per-coordinate
//! gains (Jacobs 1988). Initialisation is Gaussian with standard deviation 1e-4 from a seeded
//! generator, and every sum runs in a fixed order, so a seed gives the same map on any
//! machine and thread count.
//!
//! Cost: O(n²) time and memory per iteration; fine for a few thousand points (the report
//! subsamples above [`MAX_POINTS_DEFAULT`]).

use rayon::prelude::*;

use crate::Error;

/// A default cap on the number of points a report maps (O(n²) memory: 3000 points use ~72 MB).
pub const MAX_POINTS_DEFAULT: usize = 3000;

/// t-SNE parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct TsneConfig {
    /// Target perplexity, roughly the number of neighbours each point attends to (default 30).
    /// Lowered automatically to `(n - 1) / 3` (at least 1) for `n` points.
    pub perplexity: f64,
    /// Gradient-descent iterations (default 1000).
    pub iterations: usize,
    /// Seed of the initial map (default 0).
    pub seed: u64,
}

impl Default for TsneConfig {
    fn default() -> Self {
        Self {
            perplexity: 30.0,
            iterations: 1000,
            seed: 0,
        }
    }
}

/// Iterations with early exaggeration and the lower momentum.
const EXAGGERATION_ITERATIONS: usize = 250;
/// Factor on P during early exaggeration.
const EARLY_EXAGGERATION: f64 = 12.0;
/// Smallest gain per coordinate.
const MIN_GAIN: f64 = 0.01;

/// The perplexity actually used for `n` points: `min(perplexity, (n - 1) / 3)`, at least 1.
pub fn effective_perplexity(perplexity: f64, n: usize) -> f64 {
    let cap = (n.saturating_sub(1) as f64 / 3.0).max(1.0);
    perplexity.min(cap).max(1.0)
}

/// Maps `points` (each a vector of the same length) to 2-D.
///
/// Returns one `[x, y]` per point, in input order. Zero points give an empty map, one point
/// maps to the origin.
///
/// # Errors
///
/// - [`Error::LengthMismatch`] if a point's length differs from the first point's, or
///   (`what: "t-SNE input: finite values vs values"`) if any value is NaN or infinite.
pub fn tsne(points: &[Vec<f32>], config: &TsneConfig) -> Result<Vec<[f64; 2]>, Error> {
    let n = points.len();
    let Some(first) = points.first() else {
        return Ok(Vec::new());
    };
    let dim = first.len();
    if let Some(bad) = points.iter().find(|p| p.len() != dim) {
        return Err(Error::LengthMismatch {
            what: "t-SNE input: a point's length vs the first point's",
            left: bad.len(),
            right: dim,
        });
    }
    let values = n * dim;
    let finite = points.iter().flatten().filter(|v| v.is_finite()).count();
    if finite != values {
        return Err(Error::LengthMismatch {
            what: "t-SNE input: finite values vs values",
            left: finite,
            right: values,
        });
    }
    if n == 1 {
        return Ok(vec![[0.0, 0.0]]);
    }

    let p = joint_probabilities(points, effective_perplexity(config.perplexity, n));
    let mut y = initial_map(n, config.seed);
    let mut update = vec![0.0_f64; 2 * n];
    let mut gains = vec![1.0_f64; 2 * n];
    // scikit-learn's learning_rate="auto".
    let learning_rate = (n as f64 / EARLY_EXAGGERATION / 4.0).max(50.0);
    for iteration in 0..config.iterations {
        let (exaggeration, momentum) = if iteration < EXAGGERATION_ITERATIONS {
            (EARLY_EXAGGERATION, 0.5)
        } else {
            (1.0, 0.8)
        };
        let grad = gradient(&p, &y, n, exaggeration);
        for k in 0..2 * n {
            // Jacobs' gains: grow where the gradient keeps its direction against the update.
            gains[k] = if (grad[k] > 0.0) != (update[k] > 0.0) {
                gains[k] + 0.2
            } else {
                (gains[k] * 0.8).max(MIN_GAIN)
            };
            update[k] = momentum * update[k] - learning_rate * gains[k] * grad[k];
            y[k] += update[k];
        }
        center(&mut y, n);
    }
    Ok(y.chunks_exact(2).map(|c| [c[0], c[1]]).collect())
}

/// Symmetric joint probabilities `P = (P_{j|i} + P_{i|j}) / 2n`, row-major `n x n`.
fn joint_probabilities(points: &[Vec<f32>], perplexity: f64) -> Vec<f64> {
    let n = points.len();
    let target_entropy = perplexity.ln();
    let conditional: Vec<Vec<f64>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let distances: Vec<f64> = points
                .iter()
                .map(|q| {
                    points[i]
                        .iter()
                        .zip(q)
                        .map(|(a, b)| f64::from(a - b).powi(2))
                        .sum()
                })
                .collect();
            conditional_row(&distances, i, target_entropy)
        })
        .collect();
    let mut p = vec![0.0_f64; n * n];
    let scale = 1.0 / (2.0 * n as f64);
    for i in 0..n {
        for j in 0..n {
            p[i * n + j] = ((conditional[i][j] + conditional[j][i]) * scale).max(1e-12);
        }
    }
    p
}

/// `P_{j|i}` for one point: the Gaussian kernel on its squared distances with the precision
/// `beta` found by bisection so that the row's entropy is `target_entropy` (nats).
fn conditional_row(distances: &[f64], i: usize, target_entropy: f64) -> Vec<f64> {
    let mut beta = 1.0_f64;
    let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
    let mut row = vec![0.0; distances.len()];
    for _ in 0..100 {
        // Subtract the smallest off-diagonal distance for stability; it cancels in the ratio.
        let min_d = distances
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, &d)| d)
            .fold(f64::INFINITY, f64::min);
        let mut sum = 0.0;
        for (j, (&d, r)) in distances.iter().zip(row.iter_mut()).enumerate() {
            *r = if j == i {
                0.0
            } else {
                (-(d - min_d) * beta).exp()
            };
            sum += *r;
        }
        let sum = sum.max(f64::MIN_POSITIVE);
        // H = log(sum) + beta * Σ d_j p_j  (with the shifted distances).
        let mut weighted = 0.0;
        for (j, r) in row.iter_mut().enumerate() {
            *r /= sum;
            if j != i {
                weighted += (distances[j] - min_d) * *r;
            }
        }
        let entropy = sum.ln() + beta * weighted;
        let diff = entropy - target_entropy;
        if diff.abs() < 1e-5 {
            break;
        }
        if diff > 0.0 {
            lo = beta;
            beta = if hi.is_finite() {
                (beta + hi) / 2.0
            } else {
                beta * 2.0
            };
        } else {
            hi = beta;
            beta = if lo.is_finite() {
                (beta + lo) / 2.0
            } else {
                beta / 2.0
            };
        }
    }
    row
}

/// The gradient of KL(P || Q), interleaved `[x0, y0, x1, y1, ...]`.
fn gradient(p: &[f64], y: &[f64], n: usize, exaggeration: f64) -> Vec<f64> {
    let kernel = |i: usize, j: usize| {
        let dx = y[2 * i] - y[2 * j];
        let dy = y[2 * i + 1] - y[2 * j + 1];
        1.0 / (1.0 + dx * dx + dy * dy)
    };
    // Z = Σ_{i≠j} (1 + |y_i - y_j|²)⁻¹, summed per row then in row order (deterministic).
    let row_sums: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| (0..n).filter(|&j| j != i).map(|j| kernel(i, j)).sum())
        .collect();
    let z: f64 = row_sums.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let rows: Vec<[f64; 2]> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut g = [0.0, 0.0];
            for j in (0..n).filter(|&j| j != i) {
                let k = kernel(i, j);
                let force = (exaggeration * p[i * n + j] - k / z) * k;
                g[0] += force * (y[2 * i] - y[2 * j]);
                g[1] += force * (y[2 * i + 1] - y[2 * j + 1]);
            }
            [4.0 * g[0], 4.0 * g[1]]
        })
        .collect();
    rows.into_iter().flatten().collect()
}

/// Gaussian initial map, standard deviation 1e-4, from a splitmix64 stream seeded by `seed`.
fn initial_map(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    let mut next_uniform = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // 53 random bits in (0, 1].
        ((z >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    };
    (0..n)
        .flat_map(|_| {
            // Box-Muller: two normal deviates from two uniforms.
            let (u1, u2) = (next_uniform(), next_uniform());
            let r = (-2.0 * u1.ln()).sqrt() * 1e-4;
            let theta = 2.0 * std::f64::consts::PI * u2;
            [r * theta.cos(), r * theta.sin()]
        })
        .collect()
}

/// Moves the map's mean to the origin.
fn center(y: &mut [f64], n: usize) {
    for axis in 0..2 {
        let mean = (0..n).map(|i| y[2 * i + axis]).sum::<f64>() / n as f64;
        for i in 0..n {
            y[2 * i + axis] -= mean;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perplexity_is_lowered_for_few_points() {
        assert_eq!(effective_perplexity(30.0, 1000), 30.0);
        assert_eq!(effective_perplexity(30.0, 31), 10.0);
        assert_eq!(effective_perplexity(30.0, 2), 1.0);
    }

    /// The bisection reaches the target entropy: exp(H) equals the perplexity.
    #[test]
    fn conditional_rows_reach_the_perplexity() {
        let distances: Vec<f64> = (0..50).map(|j| f64::from(j) * 0.37).collect();
        let row = conditional_row(&distances, 0, 10.0_f64.ln());
        let sum: f64 = row.iter().sum();
        assert!((sum - 1.0).abs() < 1e-9, "{sum}");
        assert_eq!(row[0], 0.0);
        let entropy: f64 = row.iter().filter(|&&p| p > 0.0).map(|&p| -p * p.ln()).sum();
        assert!((entropy.exp() - 10.0).abs() < 1e-3, "{}", entropy.exp());
    }

    #[test]
    fn degenerate_inputs() {
        assert!(tsne(&[], &TsneConfig::default()).expect("empty").is_empty());
        assert_eq!(
            tsne(&[vec![1.0, 2.0]], &TsneConfig::default()).expect("one"),
            [[0.0, 0.0]]
        );
        assert!(matches!(
            tsne(&[vec![1.0, 2.0], vec![1.0]], &TsneConfig::default()),
            Err(Error::LengthMismatch {
                left: 1,
                right: 2,
                ..
            })
        ));
        assert!(matches!(
            tsne(
                &[vec![1.0, f32::NAN], vec![1.0, 0.0]],
                &TsneConfig::default()
            ),
            Err(Error::LengthMismatch {
                left: 3,
                right: 4,
                ..
            })
        ));
    }
}
