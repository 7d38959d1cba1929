#!/usr/bin/env bash
# Issue 14 item 5: CREPE inference, singerid vs torchcrepe 0.0.24, same signal / capacity / hop /
# batch / threads, alternating fresh processes (bench/crepe_vs_torch.py). Run on a quiet machine.
# Usage (repository root, after `cargo build --release -p singerid-bench`):
#   PYTHON=/path/to/venv/python nice bench/crepe_speed.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=bench/runs/crepe
mkdir -p "$OUT"
run() {
  echo "== $* ($(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
  "$PY" bench/crepe_vs_torch.py "$@"
}
{
  run --capacity tiny --seconds 30 --batch 512 --threads 2 --rounds 3 --reps 3
  run --capacity tiny --seconds 30 --batch 32 --threads 2 --rounds 3 --reps 3
  run --capacity full --seconds 2 --batch 32 --threads 2 --rounds 2 --reps 2
  echo "== done $(date -u +%FT%TZ)"
} 2>&1 | tee "$OUT/speed.log"
