#!/usr/bin/env bash
# Issue 13, session 5 (2026-12-01): after the longer hidden-128 separator run
# (LONG128=1 bench/separator_runs.sh), score it on the pool's validation split; then train
# identifiers on its separated vocals with and without remixed training recordings
# (bench/separated_mismatch.py found remixing worth +7 points for the linear model) and with the
# training augmentations, one run at a time, each evaluated on val (with bootstrap intervals
# over songs). Nothing is shipped by this script: the choice is made by hand on validation and
# recorded in bench/RESULTS.md. Research-only (MIR-1K).
#
# Usage (repository root): nice bench/mir1k_remix.sh [DEADLINE_EPOCH_SECONDS]
#   With a deadline, a still-running separator run is stopped then (resumable; its best
#   checkpoint so far is used).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/singerid
DATA=../shared/data/mir1k/metadata.csv
CACHE=${SINGERID_FEATURES_DIR:-target/singerid-features}
SEP=${SEP:-bench/runs/separator/h128}
OUT=bench/runs/mir1k-remix
CRNN_MIN=${CRNN_MIN:-40}
REMIXES=${REMIXES:-1}
DEADLINE=${1:-0}
mkdir -p "$OUT"
log() { echo "$(date -u +%FT%TZ) $* (load $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/load.log"; }

while pgrep -f "singerid train-separator" >/dev/null; do
  if [ "$DEADLINE" -gt 0 ] && [ "$(date +%s)" -ge "$DEADLINE" ]; then
    log "deadline: stopping the separator run"
    pkill -f separator_runs.sh || true
    pkill -f "singerid train-separator" || true
    sleep 5
    break
  fi
  sleep 15
done

if [ ! -f "$OUT/report-val/report.json" ]; then
  log "separate --eval val with $SEP"
  "$BIN" separate --quiet --eval "$DATA" --split val --model "$SEP" \
    --out "$OUT/report-val" >"$OUT/report-val.txt"
fi

# name model remixes extra-options...
RUNS=(
  "linear-sep mel_stats_linear 0 --lr 1e-2 --model-config {\"l2\":1e-3} --epochs 300 --patience 30"
  "linear-sep-remix2 mel_stats_linear 2 --lr 1e-2 --model-config {\"l2\":1e-3} --epochs 300 --patience 30"
  "crnn-sep-remix-aug crnn $REMIXES --lr 1e-3 --epochs 100 --patience 8 --time-budget $CRNN_MIN --random-offsets --spec-augment 2,10,2,16 --class-weights --lr-plateau 0.3,3"
)
for spec in "${RUNS[@]}"; do
  read -r name model remixes extra <<<"$spec"
  if [ $# -gt 1 ] && [[ " ${*:2} " != *" $name "* ]]; then continue; fi
  log "start $name"
  # shellcheck disable=SC2086 # $extra is a list of options
  RAYON_NUM_THREADS=2 "$BIN" train --quiet --data "$DATA" --split manifest --model "$model" \
    --clip-seconds 3 --channel mix --vocals separated --separator "$SEP" --db power_db \
    --remixes "$remixes" --batch-size 16 --seed 0 $extra \
    --cache "$CACHE" --out "$OUT/$name" >"$OUT/$name.stdout" 2>"$OUT/$name.stderr" || true
  "$BIN" eval --quiet --model "$OUT/$name" --split val --cache "$CACHE" \
    --out "$OUT/$name/eval-val" >"$OUT/$name/eval-val.txt" 2>>"$OUT/$name.stderr" || true
  log "end $name"
done
log "done"
