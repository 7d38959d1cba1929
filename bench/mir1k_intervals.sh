#!/usr/bin/env bash
# Issue 13 (2026-12-01): bootstrap intervals over songs for the comparison table's earlier runs
# (evaluated before intervals existed), by re-evaluating each run's best model on the pool's
# validation split (same predictions, now with intervals). Research-only (MIR-1K).
# Usage (repository root): nice bench/mir1k_intervals.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/singerid
CACHE=${SINGERID_FEATURES_DIR:-target/singerid-features}
OUT=bench/runs/mir1k-intervals
mkdir -p "$OUT"
RUNS=(
  "linear-mixture bench/runs/mir1k-seq/sweep-mix-power_db/1e-4-1e-2"
  "linear-clean bench/runs/mir1k-seq/sweep-right-power_db/0-1e-2"
  "linear-separated-h64 bench/runs/mir1k-seq/sweep-separated-power_db/1e-3-1e-2"
  "crnn-mixture bench/runs/mir1k-seq/crnn-mixture-power_db"
  "crnn-clean bench/runs/mir1k-seq/crnn-vocal-power_db"
  "crnn-separated-h64 bench/runs/mir1k-seq/crnn-separated-power_db"
  "linear-separated-h128 bench/runs/mir1k-remix/linear-sep"
)
for spec in "${RUNS[@]}"; do
  read -r name run <<<"$spec"
  echo "$(date -u +%FT%TZ) $name (load $(cut -d' ' -f1-3 /proc/loadavg))"
  "$BIN" eval --quiet --model "$run" --split val --cache "$CACHE" --format json \
    --out "$OUT/$name" >"$OUT/$name.json" || true
done
python3 - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
print("| run | clip acc (95 % interval) | weighted F1 (interval) | songs right (interval) |")
print("|---|---:|---:|---:|")
for f in sorted(os.listdir(out)):
    if not f.endswith(".json"):
        continue
    d = json.load(open(os.path.join(out, f)))
    ci = d.get("intervals") or {}
    fa, fw, sa = ci.get("frame_accuracy", {}), ci.get("frame_weighted_f1", {}), ci.get("song_accuracy", {})
    n = d["song"]["samples"]
    print(f"| {f[:-5]} | {100*d['frame']['accuracy']:.2f} % ({100*fa.get('low',0):.1f}-{100*fa.get('high',0):.1f}) "
          f"| {d['frame']['weighted_f1']:.4f} ({fw.get('low',0):.3f}-{fw.get('high',0):.3f}) "
          f"| {round(d['song']['accuracy']*n)} of {n} ({round(sa.get('low',0)*n)}-{round(sa.get('high',0)*n)}) |")
PY
