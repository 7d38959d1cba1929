"""What the peer-engine timing scripts (`tools/torch_models.py`, `tools/tf_models.py`) share: the
`bench` command line, the step-timing loop, the memory read-out and the JSON report that
`bench/models_vs_peers.py` reads. A reference for benchmarks, never part of the product."""

from __future__ import annotations

import argparse
import resource
import sys
import time
from typing import Callable

MELS = 128
CLASSES = 20
# Adam as Keras configures it (the paper's constant learning rate is 1e-4).
ADAM_LR = 1e-4
ADAM_EPS = 1e-7
# The parameter counts of the Keras reference (`shared/reference/keras/README.md`), counting the
# BN moving statistics and the fixed Gaussian kernels.
EXPECTED_PARAMS = {"crnn": 394_516, "crnn-fgnl": 584_141}


def add_bench_args(parser: argparse.ArgumentParser) -> None:
    """The `bench` subcommand's options, the same for every engine."""
    parser.add_argument("--model", choices=sorted(EXPECTED_PARAMS), required=True)
    parser.add_argument("--frames", type=int, required=True, help="T, frames per clip (94 or 157 in the paper)")
    parser.add_argument("--mode", choices=["train", "infer"], required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    parser.add_argument("--reps", type=int, default=10, help="timed steps (default 10)")
    parser.add_argument("--threads", type=int, default=2, help="the engine's compute threads (default 2)")
    parser.add_argument("--seed", type=int, default=0)


def memory_kib() -> dict[str, int]:
    """VmRSS / VmHWM from /proc/self/status and ru_maxrss, all in KiB."""
    out = {"ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key.lower() + "_kib"] = int(value.split()[0])
    return out


def time_steps(step: Callable[[], None], args: argparse.Namespace, side: str) -> tuple[list[float], dict]:
    """Runs `args.warmup` untimed and `args.reps` timed steps; returns the timed seconds and the
    memory read before the first step (model and batch built)."""
    setup = memory_kib()
    times = []
    for i in range(args.warmup + args.reps):
        start = time.perf_counter()
        step()
        elapsed = time.perf_counter() - start
        if i >= args.warmup:
            times.append(elapsed)
        print(f"{side} {args.model} T={args.frames} {args.mode}: step {i + 1} {elapsed:.3f} s", file=sys.stderr)
    return times, setup


def report(args: argparse.Namespace, side: str, engine: str, params: int, threads: dict,
           times: list[float], setup: dict) -> dict:
    """The JSON object a `bench` command prints (one line on stdout)."""
    return {
        "side": side,
        "engine": engine,
        "model": args.model,
        "frames": args.frames,
        "mode": args.mode,
        "batch": args.batch,
        "params": params,
        **threads,
        "warmup": args.warmup,
        "step_s": times,
        "rss_setup_kib": setup["vmrss_kib"],
        **memory_kib(),
    }
