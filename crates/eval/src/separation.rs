//! Source separation scores: BSS Eval v3 SDR / SIR / SAR and the MIR-1K literature's
//! GNSDR / GSIR / GSAR.
//!
//! Implements the decomposition of Vincent, Gribonval and Févotte, "Performance measurement
//! in blind audio source separation", IEEE TASLP 14(4), 2006: Section III.B (time-invariant
//! distortion filters of [`FILTER_LENGTH`] = 512 taps, Eqs. (6)-(8) as least-squares
//! projections onto delayed references) and Section IV (Eqs. (12)-(14), the energy ratios).
//! Numbers follow `mir_eval.separation.bss_eval_sources` of mir_eval 0.8.2 (the BSS Eval v3
//! MATLAB toolbox port), checked to 0.01 dB by `tests/bss_eval.rs` on fixtures written by
//! `tools/bss_eval_reference.py`. Conventions taken from mir_eval:
//!
//! - Every signal is zero-padded by `FILTER_LENGTH - 1` samples, and the energies run over
//!   that padded length.
//! - A ratio with a zero denominator is `+inf` (SIR of a single source is always `+inf`).
//! - An all-zero reference or estimated source is an error ([`BssEvalError::SilentSource`]).
//! - [`Permutation::Best`] picks the estimate order maximising the mean SIR, ties to the
//!   first permutation in lexicographic order (`itertools.permutations` + `np.argmax`).
//!
//! Deliberate differences: empty input is an error (mir_eval warns and returns empty arrays);
//! non-finite samples are an error; where the Gram matrix is exactly singular mir_eval falls
//! back to `np.linalg.lstsq`, here that is [`BssEvalError::SingularGram`]. The Gram system is
//! solved by Cholesky (it is symmetric positive definite whenever the delayed references are
//! linearly independent), falling back to Gaussian elimination with partial pivoting, the
//! method of `np.linalg.solve`, when Cholesky meets a non-positive pivot.
//!
//! [`nsdr`] and [`Global`] give the singing-voice separation summary of Huang, Chen, Smaragdis
//! and Hasegawa-Johnson, "Singing-voice separation from monaural recordings using robust
//! principal component analysis", ICASSP 2012, Section 4 (after Hsu and Jang, IEEE TASLP 2010).

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// Taps of the time-invariant distortion filter allowed to the estimate (BSS Eval v3: 512).
pub const FILTER_LENGTH: usize = 512;

/// Most sources accepted, as `mir_eval.separation.MAX_SOURCES`.
pub const MAX_SOURCES: usize = 100;

/// Most sources accepted with [`Permutation::Best`], which scores all `sources!` orders.
pub const MAX_PERMUTED_SOURCES: usize = 9;

/// Which estimate is scored against which reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permutation {
    /// Estimate `j` against reference `j` (mir_eval `compute_permutation=False`); `perm` is
    /// the identity. Right when the separator names its outputs (voice, accompaniment).
    Fixed,
    /// The order with the highest mean SIR (mir_eval `compute_permutation=True`, its default).
    Best,
}

/// BSS Eval scores, one entry per reference source, in dB.
#[derive(Debug, Clone, PartialEq)]
pub struct BssEval {
    /// Source to distortion ratio, Eq. (12): `10 log10(|s_target|² / |e_interf + e_artif|²)`.
    pub sdr: Vec<f64>,
    /// Source to interference ratio, Eq. (13): `10 log10(|s_target|² / |e_interf|²)`.
    pub sir: Vec<f64>,
    /// Sources to artifacts ratio, Eq. (14): `10 log10(|s_target + e_interf|² / |e_artif|²)`.
    pub sar: Vec<f64>,
    /// `perm[j]` is the estimate scored against reference `j`.
    pub perm: Vec<usize>,
}

/// Errors of [`bss_eval_sources`], [`nsdr`] and [`Global::from_clips`].
#[derive(Debug, thiserror::Error)]
pub enum BssEvalError {
    /// No sources, or sources without samples.
    #[error("{which} is empty: BSS Eval needs at least one source of at least one sample")]
    Empty {
        /// `"reference"` or `"estimated"`.
        which: &'static str,
    },
    /// Different numbers of reference and estimated sources.
    #[error("{reference} reference sources but {estimated} estimated sources; they must match")]
    SourceCountMismatch {
        /// Reference sources.
        reference: usize,
        /// Estimated sources.
        estimated: usize,
    },
    /// A source whose length differs from the first reference source.
    #[error(
        "{which} source {source_index} has {found} samples, expected {expected} (the length of reference source 0); trim or pad the signals to one length"
    )]
    LengthMismatch {
        /// `"reference"`, `"estimated"` or `"mixture"`.
        which: &'static str,
        /// Its index.
        source_index: usize,
        /// The length of reference source 0.
        expected: usize,
        /// Its length.
        found: usize,
    },
    /// More sources than the method accepts.
    #[error("{sources} sources, but at most {max} are accepted{hint}")]
    TooManySources {
        /// Sources given.
        sources: usize,
        /// The limit.
        max: usize,
        /// How to get under it.
        hint: &'static str,
    },
    /// An all-zero source: the decomposition is ambiguous (mir_eval raises `ValueError`).
    #[error(
        "{which} source {source_index} is all zeros; BSS Eval is undefined for silent sources (skip the clip or drop the source)"
    )]
    SilentSource {
        /// `"reference"`, `"estimated"` or `"mixture"`.
        which: &'static str,
        /// Its index.
        source_index: usize,
    },
    /// A NaN or infinite sample.
    #[error("{which} source {source_index} has a non-finite value {value} at sample {sample}")]
    NonFinite {
        /// `"reference"`, `"estimated"` or `"mixture"`.
        which: &'static str,
        /// Its index.
        source_index: usize,
        /// The sample index.
        sample: usize,
        /// The value found.
        value: f64,
    },
    /// The delayed references are linearly dependent to working precision (e.g. two equal
    /// reference sources), so the projection has no unique filter.
    #[error(
        "the Gram matrix of the {sources} delayed reference sources is singular; are two references equal or delayed copies of each other?"
    )]
    SingularGram {
        /// Reference sources.
        sources: usize,
    },
    /// [`Global::from_clips`] without clips, or whose clips have no samples.
    #[error("no clips (or only empty clips) to aggregate")]
    NoClips,
}

/// BSS Eval v3 of `estimated` against `reference`, as `mir_eval.separation.bss_eval_sources`.
///
/// # Parameters
///
/// - `reference`: the true sources, `[sources][samples]`; each must have a non-zero sample.
/// - `estimated`: the estimates, same shape; each must have a non-zero sample.
/// - `permutation`: [`Permutation::Fixed`] scores estimate `j` against reference `j`;
///   [`Permutation::Best`] searches all orders (at most [`MAX_PERMUTED_SOURCES`] sources).
///
/// The cost is one Cholesky factorisation of a `(sources · 512)²` Gram matrix plus one of
/// `512²` per source, and FFTs of the next power of two at or above `samples + 511`.
///
/// # Errors
///
/// [`BssEvalError`]: empty input, mismatched source counts or lengths, too many sources, an
/// all-zero or non-finite source, or a singular Gram matrix.
///
/// # References
///
/// Vincent, Gribonval and Févotte, IEEE TASLP 14(4), 2006, Sections III.B and IV.
pub fn bss_eval_sources<R: AsRef<[f64]>, E: AsRef<[f64]>>(
    reference: &[R],
    estimated: &[E],
    permutation: Permutation,
) -> Result<BssEval, BssEvalError> {
    let reference: Vec<&[f64]> = reference.iter().map(AsRef::as_ref).collect();
    let estimated: Vec<&[f64]> = estimated.iter().map(AsRef::as_ref).collect();
    let sources = reference.len();
    if sources != estimated.len() {
        return Err(BssEvalError::SourceCountMismatch {
            reference: sources,
            estimated: estimated.len(),
        });
    }
    validate(&reference, "reference", None)?;
    let samples = reference[0].len();
    validate(&estimated, "estimated", Some(samples))?;
    if sources > MAX_SOURCES {
        return Err(BssEvalError::TooManySources {
            sources,
            max: MAX_SOURCES,
            hint: " (mir_eval.separation.MAX_SOURCES)",
        });
    }
    if permutation == Permutation::Best && sources > MAX_PERMUTED_SOURCES {
        return Err(BssEvalError::TooManySources {
            sources,
            max: MAX_PERMUTED_SOURCES,
            hint: " with Permutation::Best; use Permutation::Fixed",
        });
    }

    let projector = Projector::new(&reference)?;
    match permutation {
        Permutation::Fixed => {
            let mut scores = BssEval {
                sdr: Vec::with_capacity(sources),
                sir: Vec::with_capacity(sources),
                sar: Vec::with_capacity(sources),
                perm: (0..sources).collect(),
            };
            for (j, estimate) in estimated.iter().enumerate() {
                let decomposition = projector.decompose(estimate);
                let [sdr, sir, sar] = decomposition.ratios(j);
                scores.sdr.push(sdr);
                scores.sir.push(sir);
                scores.sar.push(sar);
            }
            Ok(scores)
        }
        Permutation::Best => {
            // ratios[jest][jtrue] = [sdr, sir, sar] of estimate jest against reference jtrue.
            let ratios: Vec<Vec<[f64; 3]>> = estimated
                .iter()
                .map(|estimate| {
                    let decomposition = projector.decompose(estimate);
                    (0..sources).map(|j| decomposition.ratios(j)).collect()
                })
                .collect();
            let perm = best_permutation(sources, |jest, jtrue| ratios[jest][jtrue][1]);
            let pick = |metric: usize| -> Vec<f64> {
                perm.iter()
                    .enumerate()
                    .map(|(jtrue, &jest)| ratios[jest][jtrue][metric])
                    .collect()
            };
            Ok(BssEval {
                sdr: pick(0),
                sir: pick(1),
                sar: pick(2),
                perm,
            })
        }
    }
}

/// Normalised SDR of a separated voice: `NSDR = SDR(estimated_voice, voice) - SDR(mixture, voice)`,
/// the improvement over taking the mixture itself as the estimate (Huang et al., ICASSP 2012,
/// Section 4.1).
///
/// SDR depends only on the projection onto the delayed target itself, so it is the same
/// whether or not the other references (the accompaniment) are passed to
/// [`bss_eval_sources`]; here only the voice is used.
///
/// # Parameters
///
/// - `voice`: the true voice, non-silent.
/// - `estimated_voice`: the separator's voice, same length, non-silent.
/// - `mixture`: what the separator was given, same length, non-silent.
///
/// # Errors
///
/// As [`bss_eval_sources`], for any of the three signals.
pub fn nsdr(voice: &[f64], estimated_voice: &[f64], mixture: &[f64]) -> Result<f64, BssEvalError> {
    validate(&[voice], "reference", None)?;
    validate(&[estimated_voice], "estimated", Some(voice.len()))?;
    validate(&[mixture], "mixture", Some(voice.len()))?;
    let projector = Projector::new(&[voice])?;
    let [sdr_estimate, _, _] = projector.decompose(estimated_voice).ratios(0);
    let [sdr_mixture, _, _] = projector.decompose(mixture).ratios(0);
    Ok(sdr_estimate - sdr_mixture)
}

/// The scores of one clip that enter [`Global`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipScores {
    /// The clip's length in samples (its weight).
    pub samples: usize,
    /// [`nsdr`] of the voice, dB.
    pub nsdr: f64,
    /// SIR of the voice, dB.
    pub sir: f64,
    /// SAR of the voice, dB.
    pub sar: f64,
}

/// GNSDR / GSIR / GSAR: means over clips weighted by clip length,
/// `G = Σ_n w_n x_n / Σ_n w_n` with `w_n` the length of clip `n` (Huang et al., ICASSP 2012,
/// Section 4.1; Hsu and Jang, IEEE TASLP 2010).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Global {
    /// Length-weighted mean NSDR, dB.
    pub gnsdr: f64,
    /// Length-weighted mean SIR, dB.
    pub gsir: f64,
    /// Length-weighted mean SAR, dB.
    pub gsar: f64,
}

impl Global {
    /// Aggregates per-clip scores. An infinite score (SIR of a clip without interference)
    /// makes its mean infinite, as in the literature's formula.
    ///
    /// # Errors
    ///
    /// [`BssEvalError::NoClips`] when `clips` is empty or all clips have zero samples.
    pub fn from_clips(clips: &[ClipScores]) -> Result<Global, BssEvalError> {
        let total: f64 = clips.iter().map(|clip| clip.samples as f64).sum();
        if total == 0.0 {
            return Err(BssEvalError::NoClips);
        }
        let mean = |score: fn(&ClipScores) -> f64| -> f64 {
            clips
                .iter()
                .filter(|clip| clip.samples > 0)
                .map(|clip| clip.samples as f64 * score(clip))
                .sum::<f64>()
                / total
        };
        Ok(Global {
            gnsdr: mean(|clip| clip.nsdr),
            gsir: mean(|clip| clip.sir),
            gsar: mean(|clip| clip.sar),
        })
    }
}

/// Checks that `signals` is non-empty, rectangular (of length `expected`, or of the first
/// signal's length), finite and without all-zero rows.
fn validate(
    signals: &[&[f64]],
    which: &'static str,
    expected: Option<usize>,
) -> Result<(), BssEvalError> {
    let Some(first) = signals.first() else {
        return Err(BssEvalError::Empty { which });
    };
    let expected = expected.unwrap_or(first.len());
    if first.is_empty() {
        return Err(BssEvalError::Empty { which });
    }
    for (source_index, signal) in signals.iter().enumerate() {
        if signal.len() != expected {
            return Err(BssEvalError::LengthMismatch {
                which,
                source_index,
                expected,
                found: signal.len(),
            });
        }
        if let Some((sample, &value)) = signal.iter().enumerate().find(|(_, x)| !x.is_finite()) {
            return Err(BssEvalError::NonFinite {
                which,
                source_index,
                sample,
                value,
            });
        }
        if signal.iter().all(|&x| x == 0.0) {
            return Err(BssEvalError::SilentSource {
                which,
                source_index,
            });
        }
    }
    Ok(())
}

/// `np.argmax` over `itertools.permutations(range(sources))` of the mean SIR: the first
/// permutation (lexicographic order) with the largest mean, a NaN mean counting as largest.
fn best_permutation(sources: usize, sir: impl Fn(usize, usize) -> f64) -> Vec<usize> {
    let mean_sir = |perm: &[usize]| -> f64 {
        perm.iter()
            .enumerate()
            .map(|(jtrue, &jest)| sir(jest, jtrue))
            .sum::<f64>()
            / sources as f64
    };
    let mut perm: Vec<usize> = (0..sources).collect();
    let mut best = perm.clone();
    let mut best_mean = mean_sir(&perm);
    while next_permutation(&mut perm) {
        let mean = mean_sir(&perm);
        if !best_mean.is_nan() && (mean > best_mean || mean.is_nan()) {
            best.clone_from(&perm);
            best_mean = mean;
        }
    }
    best
}

/// Steps `perm` to the next permutation in lexicographic order; false after the last.
fn next_permutation(perm: &mut [usize]) -> bool {
    let Some(pivot) = perm.windows(2).rposition(|pair| pair[0] < pair[1]) else {
        return false;
    };
    let successor = perm
        .iter()
        .rposition(|&x| x > perm[pivot])
        .expect("a larger element exists right of the pivot");
    perm.swap(pivot, successor);
    perm[pivot + 1..].reverse();
    true
}

/// Least-squares projections onto the span of the references delayed by `0..FILTER_LENGTH`
/// samples (Eqs. (6)-(8)), with everything that does not depend on the estimate precomputed.
struct Projector {
    /// Samples per source.
    samples: usize,
    /// FFT size: the next power of two at or above `samples + FILTER_LENGTH - 1`, so circular
    /// correlations and convolutions equal linear ones over the lags used.
    n_fft: usize,
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
    /// Spectra of the references, `[sources][n_fft / 2 + 1]`.
    spectra: Vec<Vec<Complex<f64>>>,
    /// The Gram matrix of all delayed references, `(sources · FILTER_LENGTH)²`, factorised;
    /// `None` with one source, where it equals `single[0]`.
    all: Option<Factorisation>,
    /// The Gram matrix of each reference's own delays, `FILTER_LENGTH²`, factorised.
    single: Vec<Factorisation>,
}

impl Projector {
    fn new(reference: &[&[f64]]) -> Result<Projector, BssEvalError> {
        let sources = reference.len();
        let samples = reference[0].len();
        let n_fft = (samples + FILTER_LENGTH - 1).next_power_of_two();
        let mut planner = RealFftPlanner::<f64>::new();
        let forward = planner.plan_fft_forward(n_fft);
        let inverse = planner.plan_fft_inverse(n_fft);
        let mut projector = Projector {
            samples,
            n_fft,
            forward,
            inverse,
            spectra: Vec::with_capacity(sources),
            all: None,
            single: Vec::with_capacity(sources),
        };
        projector.spectra = reference.iter().map(|s| projector.spectrum(s)).collect();

        // gram[(i, a), (k, b)] = <s_i delayed by a, s_k delayed by b> = r_ik[b - a],
        // with r_ik[m] = Σ_n s_i[n + m] s_k[n] (a Toeplitz block per pair, as mir_eval's
        // `toeplitz(...)` of the FFT cross-correlation).
        let size = sources * FILTER_LENGTH;
        let mut gram = vec![0.0; size * size];
        for i in 0..sources {
            for k in i..sources {
                let correlation = projector.correlate(&projector.spectra[i], &projector.spectra[k]);
                let lag = |m: isize| correlation[m.rem_euclid(n_fft as isize) as usize];
                for a in 0..FILTER_LENGTH {
                    for b in 0..FILTER_LENGTH {
                        let value = lag(b as isize - a as isize);
                        gram[(i * FILTER_LENGTH + a) * size + k * FILTER_LENGTH + b] = value;
                        gram[(k * FILTER_LENGTH + b) * size + i * FILTER_LENGTH + a] = value;
                    }
                }
            }
        }
        for j in 0..sources {
            let mut block = Vec::with_capacity(FILTER_LENGTH * FILTER_LENGTH);
            for a in 0..FILTER_LENGTH {
                let row = (j * FILTER_LENGTH + a) * size + j * FILTER_LENGTH;
                block.extend_from_slice(&gram[row..row + FILTER_LENGTH]);
            }
            projector.single.push(
                Factorisation::new(block, FILTER_LENGTH)
                    .ok_or(BssEvalError::SingularGram { sources: 1 })?,
            );
        }
        if sources > 1 {
            projector.all =
                Some(Factorisation::new(gram, size).ok_or(BssEvalError::SingularGram { sources })?);
        }
        Ok(projector)
    }

    /// The spectrum of `signal` zero-padded to `n_fft`.
    fn spectrum(&self, signal: &[f64]) -> Vec<Complex<f64>> {
        let mut input = self.forward.make_input_vec();
        input[..signal.len()].copy_from_slice(signal);
        let mut output = self.forward.make_output_vec();
        self.forward
            .process(&mut input, &mut output)
            .expect("buffers come from the plan");
        output
    }

    /// The real signal of `spectrum` (scaled by `1 / n_fft`, so this inverts [`Self::spectrum`]).
    fn signal(&self, mut spectrum: Vec<Complex<f64>>) -> Vec<f64> {
        // A real signal's spectrum is real at DC and Nyquist; realfft insists on exact zeros.
        spectrum[0].im = 0.0;
        let last = spectrum.len() - 1;
        spectrum[last].im = 0.0;
        let mut output = self.inverse.make_output_vec();
        self.inverse
            .process(&mut spectrum, &mut output)
            .expect("buffers come from the plan");
        let scale = 1.0 / self.n_fft as f64;
        output.iter_mut().for_each(|x| *x *= scale);
        output
    }

    /// Circular cross-correlation `r[m] = Σ_n x[n + m] y[n]` (index `m mod n_fft`).
    fn correlate(&self, x: &[Complex<f64>], y: &[Complex<f64>]) -> Vec<f64> {
        self.signal(x.iter().zip(y).map(|(x, y)| x * y.conj()).collect())
    }

    /// The projections of `estimate` onto each reference's delays and onto all of them.
    fn decompose<'a>(&self, estimate: &'a [f64]) -> Decomposition<'a> {
        let sources = self.spectra.len();
        let estimate_spectrum = self.spectrum(estimate);
        // d[(i, a)] = <s_i delayed by a, estimate> = r_{s_i, e}[-a].
        let mut inner: Vec<f64> = Vec::with_capacity(sources * FILTER_LENGTH);
        for spectrum in &self.spectra {
            let correlation = self.correlate(spectrum, &estimate_spectrum);
            inner.extend((0..FILTER_LENGTH).map(|a| correlation[(self.n_fft - a) % self.n_fft]));
        }
        let onto_each: Vec<Vec<f64>> = (0..sources)
            .map(|j| {
                let mut filter = inner[j * FILTER_LENGTH..(j + 1) * FILTER_LENGTH].to_vec();
                self.single[j].solve(&mut filter);
                self.filter_references(&filter, j)
            })
            .collect();
        let onto_all = match &self.all {
            Some(all) => {
                let mut filters = inner;
                all.solve(&mut filters);
                Some(self.filter_references(&filters, 0))
            }
            None => None,
        };
        Decomposition {
            estimate,
            onto_each,
            onto_all,
        }
    }

    /// `Σ_i filters[i] * s_{first + i}` (linear convolution), over `samples + FILTER_LENGTH - 1`.
    fn filter_references(&self, filters: &[f64], first: usize) -> Vec<f64> {
        let mut sum = vec![Complex::new(0.0, 0.0); self.n_fft / 2 + 1];
        for (filter, reference) in filters
            .chunks_exact(FILTER_LENGTH)
            .zip(&self.spectra[first..])
        {
            let filter = self.spectrum(filter);
            sum.iter_mut()
                .zip(filter.iter().zip(reference))
                .for_each(|(acc, (h, s))| *acc += h * s);
        }
        let mut projection = self.signal(sum);
        projection.truncate(self.samples + FILTER_LENGTH - 1);
        projection
    }
}

/// One estimate split as Eqs. (6)-(8): `s_target + e_spat` is the projection onto the
/// target's delays, `+ e_interf` the projection onto all references' delays, the rest
/// `e_artif`.
struct Decomposition<'a> {
    estimate: &'a [f64],
    /// Projection onto each reference's own delays, `[sources][samples + FILTER_LENGTH - 1]`.
    onto_each: Vec<Vec<f64>>,
    /// Projection onto all references' delays; `None` with one source (equal to `onto_each[0]`).
    onto_all: Option<Vec<f64>>,
}

impl Decomposition<'_> {
    /// `[sdr, sir, sar]` in dB with reference `j` as the target, Eqs. (12)-(14).
    fn ratios(&self, j: usize) -> [f64; 3] {
        let target = &self.onto_each[j];
        let all = self.onto_all.as_ref().unwrap_or(target);
        // The estimate, zero-padded to the projections' length.
        let estimate = |n: usize| self.estimate.get(n).copied().unwrap_or(0.0);
        let energy = |f: &dyn Fn(usize) -> f64| (0..target.len()).map(|n| f(n) * f(n)).sum::<f64>();
        let target_energy = energy(&|n| target[n]);
        let sdr = safe_db(target_energy, energy(&|n| estimate(n) - target[n]));
        let sir = safe_db(target_energy, energy(&|n| all[n] - target[n]));
        let sar = safe_db(energy(&|n| all[n]), energy(&|n| estimate(n) - all[n]));
        [sdr, sir, sar]
    }
}

/// `10 log10(num / den)`, `+inf` for a zero denominator (mir_eval `_safe_db`).
fn safe_db(num: f64, den: f64) -> f64 {
    if den == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (num / den).log10()
    }
}

/// A factorised symmetric matrix, ready to solve `A x = b`.
enum Factorisation {
    /// `A = L Lᵀ`, `L` lower triangular, row-major `n × n`.
    Cholesky { lower: Vec<f64>, n: usize },
    /// `P A = L U` (Gaussian elimination with partial pivoting), both packed row-major in
    /// `lu` (unit diagonal of `L` implied); `pivots[k]` is the row swapped with `k`.
    Lu {
        lu: Vec<f64>,
        pivots: Vec<usize>,
        n: usize,
    },
}

impl Factorisation {
    /// Cholesky of the row-major `n × n` `matrix`, or LU with partial pivoting if Cholesky meets
    /// a non-positive pivot; `None` if LU meets an exactly zero pivot.
    fn new(matrix: Vec<f64>, n: usize) -> Option<Factorisation> {
        cholesky(&matrix, n)
            .map(|lower| Factorisation::Cholesky { lower, n })
            .or_else(|| lu(matrix, n).map(|(lu, pivots)| Factorisation::Lu { lu, pivots, n }))
    }

    /// Overwrites `b` with `A⁻¹ b`.
    fn solve(&self, b: &mut [f64]) {
        match self {
            Factorisation::Cholesky { lower, n } => {
                let n = *n;
                // L y = b.
                for i in 0..n {
                    let row = &lower[i * n..i * n + i];
                    b[i] = (b[i] - dot(row, &b[..i])) / lower[i * n + i];
                }
                // Lᵀ x = y.
                for i in (0..n).rev() {
                    let x = b[i] / lower[i * n + i];
                    b[i] = x;
                    for k in 0..i {
                        b[k] -= lower[i * n + k] * x;
                    }
                }
            }
            Factorisation::Lu { lu, pivots, n } => {
                let n = *n;
                for (k, &p) in pivots.iter().enumerate() {
                    b.swap(k, p);
                }
                for i in 0..n {
                    b[i] -= dot(&lu[i * n..i * n + i], &b[..i]);
                }
                for i in (0..n).rev() {
                    b[i] =
                        (b[i] - dot(&lu[i * n + i + 1..(i + 1) * n], &b[i + 1..])) / lu[i * n + i];
                }
            }
        }
    }
}

/// Cholesky–Banachiewicz, row by row: `None` if a pivot is not positive.
fn cholesky(matrix: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut lower = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let (done, row_i) = lower.split_at_mut(i * n);
            let row_i = &mut row_i[..n];
            let row_j = if j == i {
                &row_i[..j]
            } else {
                &done[j * n..j * n + j]
            };
            let value = matrix[i * n + j] - dot(&row_i[..j], row_j);
            if j == i {
                if value <= 0.0 || value.is_nan() {
                    return None;
                }
                row_i[i] = value.sqrt();
            } else {
                row_i[j] = value / done[j * n + j];
            }
        }
    }
    Some(lower)
}

/// LU with partial pivoting (as LAPACK `dgesv`, behind `np.linalg.solve`): `None` on an
/// exactly zero pivot.
fn lu(mut a: Vec<f64>, n: usize) -> Option<(Vec<f64>, Vec<usize>)> {
    let mut pivots = Vec::with_capacity(n);
    for k in 0..n {
        let p = (k..n)
            .max_by(|&x, &y| a[x * n + k].abs().total_cmp(&a[y * n + k].abs()))
            .unwrap_or(k);
        if a[p * n + k] == 0.0 {
            return None;
        }
        if p != k {
            for c in 0..n {
                a.swap(k * n + c, p * n + c);
            }
        }
        pivots.push(p);
        let (upper, lower) = a.split_at_mut((k + 1) * n);
        let pivot_row = &upper[k * n..(k + 1) * n];
        for row in lower.chunks_exact_mut(n) {
            let factor = row[k] / pivot_row[k];
            row[k] = factor;
            for c in k + 1..n {
                row[c] -= factor * pivot_row[c];
            }
        }
    }
    Some((a, pivots))
}

/// `Σ x_i y_i`, with four partial sums so the loop vectorises.
fn dot(x: &[f64], y: &[f64]) -> f64 {
    let mut partial = [0.0; 4];
    let (x4, x_rest) = x.split_at(x.len() / 4 * 4);
    let (y4, y_rest) = y.split_at(x4.len());
    for (x, y) in x4.chunks_exact(4).zip(y4.chunks_exact(4)) {
        for lane in 0..4 {
            partial[lane] += x[lane] * y[lane];
        }
    }
    let rest: f64 = x_rest.iter().zip(y_rest).map(|(x, y)| x * y).sum();
    (partial[0] + partial[1]) + (partial[2] + partial[3]) + rest
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `A = [[4, 2], [2, 3]]`: `L = [[2, 0], [1, √2]]`; `A x = [8, 7]` gives `x = [1.25, 1.5]`
    /// (`4·1.25 + 2·1.5 = 8`, `2·1.25 + 3·1.5 = 7`).
    #[test]
    fn cholesky_solves_a_hand_system() {
        let factorisation = Factorisation::new(vec![4.0, 2.0, 2.0, 3.0], 2).expect("SPD");
        match &factorisation {
            Factorisation::Cholesky { lower, .. } => {
                assert_eq!(lower[0], 2.0);
                assert_eq!(lower[2], 1.0);
                assert!((lower[3] - 2f64.sqrt()).abs() < 1e-15);
            }
            Factorisation::Lu { .. } => panic!("an SPD matrix must take the Cholesky path"),
        }
        let mut b = [8.0, 7.0];
        factorisation.solve(&mut b);
        assert!(
            (b[0] - 1.25).abs() < 1e-14 && (b[1] - 1.5).abs() < 1e-14,
            "{b:?}"
        );
    }

    /// `A = [[0, 1], [1, 0]]` is symmetric but indefinite (Cholesky fails at the first pivot),
    /// so LU with a row swap solves it: `A x = [3, 5]` gives `x = [5, 3]`.
    #[test]
    fn lu_fallback_solves_an_indefinite_system() {
        let factorisation = Factorisation::new(vec![0.0, 1.0, 1.0, 0.0], 2).expect("regular");
        assert!(matches!(factorisation, Factorisation::Lu { .. }));
        let mut b = [3.0, 5.0];
        factorisation.solve(&mut b);
        assert_eq!(b, [5.0, 3.0]);
        assert!(Factorisation::new(vec![1.0, 1.0, 1.0, 1.0], 2).is_none());
    }

    /// A 3 × 3 non-symmetric system with pivoting on every column, against its exact solution
    /// `x = [1, -2, 3]`.
    #[test]
    fn lu_solves_a_pivoted_system() {
        let a = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0];
        let x = [1.0, -2.0, 3.0];
        let mut b: Vec<f64> = a.chunks(3).map(|row| dot(row, &x)).collect();
        let (lu, pivots) = lu(a, 3).expect("regular");
        Factorisation::Lu { lu, pivots, n: 3 }.solve(&mut b);
        for (got, want) in b.iter().zip(x) {
            assert!((got - want).abs() < 1e-12, "{b:?}");
        }
    }

    #[test]
    fn permutations_come_in_lexicographic_order() {
        let mut perm = vec![0, 1, 2];
        let mut seen = vec![perm.clone()];
        while next_permutation(&mut perm) {
            seen.push(perm.clone());
        }
        let want = [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ];
        assert_eq!(seen, want.map(|p| p.to_vec()));
    }

    /// Ties go to the first permutation; a NaN mean wins, as `np.argmax`.
    #[test]
    fn best_permutation_follows_argmax() {
        assert_eq!(best_permutation(2, |_, _| 1.0), [0, 1]);
        assert_eq!(
            best_permutation(2, |jest, jtrue| if jest == jtrue { 0.0 } else { 1.0 }),
            [1, 0]
        );
        assert_eq!(
            best_permutation(2, |jest, jtrue| if jest != jtrue { f64::NAN } else { 5.0 }),
            [1, 0]
        );
    }

    /// One reference of three samples, estimate = 2 × reference: the 512-tap filter `[2]`
    /// reproduces it exactly, so the projection is the estimate itself (rounding aside).
    #[test]
    fn projection_of_a_scaled_reference_is_the_estimate() {
        let reference = [1.0, -2.0, 0.5];
        let estimate = [2.0, -4.0, 1.0];
        let projector = Projector::new(&[&reference]).expect("non-singular");
        let decomposition = projector.decompose(&estimate);
        assert_eq!(decomposition.onto_each[0].len(), 3 + FILTER_LENGTH - 1);
        for (n, value) in decomposition.onto_each[0].iter().enumerate() {
            let want = estimate.get(n).copied().unwrap_or(0.0);
            assert!((value - want).abs() < 1e-9, "sample {n}: {value} vs {want}");
        }
    }

    #[test]
    fn safe_db_is_infinite_on_a_zero_denominator() {
        assert_eq!(safe_db(1.0, 0.0), f64::INFINITY);
        assert!((safe_db(100.0, 1.0) - 20.0).abs() < 1e-12);
    }
}
