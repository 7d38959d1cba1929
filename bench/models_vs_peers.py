#!/usr/bin/env python3
"""Models vs peers: time CRNN and CRNN_FGNL training and inference, singerid beside TensorFlow and PyTorch.

For every configuration (model x frames x mode) this runs fresh processes one after the other,
alternating sides for `--rounds` rounds: `tools/torch_models.py bench` (PyTorch CPU,
`torch.set_num_threads(N)`), `tools/tf_models.py bench` (TensorFlow CPU with tf_keras, the
engine the FGNL authors trained with; intra- and inter-op threads N) and the `models` binary of
this crate (singerid on burn-flex, `RAYON_NUM_THREADS=N`). All build the same model (same shapes
and parameter count, random weights), feed the same batch and input size, run `--warmup` untimed
steps and then `--reps` timed steps, and report each step's wall time. A step is:

- train: forward in training mode, softmax cross-entropy, backward, one Adam step (lr 1e-4,
  eps 1e-7); batch 16 by default;
- infer: forward in inference mode; batch 64 by default.

Peak memory is the child's `ru_maxrss` (peak resident set, from `wait4`), so it is measured per
process and per configuration; the RSS after building the model and the input ("setup") is
printed beside it, because a Python process starts several hundred MiB up.

The table goes to stdout (Markdown), progress to stderr; the column "vs faster peer" is
singerid's rate over the faster of TensorFlow and PyTorch (issue 11's goal: >= 1.2, marked).
`--json PATH` also writes every raw step time. The Python sides' requirements are pinned in
`bench/requirements.txt` (`--torch-python` / `--tf-python` choose the interpreters, if they live
in different environments). Build the Rust side first:

    cargo build --release -p singerid-bench --bin models
    python3 bench/models_vs_peers.py --rounds 2 --reps 5    # the full run
    python3 bench/models_vs_peers.py --reps 10              # one process per side instead
    python3 bench/models_vs_peers.py --reps 2 --warmup 1 --models crnn --frames 94   # a quick one
    python3 bench/models_vs_peers.py --sides torch,singerid # without TensorFlow

(Runs before 2026-12-02 used this script as `bench/models_vs_torch.py`, with PyTorch only.)

`--singerid-before PATH` adds another side, an earlier build of the `models` binary (e.g. a copy
taken before an optimisation), run in the same alternation, so that a before/after comparison
shares the machine's load; the table then gains its column and the after/before ratio:

    cp target/release/models /tmp/models-before    # before the change
    python3 bench/models_vs_peers.py --rounds 2 --reps 3 --warmup 1 --singerid-before /tmp/models-before
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TORCH_SCRIPT = ROOT / "tools" / "torch_models.py"
TF_SCRIPT = ROOT / "tools" / "tf_models.py"
DEFAULT_BIN = ROOT / "target" / "release" / "models"
MODELS = ["crnn", "crnn-fgnl"]
MODES = ["train", "infer"]
PEERS = ["torch", "tf"]
SIDE_NAMES = {"torch": "PyTorch", "tf": "TensorFlow", "before": "singerid before", "singerid": "singerid"}
TARGET = 1.2


def run_child(cmd: list[str], env: dict[str, str]) -> dict:
    """Run one timing process; return its JSON report plus its peak RSS as the kernel saw it."""
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    proc.stdout.close()
    # wait4 instead of Popen.wait: it returns the child's own rusage (ru_maxrss in KiB on Linux).
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"exit status {proc.returncode}: {' '.join(cmd)}")
    lines = [line for line in out.splitlines() if line.strip()]
    if not lines:
        raise RuntimeError(f"no JSON on stdout: {' '.join(cmd)}")
    report = json.loads(lines[-1])
    report["peak_rss_kib"] = usage.ru_maxrss
    report["cpu_s"] = usage.ru_utime + usage.ru_stime
    return report


def merge(reports: list[dict]) -> dict:
    """One side's rounds of a configuration: all step times pooled, the largest memory figures."""
    merged = dict(reports[0])
    merged["step_s"] = [t for r in reports for t in r["step_s"]]
    for key in ("peak_rss_kib", "rss_setup_kib"):
        merged[key] = max(r[key] for r in reports)
    merged["rounds"] = reports
    merged["summary"] = summary(merged["step_s"])
    return merged


def summary(step_s: list[float]) -> dict:
    median = statistics.median(step_s)
    return {
        "median_s": median,
        "min_s": min(step_s),
        "max_s": max(step_s),
        "steps_per_s": 1.0 / median,
        "steps_per_s_min": 1.0 / max(step_s),
        "steps_per_s_max": 1.0 / min(step_s),
    }


def fmt_rate(s: dict | None, ran: bool) -> str:
    if s is None:
        return "failed" if ran else "–"
    return f"{s['steps_per_s']:.3g} ({s['steps_per_s_min']:.3g}–{s['steps_per_s_max']:.3g})"


def fmt_mem(report: dict | None) -> str:
    if report is None:
        return "–"
    return f"{report['peak_rss_kib'] / 1024:.0f} ({report['rss_setup_kib'] / 1024:.0f})"


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} logical cores, {mem_gib:.0f} GiB RAM, {platform.system()} {platform.release()}"


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: {:.2f}, {:.2f}, {:.2f}".format(*os.getloadavg())


def ratio_of(a: dict | None, b: dict | None) -> float | None:
    return a["steps_per_s"] / b["steps_per_s"] if a and b else None


def fmt_ratio(r: float | None, bold: bool = False) -> str:
    if r is None:
        return "–"
    return f"**{r:.2f}**" if bold and r >= TARGET else f"{r:.2f}"


def print_table(rows: list[dict], sides: list[str]) -> None:
    """One row per configuration: each side's rate, singerid's ratios, each side's memory."""
    others = [side for side in sides if side != "singerid"]
    peers = [side for side in sides if side in PEERS]
    head = ["model", "T", "mode"]
    head += [f"{SIDE_NAMES[side]} steps/s" for side in sides]
    head += [f"singerid / {SIDE_NAMES[side]}" for side in others]
    if len(peers) > 1:
        head.append("singerid / faster peer")
    head += [f"{SIDE_NAMES[side]} peak RSS MiB (setup)" for side in sides]
    head += ["threads", "load 1 min"]
    print("| " + " | ".join(head) + " |")
    print("|---|---:|---|" + "---:|" * (len(head) - 5) + "---|---|")
    for row in rows:
        summaries = {side: row[side]["summary"] if row.get(side) else None for side in sides}
        singerid = summaries.get("singerid")
        cells = [row["model"], str(row["frames"]), f"{row['mode']} b{row['batch']}"]
        cells += [fmt_rate(summaries[side], True) for side in sides]
        cells += [fmt_ratio(ratio_of(singerid, summaries[side]), side in PEERS) for side in others]
        if len(peers) > 1:
            ran = [summaries[p] for p in peers if summaries[p]]
            fastest = max(ran, key=lambda s: s["steps_per_s"]) if len(ran) == len(peers) else None
            cells.append(fmt_ratio(ratio_of(singerid, fastest), True))
        cells += [fmt_mem(row.get(side)) for side in sides]
        cells.append(" / ".join(str(row[side]["threads"]) if row.get(side) else "–" for side in sides))
        cells.append(f"{row['load_before']:.2f} → {row['load_after']:.2f}")
        print("| " + " | ".join(cells) + " |")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=10, help="timed steps per configuration (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="processes per side and configuration, alternating sides; each runs "
                        "--warmup + --reps steps and the step times are pooled (default 1)")
    parser.add_argument("--threads", type=int, default=2, help="threads on each side (default 2)")
    parser.add_argument("--models", default=",".join(MODELS), help="comma list from crnn,crnn-fgnl")
    parser.add_argument("--frames", default="94,157", help="comma list of T (default 94,157)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma list from train,infer")
    parser.add_argument("--train-batch", type=int, default=16)
    parser.add_argument("--infer-batch", type=int, default=64)
    parser.add_argument("--sides", default="torch,tf,singerid", help="comma list from torch,tf,singerid")
    parser.add_argument("--singerid-bin", type=Path, default=DEFAULT_BIN, help=f"default {DEFAULT_BIN}")
    parser.add_argument("--singerid-before", type=Path,
                        help="an earlier `models` binary, timed as a third side ('before')")
    parser.add_argument("--torch-python", default=sys.executable, help="interpreter for the PyTorch side")
    parser.add_argument("--tf-python", default=sys.executable, help="interpreter for the TensorFlow side")
    parser.add_argument("--json", type=Path, help="also write every report and raw step time here")
    args = parser.parse_args()

    models = args.models.split(",")
    modes = args.modes.split(",")
    sides = args.sides.split(",")
    frames = [int(t) for t in args.frames.split(",")]
    for name, values, allowed in [("model", models, MODELS), ("mode", modes, MODES),
                                  ("side", sides, [*PEERS, "singerid"])]:
        bad = [v for v in values if v not in allowed]
        if bad:
            parser.error(f"unknown {name} {bad}; expected some of {allowed}")
    if args.reps < 1 or args.rounds < 1 or args.warmup < 0 or args.threads < 1:
        parser.error("--reps, --rounds and --threads must be >= 1, --warmup >= 0")
    if args.singerid_before is not None:
        if not args.singerid_before.exists():
            parser.error(f"{args.singerid_before} not found")
        # Alternation order: torch, tf, before, singerid.
        sides = [side for side in [*PEERS, "before", "singerid"] if side in sides or side == "before"]
    if "singerid" in sides and not args.singerid_bin.exists():
        parser.error(f"{args.singerid_bin} not found; run `cargo build --release -p singerid-bench --bin models`")

    started = datetime.datetime.now(datetime.timezone.utc)
    header = {
        "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "date_utc": started.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "uptime_before": uptime(),
        "threads": args.threads,
        "warmup": args.warmup,
        "reps": args.reps,
        "rounds": args.rounds,
    }
    print(f"# {header['date_utc']}; {header['machine']}", file=sys.stderr)
    print(f"# before: {header['uptime_before']}", file=sys.stderr)

    base_env = dict(os.environ)
    torch_env = {**base_env, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
    tf_env = {**base_env, "TF_CPP_MIN_LOG_LEVEL": "2"}
    rust_env = {**base_env, "RAYON_NUM_THREADS": str(args.threads)}
    rows = []
    failed = 0
    for model in models:
        for t in frames:
            for mode in modes:
                batch = args.train_batch if mode == "train" else args.infer_batch
                common = ["--model", model, "--frames", str(t), "--mode", mode, "--batch", str(batch),
                          "--warmup", str(args.warmup), "--reps", str(args.reps)]
                commands = {
                    "torch": ([args.torch_python, str(TORCH_SCRIPT), "bench", *common, "--threads",
                               str(args.threads)], torch_env),
                    "tf": ([args.tf_python, str(TF_SCRIPT), "bench", *common, "--threads", str(args.threads)],
                           tf_env),
                    "singerid": ([str(args.singerid_bin), *common], rust_env),
                    "before": ([str(args.singerid_before), *common], rust_env),
                }
                row = {"model": model, "frames": t, "mode": mode, "batch": batch, "load_before": os.getloadavg()[0]}
                reports: dict[str, list[dict] | None] = {side: [] for side in sides}
                # Alternate the sides round by round, so that a change in the machine's load
                # during the configuration falls on both.
                for _ in range(args.rounds):
                    for side in sides:
                        if reports[side] is None:
                            continue
                        cmd, env = commands[side]
                        try:
                            reports[side].append(run_child(cmd, env))
                        except (RuntimeError, json.JSONDecodeError, KeyError) as err:
                            print(f"error: {side} {model} T={t} {mode}: {err}", file=sys.stderr)
                            failed += 1
                            reports[side] = None
                for side in sides:
                    row[side] = merge(reports[side]) if reports[side] else None
                row["load_after"] = os.getloadavg()[0]
                rows.append(row)

    header["uptime_after"] = uptime()
    print(f"# after: {header['uptime_after']}", file=sys.stderr)

    print(f"Models vs peers, {header['date_utc']}: `{header['command']}`")
    print(f"Machine: {header['machine']}")
    print(f"Load before: {header['uptime_before']}")
    print(f"Load after:  {header['uptime_after']}")
    print(f"Steps/s: 1 / median step time over {args.rounds} x {args.reps} timed steps "
          f"(slowest–fastest step in brackets); {args.rounds} fresh process(es) per side and configuration "
          f"(sides alternating), each after {args.warmup} warm-up steps. Peak RSS: largest ru_maxrss "
          f"of those processes; setup: RSS once model and batch are built. Ratios: singerid's rate "
          f"over the other side's; **bold** where singerid reaches {TARGET}x the faster peer.")
    print()
    print_table(rows, sides)
    engines = sorted({r[s]["engine"] for r in rows for s in sides if r.get(s)})
    print()
    print("Engines: " + "; ".join(engines) + ".")

    if args.json:
        args.json.write_text(json.dumps({"header": header, "rows": rows}, indent=4, sort_keys=True) + "\n")
        print(f"raw reports written to {args.json}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
