#!/usr/bin/env bash
# MIR-1K training runs one after another (issue 13: never several at once on 2 cores), each on
# both cores, with its own wall-clock budget; then each run's best model is evaluated on the
# pool's validation split. 3 s clips, the manifest's song-disjoint split (train -> val). MIR-1K
# is research-only, and so is every model trained here.
#
# Usage (repository root): nice bench/mir1k_sequential.sh [RUN ...]
#   RUN is one of the names below (default: all, in order). Writes bench/runs/mir1k-seq/<name>/
#   (train.json, log.csv, split.csv, eval-val.txt, eval-val/; best/ and last/ are not committed)
#   and load.log (the load average every minute). Rerunning resumes every unfinished run from its
#   last completed epoch and re-evaluates.
set -euo pipefail
BIN=target/release/singerid
DATA=../shared/data/mir1k/metadata.csv
CACHE=${SINGERID_FEATURES_DIR:-target/singerid-features}
OUT=bench/runs/mir1k-seq
mkdir -p "$OUT"
cargo build --release -p singerid-cli

# name model channel db lr epochs patience budget_minutes
# (channel "separated": the voice separated from the mix by $SEPARATOR, default the shipped
# models/open_unmix-mir1k.)
# (crnn-mixture with fgnl_db was stopped after a minute on 2026-12-01 in favour of the power_db
# runs, once the mel_stats_linear sweep had shown what the dB convention costs.)
RUNS=(
  "mel_stats_linear-mixture mel_stats_linear mix fgnl_db 1e-2 200 30 8"
  "mel_stats_linear-vocal mel_stats_linear right fgnl_db 1e-2 200 30 8"
  "crnn-vocal crnn right fgnl_db 1e-3 100 10 25"
  "crnn-mixture-power_db crnn mix power_db 1e-3 100 10 25"
  "crnn-vocal-power_db crnn right power_db 1e-3 100 10 25"
  "crnn-mixture crnn mix fgnl_db 1e-3 100 10 25"
  "crnn-separated-power_db crnn separated power_db 1e-3 100 10 25"
  # Session 6: CRNN_FGNL with crnn-vocal-power_db's settings and a longer budget (a step costs
  # 3.6x a CRNN step here), the first FGNL-vs-CRNN point on one input.
  # Session 8: the same run resumed from its epoch 5 with a 130-minute budget in all, to see
  # where it converges against the CRNN's 97.8 %.
  "crnn_fgnl-vocal-power_db crnn_fgnl right power_db 1e-3 100 10 130"
  # Session 8: the FGNL backbone without the module (the paper's fair control), same settings,
  # for the first epochs against CRNN_FGNL's curve (35 minutes: what the session had left).
  # (resumed once at the end of the session with 45 minutes in all: two more epochs)
  "fgnl_backbone-vocal-power_db fgnl_backbone right power_db 1e-3 100 10 45"
  # Session 9: CRNNM (the melody branch: the CREPE contour of the same clean voice with the
  # authors' settings) with the CRNN's settings: does the melody help, and at what cost.
  # CREPE tiny, not the authors' full: full runs at 16 frames/s here (bench/RESULTS.md, "CREPE
  # speed"), so the pool's ~213k frames would take ~3.7 h; tiny takes minutes.
  "crnnm-vocal-power_db crnnm right power_db 1e-3 100 10 45 tiny"
  # and on the shipped separator's vocals against crnn-separated-power_db (25 minutes)
  "crnnm-separated-power_db crnnm separated power_db 1e-3 100 10 25 tiny"
  # crnn-separated-power_db separated with an earlier separator (2e2867d3902ccc63); its control
  # for crnnm-separated-power_db is the same CRNN on the shipped one (bb8e7016dd033097)
  "crnn-separated-power_db-bb8e crnn separated power_db 1e-3 100 10 25"
  # Session 11: CRNNM_FGNL (the paper's best model: the FGNL backbone and module with the
  # melody branch) with crnn_fgnl-vocal-power_db's settings on the clean voice, the CREPE tiny
  # contour as crnnm-vocal-power_db; 90 minutes, what the session can give it.
  "crnnm_fgnl-vocal-power_db crnnm_fgnl right power_db 1e-3 100 10 90 tiny"
)

( while true; do echo "$(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)"; sleep 60; done ) \
  >>"$OUT/load.log" &
LOAD_PID=$!
trap 'kill $LOAD_PID 2>/dev/null || true' EXIT

for spec in "${RUNS[@]}"; do
  read -r name model channel db lr epochs patience budget crepe <<<"$spec"
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
  echo "$(date -u +%FT%TZ) start $name" >>"$OUT/load.log"
  source=(--channel "$channel")
  if [ "$channel" = separated ]; then
    source=(--channel mix --vocals separated --separator "${SEPARATOR:-models/open_unmix-mir1k}")
  fi
  RAYON_NUM_THREADS=2 "$BIN" train --quiet --data "$DATA" --split manifest \
    --model "$model" --clip-seconds 3 "${source[@]}" --db "$db" --lr "$lr" --batch-size 16 \
    --epochs "$epochs" --patience "$patience" --time-budget "$budget" --seed 0 \
    --crepe "${crepe:-full}" --cache "$CACHE" --out "$OUT/$name" >"$OUT/$name.stdout" 2>"$OUT/$name.stderr" || true
  "$BIN" eval --quiet --model "$OUT/$name" --split val --cache "$CACHE" \
    --out "$OUT/$name/eval-val" >"$OUT/$name/eval-val.txt" 2>>"$OUT/$name.stderr" || true
  echo "$(date -u +%FT%TZ) end $name" >>"$OUT/load.log"
done
