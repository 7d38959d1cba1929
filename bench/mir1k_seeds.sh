#!/usr/bin/env bash
# Issue 13 (2026-12-01): the candidate default configurations over three seeds (0, 1, 2), on
# the voice separated by the shipped separator, each evaluated on the pool's validation split
# with bootstrap intervals over songs. The seed changes the weights' initialisation, the
# shuffling and the remixes drawn. One run at a time. Research-only (MIR-1K).
#
# Usage (repository root): nice bench/mir1k_seeds.sh [NAME ...]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/singerid
DATA=../shared/data/mir1k/metadata.csv
CACHE=${SINGERID_FEATURES_DIR:-target/singerid-features}
SEP=${SEP:-models/open_unmix-mir1k}
OUT=bench/runs/mir1k-seeds
mkdir -p "$OUT"
log() { echo "$(date -u +%FT%TZ) $* (load $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/load.log"; }

# name model remixes extra-options...
CONFIGS=(
  "linear-sep-remix2 mel_stats_linear 2 --lr 1e-2 --model-config {\"l2\":1e-3} --epochs 300 --patience 30"
  # Session 6: statistics over the loud frames only (bench/stats_features_sweep.py chose 10 dB).
  "linear-sep-remix2-gate10 mel_stats_linear 2 --lr 1e-2 --model-config {\"l2\":1e-3,\"gate_db\":10} --epochs 300 --patience 30"
  "linear-sep-remix4-gate10 mel_stats_linear 4 --lr 1e-2 --model-config {\"l2\":1e-3,\"gate_db\":10} --epochs 300 --patience 30"
  "linear-sep-remix6-gate10 mel_stats_linear 6 --lr 1e-2 --model-config {\"l2\":1e-3,\"gate_db\":10} --epochs 300 --patience 30"
  "linear-sep-gate10 mel_stats_linear 0 --lr 1e-2 --model-config {\"l2\":1e-3,\"gate_db\":10} --epochs 300 --patience 30"
  "linear-sep-remix2-gate10-l2-3e-4 mel_stats_linear 2 --lr 1e-2 --model-config {\"l2\":3e-4,\"gate_db\":10} --epochs 300 --patience 30"
  "linear-sep-remix2-gate10-l2-3e-3 mel_stats_linear 2 --lr 1e-2 --model-config {\"l2\":3e-3,\"gate_db\":10} --epochs 300 --patience 30"
)
for config in "${CONFIGS[@]}"; do
  read -r name model remixes extra <<<"$config"
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
  for seed in 0 1 2; do
    run="$OUT/$name-seed$seed"
    log "start $name seed $seed"
    # shellcheck disable=SC2086 # $extra is a list of options
    RAYON_NUM_THREADS=2 "$BIN" train --quiet --data "$DATA" --split manifest --model "$model" \
      --clip-seconds 3 --channel mix --vocals separated --separator "$SEP" --db power_db \
      --remixes "$remixes" --batch-size 16 --seed "$seed" $extra \
      --cache "$CACHE" --out "$run" >"$run.stdout" 2>"$run.stderr" || true
    "$BIN" eval --quiet --model "$run" --split val --cache "$CACHE" --format json \
      --out "$run/eval-val" >"$run/eval-val.json" 2>>"$run.stderr" || true
    log "end $name seed $seed"
  done
done
log "done"
