#!/usr/bin/env bash
# Issue 15 item 4: the ICLR-2018 models and Choi et al.'s taggers on the MIR-1K pool, one run
# after another, on the voice separated by the shipped separator (as the issue-13 runs in
# bench/mir1k_seeds.sh), train -> val of the manifest split, each evaluated on val:
#
#   - every global aggregation (none, max, average, attention) x {iclr_cnn, iclr_resnext} as
#     singer classifiers (softmax);
#   - the siamese embedding (iclr_resnext_siamese: Table 2's 128,128 ResNeXt + attention, 16-d,
#     contrastive loss Eq. 5, m = 1): kNN singer accuracy and verification EER (eval reports
#     them for a contrastive model);
#   - choi_k1c2, choi_k2c2, choi_crnn (1M budget) as singer classifiers.
#
# Input: the iclr2018 feature preset (22.05 kHz, n_fft 2048, hop 512, 96 mels, the paper's dB)
# and the paper's 6 s clips: --clip-seconds 5.93 gives 1 + floor(5.93 * 22050 / 512) = 256
# frames, the length the `none` aggregation's first dense layer is built for (its config's
# `frames`). Every model accepts it: the aggregating ICLR models need 4 (shallow) frames,
# choi_k1c2 160, choi_crnn 96; choi_k2c2's paper pools need 320 (4·4·4·5), so its fourth pool
# is narrowed to [3, 4] (min 256 frames; the last pool spans what is left either way).
# MIR-1K recordings shorter than 5.93 s give no clip and are skipped (the runs' logs count
# them).
#
# Budget: each training run gets --time-budget $BUDGET_MIN minutes (default 40; an epoch that
# would overrun is not started) and each eval a few minutes, so the 12 runs take about
# 12 x (BUDGET_MIN + 4) minutes: 8.8 hours at the default. The `none` models are large
# (about 200 M parameters, the paper's 200000k: about 3 GB with Adam's state) and slow per
# epoch. One run at a time, niced; the load average is logged at every start and end
# (bench/runs/iclr/load.log). Rerunning resumes unfinished runs and skips finished evals.
# Research-only (MIR-1K).
#
# Usage (repository root): nice bench/iclr_comparison.sh [NAME ...]
#   EPOCHS=1 BUDGET_MIN=2 bench/iclr_comparison.sh iclr_resnext-max   # a smoke test
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/singerid}
DATA=${DATA:-../shared/data/mir1k/metadata.csv}
CACHE=${SINGERID_FEATURES_DIR:-target/singerid-features}
SEP=${SEP:-models/open_unmix-mir1k}
OUT=${OUT:-bench/runs/iclr}
BUDGET_MIN=${BUDGET_MIN:-40}
EPOCHS=${EPOCHS:-200}
CLIP_SECONDS=5.93
mkdir -p "$OUT"
log() { echo "$(date -u +%FT%TZ) $* (load $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/load.log"; }

# name model batch extra-options... (the paper: Adam lr 1e-4, batch 32)
CONFIGS=()
for model in iclr_cnn iclr_resnext; do
  for aggregation in none max average attention; do
    CONFIGS+=("$model-$aggregation $model 32 --model-config {\"aggregation\":\"$aggregation\"}")
  done
done
CONFIGS+=(
  "iclr_resnext_siamese-contrastive iclr_resnext_siamese 32 --objective contrastive --contrastive-form squared-distance --margin 1"
  "choi_k1c2 choi_k1c2 32"
  "choi_k2c2 choi_k2c2 32 --model-config {\"pools\":[[2,4],[2,4],[2,4],[3,4],[4,4]]}"
  "choi_crnn choi_crnn 32"
)

log "series: ${#CONFIGS[@]} runs, $BUDGET_MIN min each, at most $EPOCHS epochs"
for config in "${CONFIGS[@]}"; do
  read -r name model batch extra <<<"$config"
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
  run="$OUT/$name"
  log "start $name"
  # shellcheck disable=SC2086 # $extra is a list of options
  RAYON_NUM_THREADS=2 "$BIN" train --quiet --data "$DATA" --split manifest --model "$model" \
    --preset iclr2018 --clip-seconds "$CLIP_SECONDS" --channel mix --vocals separated \
    --separator "$SEP" --batch-size "$batch" --lr 1e-4 --epochs "$EPOCHS" --patience 20 \
    --time-budget "$BUDGET_MIN" --seed 0 $extra \
    --cache "$CACHE" --out "$run" >"$run.stdout" 2>"$run.stderr" \
    || log "train $name exited $? (2 also when recordings shorter than a clip were skipped; see $run.stdout)"
  if [ -d "$run/best" ] && [ ! -f "$run/eval-val.json" ]; then
    "$BIN" eval --quiet --model "$run" --split val --cache "$CACHE" --format json \
      --out "$run/eval-val" >"$run/eval-val.json.part" 2>>"$run.stderr" \
      && mv "$run/eval-val.json.part" "$run/eval-val.json" || log "eval $name failed"
  fi
  log "end $name"
done
log "done"
