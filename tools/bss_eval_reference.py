#!/usr/bin/env python3
"""Write mir_eval BSS Eval v3 reference values for `crates/eval/src/separation.rs`.

Usage (from the repository root):

    python3 tools/bss_eval_reference.py [--out crates/eval/tests/fixtures/bss_eval.safetensors]

Written with Python 3.11.7, mir_eval 0.8.2, NumPy 2.4.6, SciPy 1.17.1, safetensors 0.8.0
(tools/requirements.txt). Seeded: numpy `default_rng(20240607)`; every case draws from its
own generator `default_rng([SEED, case_number])`, so adding a case changes no other.

Each case `<c>` stores (all float64; source-major, `[nsrc, nsampl]`):

- `<c>.reference`, `<c>.estimated`: the inputs.
- `<c>.fixed.{sdr,sir,sar,perm}`: `mir_eval.separation.bss_eval_sources(reference,
  estimated, compute_permutation=False)`.
- `<c>.best.{sdr,sir,sar,perm}`: the same with `compute_permutation=True` (the default).
- `<c>.nsdr` (only where a mixture is given, `[1]`): `sdr(estimated[0] vs reference) -
  sdr(mixture vs reference)` for source 0 (the voice), each SDR from `bss_eval_sources` with
  the full reference set, so the Rust single-source `nsdr` is checked against the
  multi-source call; `<c>.mixture` holds the mixture.
- `<c>.error` (`[1]`, value 1.0): mir_eval raises `ValueError` on these inputs (an all-zero
  reference or estimate); no outputs are stored.

The metadata `cases` lists the case names in order, comma separated; `versions` and `seed`
record how the file was made. SDR / SIR / SAR can be `inf` (mir_eval's `_safe_db` with a zero
denominator: SIR of a single source).
"""

import argparse
import pathlib
import sys
import warnings

import mir_eval
import numpy as np
import safetensors
import safetensors.numpy
import scipy
import scipy.signal

SEED = 20240607
# A nominal rate for building the signals; BSS Eval itself does not know about rates.
SAMPLE_RATE_HZ = 16000


def voice_like(rng, n):
    """A sung-vowel-like signal: 12 harmonics of a gliding f0 with vibrato, syllable
    envelope, plus breath noise 40 dB down (so the reference spectrum has no exact zeros)."""
    t = np.arange(n) / SAMPLE_RATE_HZ
    f0 = rng.uniform(180.0, 260.0) * (1.0 + 0.1 * t) * (1.0 + 0.01 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE_HZ
    x = sum(np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 13))
    envelope = 0.5 - 0.45 * np.cos(2 * np.pi * t * rng.uniform(2.0, 4.0))
    return 0.3 * envelope * x + 0.003 * rng.standard_normal(n)


def music_like(rng, n):
    """Accompaniment-like: an AR(1)-coloured noise bed, a three-note chord and drum hits."""
    t = np.arange(n) / SAMPLE_RATE_HZ
    bed = scipy.signal.lfilter([1.0], [1.0, -0.9], rng.standard_normal(n)) * 0.02
    chord = sum(0.1 * np.sin(2 * np.pi * f * t) for f in (110.0, 138.6, 164.8))
    hits = np.zeros(n)
    for start in range(0, n, n // 4):
        length = min(400, n - start)
        hits[start : start + length] += 0.5 * rng.standard_normal(length) * np.exp(-np.arange(length) / 60.0)
    return bed + chord + hits


def fir(rng, x, taps):
    """A short random FIR (the 'filtering distortion' BSS Eval allows up to 512 taps)."""
    h = rng.standard_normal(taps) * np.exp(-np.arange(taps) / 3.0)
    h[0] = 1.0
    return scipy.signal.lfilter(h, [1.0], x)


def cases():
    """(name, reference, estimated, mixture or None, expect_error), in a fixed order."""

    def rng_for(number):
        return np.random.default_rng([SEED, number])

    # 1. Two sources, realistic separation: filtered target, leakage of the other, noise.
    rng = rng_for(1)
    n = 10000
    voice, music = voice_like(rng, n), music_like(rng, n)
    mixture = voice + music
    est_voice = fir(rng, voice, 8) + 0.15 * music + 0.01 * rng.standard_normal(n)
    est_music = 0.9 * fir(rng, music, 5) + 0.2 * voice + 0.02 * rng.standard_normal(n)
    yield "two_sources", np.stack([voice, music]), np.stack([est_voice, est_music]), mixture, False

    # 2. Estimates handed over in swapped order: the best permutation is [1, 0].
    rng = rng_for(2)
    n = 8000
    voice, music = voice_like(rng, n), music_like(rng, n)
    est_voice = voice + 0.3 * music + 0.05 * rng.standard_normal(n)
    est_music = music + 0.1 * voice + 0.05 * rng.standard_normal(n)
    yield "swapped", np.stack([voice, music]), np.stack([est_music, est_voice]), None, False

    # 3. One source (SIR is inf: no other source to interfere), 16000 samples.
    rng = rng_for(3)
    n = 16000
    voice = voice_like(rng, n)
    est = fir(rng, voice, 20) + 0.05 * rng.standard_normal(n)
    yield "one_source", voice[None, :], est[None, :], None, False

    # 4. Estimate = reference * gain (per source): distortion is pure gain, so SDR, SIR and
    #    SAR are all at the rounding-noise level (~ 250-300 dB), not comparable digit by digit.
    rng = rng_for(4)
    n = 8000
    reference = np.stack([voice_like(rng, n), music_like(rng, n)])
    yield "gain", reference, reference * np.array([[0.5], [-2.0]]), None, False

    # 5. Three sources, shuffled estimates: exercises the 3! permutation search.
    rng = rng_for(5)
    n = 4000
    a, b, c = voice_like(rng, n), music_like(rng, n), rng.standard_normal(n) * 0.1
    est = [a + 0.2 * b + 0.02 * rng.standard_normal(n),
           b + 0.3 * c + 0.02 * rng.standard_normal(n),
           c + 0.1 * a + 0.02 * rng.standard_normal(n)]
    yield "three_sources", np.stack([a, b, c]), np.stack([est[2], est[0], est[1]]), None, False

    # 6. Silent-ish: the voice is silent for its first 70 % and tiny (1e-4); the estimates are
    #    1e-6-scale; one estimate is a single click. mir_eval handles all of this (nothing is
    #    all-zero).
    rng = rng_for(6)
    n = 8000
    voice = voice_like(rng, n) * 1e-4
    voice[: int(0.7 * n)] = 0.0
    music = music_like(rng, n)
    est_voice = 1e-2 * voice + 1e-9 * rng.standard_normal(n)
    est_music = np.zeros(n)
    est_music[1234] = 1e-6
    yield "silent_ish", np.stack([voice, music]), np.stack([est_voice, est_music]), None, False

    # 7. Shorter than the 512-tap filter (300 samples), one source.
    rng = rng_for(7)
    n = 300
    voice = voice_like(rng, n)
    yield "short", voice[None, :], (0.8 * voice + 0.1 * rng.standard_normal(n))[None, :], None, False

    # 8. Estimate unrelated to the reference (pure noise): strongly negative SDR.
    rng = rng_for(8)
    n = 4000
    yield "noise_estimate", voice_like(rng, n)[None, :], rng.standard_normal((1, n)), None, False

    # 9. / 10. Inputs mir_eval rejects with ValueError: an all-zero reference, an all-zero estimate.
    rng = rng_for(9)
    n = 600
    reference = np.stack([voice_like(rng, n), np.zeros(n)])
    yield "zero_reference", reference, rng.standard_normal((2, n)), None, True
    rng = rng_for(10)
    reference = np.stack([voice_like(rng, n), music_like(rng, n)])
    estimated = np.stack([rng.standard_normal(n), np.zeros(n)])
    yield "zero_estimate", reference, estimated, None, True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="crates/eval/tests/fixtures/bss_eval.safetensors")
    args = parser.parse_args()
    # mir_eval 0.8 marks the separation module deprecated; the numbers are what we want.
    warnings.simplefilter("ignore", FutureWarning)
    warnings.simplefilter("ignore", DeprecationWarning)

    tensors, names = {}, []
    for name, reference, estimated, mixture, expect_error in cases():
        names.append(name)
        tensors[f"{name}.reference"] = np.ascontiguousarray(reference, dtype=np.float64)
        tensors[f"{name}.estimated"] = np.ascontiguousarray(estimated, dtype=np.float64)
        if expect_error:
            try:
                mir_eval.separation.bss_eval_sources(reference, estimated)
            except ValueError:
                tensors[f"{name}.error"] = np.ones(1)
                print(f"{name}: ValueError as expected", file=sys.stderr)
                continue
            raise SystemExit(f"{name}: mir_eval did not raise")
        for label, permute in (("fixed", False), ("best", True)):
            sdr, sir, sar, perm = mir_eval.separation.bss_eval_sources(
                reference, estimated, compute_permutation=permute
            )
            for key, value in (("sdr", sdr), ("sir", sir), ("sar", sar), ("perm", perm)):
                tensors[f"{name}.{label}.{key}"] = np.asarray(value, dtype=np.float64)
            print(f"{name} {label}: sdr {sdr} sir {sir} sar {sar} perm {perm}", file=sys.stderr)
        if mixture is not None:
            sdr_est = mir_eval.separation.bss_eval_sources(reference, estimated, compute_permutation=False)[0]
            sdr_mix = mir_eval.separation.bss_eval_sources(
                reference, np.stack([mixture] * reference.shape[0]), compute_permutation=False
            )[0]
            tensors[f"{name}.mixture"] = np.asarray(mixture, dtype=np.float64)
            tensors[f"{name}.nsdr"] = np.array([sdr_est[0] - sdr_mix[0]])
            print(f"{name}: nsdr {tensors[f'{name}.nsdr']}", file=sys.stderr)

    metadata = {
        "cases": ",".join(names),
        "seed": str(SEED),
        "versions": f"mir_eval {mir_eval.__version__}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, safetensors {safetensors.__version__}",
    }
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    safetensors.numpy.save_file(tensors, str(out), metadata=metadata)
    print(f"wrote {out} ({out.stat().st_size} bytes, {len(names)} cases)", file=sys.stderr)


if __name__ == "__main__":
    main()
