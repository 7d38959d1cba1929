#!/usr/bin/env bash
# Issue 13: the log-mel mean/std softmax regression (mel_stats_linear) on the MIR-1K pool,
# 3 s clips, manifest split (train -> val), swept over its L2 penalty and the learning rate and
# selected on validation (the pool has no test split: the chosen figures are optimistic). Each
# run takes seconds once the features are cached. Research-only (MIR-1K).
#
# Usage (repository root): bench/mel_stats_linear_sweep.sh CHANNEL [DB]
#   CHANNEL: mix, right, or separated (the voice separated from the mix by $SEPARATOR,
#   default models/open_unmix-mir1k); DB: the dB convention, fgnl_db (the FGNL preset's, default) or
#   power_db (librosa's power_to_db).
# Writes bench/runs/mir1k-seq/sweep-<channel>-<db>/<l2>-<lr>/ and prints one line per run:
#   channel db l2 lr best_epoch val_accuracy val_macro_f1 val_weighted_f1
set -euo pipefail
CHANNEL=${1:-mix}
DB=${2:-fgnl_db}
BIN=target/release/singerid
DATA=../shared/data/mir1k/metadata.csv
CACHE=${SINGERID_FEATURES_DIR:-target/singerid-features}
OUT=bench/runs/mir1k-seq/sweep-$CHANNEL-$DB
SOURCE=(--channel "$CHANNEL")
if [ "$CHANNEL" = separated ]; then
  SOURCE=(--channel mix --vocals separated --separator "${SEPARATOR:-models/open_unmix-mir1k}")
fi
mkdir -p "$OUT"
for l2 in 0 1e-4 3.6e-4 1e-3 3e-3 1e-2; do
  for lr in 1e-2 1e-3; do
    dir="$OUT/$l2-$lr"
    RAYON_NUM_THREADS=1 "$BIN" train --quiet --data "$DATA" --split manifest \
      --model mel_stats_linear --model-config "{\"l2\": $l2}" --clip-seconds 3 \
      "${SOURCE[@]}" --db "$DB" --lr "$lr" --batch-size 16 --epochs 300 --patience 30 --seed 0 \
      --cache "$CACHE" --out "$dir" >"$dir.stdout" 2>"$dir.stderr" || true
    # The best epoch's row of log.csv (is_best is the last column; the last best row wins).
    best=$(grep ',true$' "$dir/log.csv" | tail -1 | cut -d, -f1,5,6,7)
    echo "$CHANNEL $DB $l2 $lr ${best//,/ }"
  done
done | tee "$OUT/summary.txt"
