#!/usr/bin/env bash
# Issue 13 (2026-12-02, session 8): the shipped default model as the logit average of the three
# seeds of the configuration chosen by its mean over seeds (mel_stats_linear, gate 10 dB,
# 4 remixes; bench/mir1k_seeds.sh linear-sep-remix4-gate10), folded into one model by
# `singerid ensemble`, then its enrolment threshold recalibrated (`eval-open --write-model`)
# and its validation figures printed by `eval`. Research-only (MIR-1K). The seeds' run folders
# (best/) must be there: `nice bench/mir1k_seeds.sh linear-sep-remix4-gate10` remakes them.
#
# Usage (repository root): nice bench/ship_default_model.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/singerid
DATA=../shared/data/mir1k/metadata.csv
CACHE=${SINGERID_FEATURES_DIR:-target/singerid-features}
SHIP=models/mel_stats_linear-separated-mir1k
RUNS=bench/runs/mir1k-seeds/linear-sep-remix4-gate10-seed
OUT=bench/runs/ship
mkdir -p "$OUT"
cargo build --release -p singerid-cli
log() { echo "$(date -u +%FT%TZ) $* (load $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/load.log"; }

# The model card is the folder's only hand-written file; `ensemble` replaces the folder.
card=$(mktemp)
cp "$SHIP/README.md" "$card"
log "ensemble"
"$BIN" ensemble --quiet "${RUNS}0" "${RUNS}1" "${RUNS}2" --out "$SHIP" --force --cache "$CACHE" \
  | tee "$OUT/ensemble.txt"
cp "$card" "$SHIP/README.md"
rm -f "$card"
log "eval-open --write-model"
"$BIN" eval-open --quiet --model "$SHIP" --data "$DATA" --cache "$CACHE" \
  --out "$OUT/open-set-calibration" --write-model | tee "$OUT/open-set-calibration.txt"
log "eval val"
"$BIN" eval --quiet --model "$SHIP" --data "$DATA" --split val --cache "$CACHE" \
  --out "$OUT/eval-val" | tee "$OUT/eval-val.txt"
log "done"
