#!/usr/bin/env python3
"""Issue 14's acceptance figure: `singerid melody` against librosa.pyin on MIR-1K's clean voice.

The first recording of each of the first N validation songs of the pool, in manifest order
(not chosen by hand; one per song, so several singers), their
right channel (the voice stem) at 16 kHz: `singerid melody --channel right` (10 ms step, CREPE
tiny by default, or --model full) and librosa.pyin (65-1047 Hz, 1024-sample frames, the same
10 ms hop, centred frames like CREPE's). On the frames both call voiced (CREPE: confidence >= the
CLI's voicing threshold, 0.5; pyin: its voiced flag) it counts those within 50 cents, per
recording and overall, and prints a markdown table. librosa is a reference tool here, never
part of the product.

    PYTHON=<venv with librosa>/bin/python
    $PYTHON bench/melody_vs_pyin.py [--n 15] [--model tiny|full] [--out bench/runs/melody]
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

import librosa
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data", "mir1k")
BIN = os.path.join(ROOT, "target", "release", "singerid")


def first_val(n):
    with open(os.path.join(DATA, "metadata.csv")) as f:
        rows = [r for r in csv.DictReader(f) if r["split"] == "val"]
    firsts, seen = [], set()
    for r in rows:
        if r["song"] not in seen:
            seen.add(r["song"])
            firsts.append(os.path.join(DATA, r["path"]))
    return firsts[:n]


def crepe_f0(paths, model, out):
    cmd = [BIN, "melody", "--quiet", "--channel", "right", "--model", model,
           "--out", out, "--format", "json", "--no-cache", *paths]
    started = time.time()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    seconds = time.time() - started
    tracks = {}
    for p in paths:
        stem = os.path.splitext(os.path.basename(p))[0]
        with open(os.path.join(out, stem + ".f0.csv")) as f:
            rows = list(csv.DictReader(f))
        tracks[p] = np.array([float(r["f0_hz"]) for r in rows])
    return tracks, seconds


def pyin_f0(path):
    y, sr = librosa.load(path, sr=16000, mono=False)
    voice = y[1] if y.ndim == 2 else y
    f0, voiced, _ = librosa.pyin(voice, fmin=65.0, fmax=1047.0, sr=16000,
                                 frame_length=1024, hop_length=160, center=True)
    return np.where(voiced, f0, 0.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=15, help="validation songs (15 in the pool)")
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "runs", "melody"))
    args = ap.parse_args()
    paths = first_val(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        crepe, seconds = crepe_f0(paths, args.model, tmp)
    rows, agree_all, both_all = [], 0, 0
    for p in paths:
        a = crepe[p]
        b = pyin_f0(p)
        n = min(len(a), len(b))
        a, b = a[:n], b[:n]
        both = (a > 0) & (b > 0)
        cents = 1200.0 * np.abs(np.log2(a[both] / b[both]))
        agree = int((cents <= 50.0).sum())
        rows.append((os.path.relpath(p, DATA), n, int((a > 0).sum()), int((b > 0).sum()),
                     int(both.sum()), agree))
        agree_all += agree
        both_all += int(both.sum())
    os.makedirs(args.out, exist_ok=True)
    lines = [
        f"singerid melody --channel right --model {args.model} (10 ms) vs librosa.pyin "
        f"{librosa.__version__}, the first recording of {len(paths)} validation songs; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load "
        f"{open('/proc/loadavg').read().split()[0]}; singerid took {seconds:.1f} s",
        "",
        "| recording | frames | CREPE voiced | pyin voiced | both | within 50 cents |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, n, va, vb, both, agree in rows:
        share = f"{100.0 * agree / both:.1f} %" if both else "-"
        lines.append(f"| {name} | {n} | {va} | {vb} | {both} | {share} |")
    total = 100.0 * agree_all / both_all if both_all else float("nan")
    lines.append(f"| **all** | | | | {both_all} | **{total:.1f} %** |")
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(args.out, f"pyin-{args.model}.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, f"pyin-{args.model}.json"), "w") as f:
        json.dump({"model": args.model, "agree": agree_all, "both_voiced": both_all,
                   "share": total, "recordings": rows}, f, indent=1)
    return 0 if total >= 90.0 else 1


if __name__ == "__main__":
    sys.exit(main())
