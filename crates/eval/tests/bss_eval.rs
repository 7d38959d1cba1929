//! BSS Eval v3 (`singerid_eval::separation`) against mir_eval, plus hand-checkable properties.
//!
//! Oracle: `tests/fixtures/bss_eval.safetensors`, written by `tools/bss_eval_reference.py`
//! with mir_eval 0.8.2, NumPy 2.4.6, SciPy 1.17.1 (Python 3.11.7), seed 20240607: ten cases
//! (two and three sources, one source, gain-only estimates, silent-ish and shorter-than-filter
//! signals, a pure-noise estimate, and two inputs mir_eval rejects), each scored with
//! `compute_permutation=False` and `=True`.
//!
//! Tolerance: 0.01 dB on SDR, SIR and SAR, the resolution results are reported at (two
//! decimals). The two implementations differ only in rounding (FFT library, Cholesky versus
//! LU for the Gram system, summation order); with Gram condition numbers up to ~1e14 in these
//! fixtures mir_eval itself moves by < 1e-10 dB between those solvers, so 0.01 dB leaves a
//! wide margin. Two regimes are compared differently: a value above 100 dB is rounding noise
//! (the gain-only case lands at 240-290 dB in mir_eval), so both sides only have to exceed
//! 100 dB; `inf` (a zero denominator: SIR with one source) must be `inf` on both sides.

use std::collections::HashMap;
use std::path::Path;

use singerid_eval::separation::{
    BssEval, BssEvalError, ClipScores, Global, Permutation, bss_eval_sources, nsdr,
};

const TOLERANCE_DB: f64 = 0.01;
/// Above this, dB values are rounding noise and are only checked to be above it.
const ROUNDING_NOISE_DB: f64 = 100.0;

/// A float64 safetensors file, read by hand (the format: an 8-byte little-endian header
/// length, a JSON header of `{name: {dtype, shape, data_offsets}}`, then the raw data).
struct Fixture {
    tensors: HashMap<String, (Vec<usize>, Vec<f64>)>,
    cases: Vec<String>,
}

impl Fixture {
    fn load() -> Fixture {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bss_eval.safetensors");
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
        let header: serde_json::Value =
            serde_json::from_slice(&bytes[8..8 + header_len]).expect("JSON header");
        let data = &bytes[8 + header_len..];
        let mut tensors = HashMap::new();
        let mut cases = Vec::new();
        for (name, entry) in header.as_object().expect("header object") {
            if name == "__metadata__" {
                let listed = entry["cases"].as_str().expect("cases metadata");
                cases = listed.split(',').map(str::to_owned).collect();
                continue;
            }
            assert_eq!(entry["dtype"], "F64", "{name}");
            let shape: Vec<usize> = entry["shape"]
                .as_array()
                .expect("shape")
                .iter()
                .map(|d| d.as_u64().expect("dim") as usize)
                .collect();
            let offsets = entry["data_offsets"].as_array().expect("data_offsets");
            let (start, end) = (
                offsets[0].as_u64().expect("start") as usize,
                offsets[1].as_u64().expect("end") as usize,
            );
            let values = data[start..end]
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
                .collect();
            tensors.insert(name.clone(), (shape, values));
        }
        assert!(!cases.is_empty(), "no cases listed in the metadata");
        Fixture { tensors, cases }
    }

    fn get(&self, name: &str) -> Option<&(Vec<usize>, Vec<f64>)> {
        self.tensors.get(name)
    }

    fn vector(&self, name: &str) -> &[f64] {
        &self.get(name).unwrap_or_else(|| panic!("missing {name}")).1
    }

    /// A `[sources, samples]` tensor as rows.
    fn rows(&self, name: &str) -> Vec<Vec<f64>> {
        let (shape, values) = self.get(name).unwrap_or_else(|| panic!("missing {name}"));
        values.chunks_exact(shape[1]).map(<[f64]>::to_vec).collect()
    }
}

/// Compares one metric; returns the absolute difference where it counts (finite, <= 100 dB).
fn compare(case: &str, metric: &str, ours: f64, theirs: f64) -> f64 {
    if theirs.is_infinite() {
        assert_eq!(
            ours, theirs,
            "{case} {metric}: mir_eval {theirs}, ours {ours}"
        );
        0.0
    } else if theirs > ROUNDING_NOISE_DB {
        assert!(
            ours > ROUNDING_NOISE_DB,
            "{case} {metric}: mir_eval {theirs} dB, ours {ours} dB"
        );
        0.0
    } else {
        let diff = (ours - theirs).abs();
        assert!(
            diff <= TOLERANCE_DB,
            "{case} {metric}: mir_eval {theirs} dB, ours {ours} dB (diff {diff})"
        );
        diff
    }
}

#[test]
fn every_fixture_case_matches_mir_eval() {
    let fixture = Fixture::load();
    let mut worst = [0.0f64; 3];
    let mut checked = 0;
    for case in &fixture.cases {
        let reference = fixture.rows(&format!("{case}.reference"));
        let estimated = fixture.rows(&format!("{case}.estimated"));
        if fixture.get(&format!("{case}.error")).is_some() {
            for permutation in [Permutation::Fixed, Permutation::Best] {
                let result = bss_eval_sources(&reference, &estimated, permutation);
                assert!(
                    matches!(result, Err(BssEvalError::SilentSource { .. })),
                    "{case}: mir_eval raises ValueError, we gave {result:?}"
                );
            }
            continue;
        }
        for (label, permutation) in [("fixed", Permutation::Fixed), ("best", Permutation::Best)] {
            let BssEval {
                sdr,
                sir,
                sar,
                perm,
            } = bss_eval_sources(&reference, &estimated, permutation).expect(case);
            let want_perm: Vec<usize> = fixture
                .vector(&format!("{case}.{label}.perm"))
                .iter()
                .map(|&p| p as usize)
                .collect();
            assert_eq!(perm, want_perm, "{case} {label} perm");
            for (m, (metric, ours)) in [("sdr", &sdr), ("sir", &sir), ("sar", &sar)]
                .iter()
                .enumerate()
            {
                let theirs = fixture.vector(&format!("{case}.{label}.{metric}"));
                assert_eq!(ours.len(), theirs.len(), "{case} {label} {metric}");
                for (j, (&o, &t)) in ours.iter().zip(theirs).enumerate() {
                    let diff = compare(&format!("{case} {label} source {j}"), metric, o, t);
                    worst[m] = worst[m].max(diff);
                }
            }
            checked += 1;
        }
        if fixture.get(&format!("{case}.nsdr")).is_some() {
            let mixture = fixture.vector(&format!("{case}.mixture"));
            let ours = nsdr(&reference[0], &estimated[0], mixture).expect("nsdr");
            let theirs = fixture.vector(&format!("{case}.nsdr"))[0];
            let diff = compare(case, "nsdr", ours, theirs);
            eprintln!("{case}: nsdr ours {ours:.6} mir_eval {theirs:.6} (diff {diff:.2e})");
        }
    }
    eprintln!(
        "{checked} case/permutation pairs match mir_eval; worst |diff| dB: sdr {:.2e}, sir {:.2e}, sar {:.2e}",
        worst[0], worst[1], worst[2]
    );
    assert_eq!(checked, 16, "8 scored cases x 2 permutation modes");
}

/// A deterministic voice-like test signal (harmonics with an envelope) and a noise-like one.
fn signals(samples: usize) -> (Vec<f64>, Vec<f64>) {
    let voice = (0..samples)
        .map(|n| {
            let t = n as f64 / 16000.0;
            let envelope = 0.5 - 0.4 * (2.0 * std::f64::consts::PI * 3.0 * t).cos();
            envelope
                * (1..=8)
                    .map(|k| (2.0 * std::f64::consts::PI * 220.0 * k as f64 * t).sin() / k as f64)
                    .sum::<f64>()
        })
        .collect();
    // A 64-bit LCG mapped to [-0.5, 0.5): deterministic, no extra dependency.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let noise = (0..samples)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
        .collect();
    (voice, noise)
}

#[test]
fn estimate_equal_to_reference_has_a_very_high_sdr() {
    let (voice, noise) = signals(4000);
    let scores =
        bss_eval_sources(&[&voice, &noise], &[&voice, &noise], Permutation::Fixed).expect("valid");
    for j in 0..2 {
        assert!(scores.sdr[j] > ROUNDING_NOISE_DB, "sdr {:?}", scores.sdr);
        assert!(scores.sir[j] > ROUNDING_NOISE_DB, "sir {:?}", scores.sir);
        assert!(scores.sar[j] > ROUNDING_NOISE_DB, "sar {:?}", scores.sar);
    }
}

/// BSS Eval is invariant to a gain on the estimate: the 512-tap filter absorbs it. The
/// estimate has interference (`0.3 · noise`) and an artifact outside the span of the delayed
/// references (`0.1 · voice²`, a nonlinear distortion), so all three ratios are finite.
#[test]
fn scaling_the_estimate_leaves_the_scores_unchanged() {
    let (voice, noise) = signals(3000);
    let estimate: Vec<f64> = voice
        .iter()
        .zip(&noise)
        .map(|(v, n)| v + 0.3 * n + 0.1 * v * v)
        .collect();
    let base = bss_eval_sources(&[&voice, &noise], &[&estimate, &noise], Permutation::Fixed)
        .expect("valid");
    assert!(
        base.sdr[0] < 30.0 && base.sir[0] < 30.0 && base.sar[0] < 30.0,
        "{base:?}"
    );
    for gain in [1e-3, 0.5, -7.0] {
        let scaled: Vec<f64> = estimate.iter().map(|x| gain * x).collect();
        let scores = bss_eval_sources(&[&voice, &noise], &[&scaled, &noise], Permutation::Fixed)
            .expect("valid");
        for (ours, base) in [
            (&scores.sdr, &base.sdr),
            (&scores.sir, &base.sir),
            (&scores.sar, &base.sar),
        ] {
            assert!(
                (ours[0] - base[0]).abs() < 1e-6,
                "gain {gain}: {} vs {}",
                ours[0],
                base[0]
            );
        }
    }
}

/// NSDR of the mixture itself is 0 (the same SDR twice); of a better estimate, positive.
#[test]
fn nsdr_of_the_mixture_is_zero() {
    let (voice, noise) = signals(3000);
    let mixture: Vec<f64> = voice.iter().zip(&noise).map(|(v, n)| v + n).collect();
    assert_eq!(nsdr(&voice, &mixture, &mixture).expect("valid"), 0.0);
    let better: Vec<f64> = voice.iter().zip(&noise).map(|(v, n)| v + 0.1 * n).collect();
    let gain = nsdr(&voice, &better, &mixture).expect("valid");
    // The residual noise energy drops by 20 dB; the filter fits a little of it either way.
    assert!((gain - 20.0).abs() < 1.0, "nsdr {gain}");
}

/// Two clips: 1000 samples with (NSDR, SIR, SAR) = (2, 10, 4) and 3000 samples with
/// (6, 20, 8): GNSDR = (1000·2 + 3000·6) / 4000 = 5, GSIR = (10 000 + 60 000) / 4000 = 17.5,
/// GSAR = (4000 + 24 000) / 4000 = 7; the unweighted means would be 4, 15 and 6.
#[test]
fn global_means_are_length_weighted() {
    let clips = [
        ClipScores {
            samples: 1000,
            nsdr: 2.0,
            sir: 10.0,
            sar: 4.0,
        },
        ClipScores {
            samples: 3000,
            nsdr: 6.0,
            sir: 20.0,
            sar: 8.0,
        },
    ];
    let global = Global::from_clips(&clips).expect("two clips");
    assert_eq!(
        global,
        Global {
            gnsdr: 5.0,
            gsir: 17.5,
            gsar: 7.0
        }
    );
    assert!(matches!(
        Global::from_clips(&[]),
        Err(BssEvalError::NoClips)
    ));
}

#[test]
fn bad_inputs_are_errors() {
    let (voice, noise) = signals(1000);
    let empty: [Vec<f64>; 0] = [];
    assert!(matches!(
        bss_eval_sources(&empty, &empty, Permutation::Fixed),
        Err(BssEvalError::Empty { which: "reference" })
    ));
    assert!(matches!(
        bss_eval_sources(
            &[Vec::<f64>::new()],
            &[Vec::<f64>::new()],
            Permutation::Fixed
        ),
        Err(BssEvalError::Empty { .. })
    ));
    assert!(matches!(
        bss_eval_sources(&[&voice, &noise], &[&voice], Permutation::Fixed),
        Err(BssEvalError::SourceCountMismatch {
            reference: 2,
            estimated: 1
        })
    ));
    assert!(matches!(
        bss_eval_sources(&[&voice], &[&voice[..999]], Permutation::Fixed),
        Err(BssEvalError::LengthMismatch {
            which: "estimated",
            source_index: 0,
            expected: 1000,
            found: 999
        })
    ));
    assert!(matches!(
        bss_eval_sources(
            &[&voice, &noise[..10]],
            &[&voice, &noise],
            Permutation::Fixed
        ),
        Err(BssEvalError::LengthMismatch {
            which: "reference",
            source_index: 1,
            ..
        })
    ));
    let zeros = vec![0.0; 1000];
    assert!(matches!(
        bss_eval_sources(&[&voice, &zeros], &[&voice, &noise], Permutation::Fixed),
        Err(BssEvalError::SilentSource {
            which: "reference",
            source_index: 1
        })
    ));
    assert!(matches!(
        nsdr(&voice, &noise, &zeros),
        Err(BssEvalError::SilentSource {
            which: "mixture",
            ..
        })
    ));
    let mut nan = noise.clone();
    nan[17] = f64::NAN;
    assert!(matches!(
        bss_eval_sources(&[&voice], &[&nan], Permutation::Fixed),
        Err(BssEvalError::NonFinite {
            which: "estimated",
            sample: 17,
            ..
        })
    ));
    let many: Vec<Vec<f64>> = (0..10)
        .map(|k| noise.iter().map(|x| x * (k + 1) as f64).collect())
        .collect();
    assert!(matches!(
        bss_eval_sources(&many, &many, Permutation::Best),
        Err(BssEvalError::TooManySources {
            sources: 10,
            max: 9,
            ..
        })
    ));
}
