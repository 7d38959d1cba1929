#!/usr/bin/env bash
# The recorded MIR-1K training runs (issue 5, item 8; see bench/RESULTS.md, "Training on
# MIR-1K"): 3 s clips, the manifest's song-disjoint split (train -> val), all runs started
# together, one thread each, each with the same fixed wall-clock budget.
#
# Usage (repository root): bench/mir1k_runs.sh [BUDGET_MINUTES] [LR]
# Writes bench/runs/mir1k/<name>/ (train.json, log.csv, split.csv; best/ and last/ checkpoints)
# plus <name>.stdout/.stderr and load.log (the 1-minute load, every minute). Rerunning resumes
# every unfinished run from its last completed epoch.
set -euo pipefail
BUDGET=${1:-45}
LR=${2:-1e-3}
BIN=target/release/singerid
DATA=../shared/data/mir1k/metadata.csv
CACHE=${SINGERID_FEATURES_DIR:-target/singerid-features}
OUT=bench/runs/mir1k
mkdir -p "$OUT"
cargo build --release -p singerid-cli

run() { # name model channel lr
  local name=$1 model=$2 channel=$3 lr=$4
  echo "$(date -u +%FT%TZ) start $name" >>"$OUT/load.log"
  RAYON_NUM_THREADS=1 "$BIN" train --quiet --data "$DATA" --split manifest \
    --model "$model" --clip-seconds 3 --channel "$channel" --lr "$lr" --batch-size 16 \
    --epochs 100 --patience 10 --time-budget "$BUDGET" --seed 0 \
    --cache "$CACHE" --out "$OUT/$name" >"$OUT/$name.stdout" 2>"$OUT/$name.stderr" || true
  echo "$(date -u +%FT%TZ) end $name" >>"$OUT/load.log"
}

( while true; do echo "$(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)"; sleep 60; done ) \
  >>"$OUT/load.log" &
LOAD_PID=$!
trap 'kill $LOAD_PID 2>/dev/null || true' EXIT

# Wait for the runs only: a bare `wait` would also wait for the load logger, forever.
RUNS=()
run crnn-mixture crnn mix "$LR" & RUNS+=($!)
run crnn-mixture-lr1e-4 crnn mix 1e-4 & RUNS+=($!)
run fgnl_backbone-mixture fgnl_backbone mix "$LR" & RUNS+=($!)
run crnn_fgnl-mixture crnn_fgnl mix "$LR" & RUNS+=($!)
run crnn_fgnl-vocal crnn_fgnl right "$LR" & RUNS+=($!)
wait "${RUNS[@]}"
