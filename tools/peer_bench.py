"""What the peer-engine timing scripts (`tools/torch_models.py`, `tools/tf_models.py`) share: the
`bench` command line, the step-timing loop, the memory read-out and the JSON report that
`bench/models_vs_peers.py` reads. A reference for benchmarks, never part of the product."""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from typing import Callable, Optional

MELS = 128
CLASSES = 20
# Adam as Keras configures it (the paper's constant learning rate is 1e-4).
ADAM_LR = 1e-4
ADAM_EPS = 1e-7
# The parameter counts of the Keras reference (`shared/reference/keras/README.md`), counting the
# BN moving statistics and the fixed Gaussian kernels.
EXPECTED_PARAMS = {"crnn": 394_516, "crnn-fgnl": 584_141}
# The models' hyper-parameters (the reference README).
GRU_UNITS = 32
# Keras BatchNormalization's epsilon (its momentum, 0.99, is 0.01 in PyTorch's convention).
BN_EPS = 1e-3
BLOCK_DROPOUT = 0.1
HEAD_DROPOUT = 0.3
# The FGNL layer: reduced channels Cr = C / 32, K = Cr roll shifts, Gaussian 5x5 with sigma 0.707,
# MoSE 1 -> 16 -> 1.
FGNL_REDUCTION = 32
GAUSSIAN_SIZE = 5
GAUSSIAN_SIGMA = 0.707
MOSE_HIDDEN = 16


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


def print_count(name: str, total: int, trainable: int) -> None:
    """One model's parameter count, checked against the reference's."""
    print(f"{name}: {total:,} parameters ({trainable:,} trainable, {total - trainable:,} non-trainable)")
    assert total == EXPECTED_PARAMS[name], f"{name}: expected {EXPECTED_PARAMS[name]:,}"


def run_cli(doc: str, count: Callable[[], int], bench: Callable[[argparse.Namespace], dict],
            check: Optional[Callable[[], int]] = None) -> int:
    """The scripts' command line: `count`, `bench` (one JSON object on stdout) and, where the
    engine can load the Keras fixtures, `check`."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("count", help="print and check both models' parameter counts")
    if check is not None:
        sub.add_parser("check", help="compare the models' outputs with the Keras reference fixtures")
    add_bench_args(sub.add_parser("bench", help="time training steps or inference; prints one JSON object"))
    args = parser.parse_args()
    if args.command == "count":
        return count()
    if args.command == "check" and check is not None:
        return check()
    if args.reps < 1 or args.warmup < 0:
        parser.error("--reps must be >= 1 and --warmup >= 0")
    print(json.dumps(bench(args)))
    return 0
