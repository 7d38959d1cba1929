#!/usr/bin/env bash
# Issue 16, item 4 (2026-12-01): the open-set evaluation on the MIR-1K pool.
#
# 1. A manifest of the pool without two held-out singers: the first two singers of the
#    manifest's own order (Ani, Kenshin), fixed before any figure was seen.
# 2. The shipped model's configuration (mel_stats_linear, l2 1e-3, gate 10 dB, 4 remixes, seed
#    0, on vocals separated by models/open_unmix-mir1k) trained on it.
# 3. `singerid eval-open`: the threshold calibrated on the 15 known singers (profiles from
#    train, queries from val), Ani and Kenshin enrolled from their train songs and identified
#    on their val song, the known singers' accuracy with and without them.
# 4. The same calibration on the shipped model (all 17 singers), written into its folder as
#    open_set.json (where new library databases read the enrolment threshold from).
# Research-only (MIR-1K). One run at a time.
#
# Session 8 (2026-12-02): the recording vector is a choice (`--embedding model|log-probs`),
# made on a development pair fixed the same way (the manifest's third and fourth singers,
# abjones and amy) before Ani and Kenshin are scored with it:
#   HOLDOUT=abjones,amy OUT=bench/runs/open-set-dev EMBEDDINGS="model log-probs" SHIPPED=0 \
#     nice bench/open_set.sh
#
# Usage (repository root): nice bench/open_set.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/singerid
DATA=../shared/data/mir1k/metadata.csv
CACHE=${SINGERID_FEATURES_DIR:-target/singerid-features}
SEP=models/open_unmix-mir1k
OUT=${OUT:-bench/runs/open-set}
HOLDOUT=${HOLDOUT:-Ani,Kenshin}
EMBEDDINGS=${EMBEDDINGS:-model}
SHIPPED=${SHIPPED:-1}
mkdir -p "$OUT"
log() { echo "$(date -u +%FT%TZ) $* (load $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/load.log"; }

# The manifest lives in $OUT; its paths point back into the pool (relative, so the checkout
# can move as long as ../shared stays beside it).
MANIFEST="$OUT/without-holdout.csv"
python3 - "$DATA" "$MANIFEST" "$HOLDOUT" <<'PY'
import csv, os, sys
src, dst, holdout = sys.argv[1], sys.argv[2], set(sys.argv[3].split(","))
rel = os.path.relpath(os.path.dirname(os.path.abspath(src)), os.path.dirname(os.path.abspath(dst)))
with open(src, newline="") as f, open(dst, "w", newline="") as g:
    rows = csv.DictReader(f)
    w = csv.DictWriter(g, fieldnames=rows.fieldnames, lineterminator="\n")
    w.writeheader()
    for r in rows:
        if r["singer"] not in holdout:
            r["path"] = os.path.join(rel, r["path"])
            w.writerow({k: v.strip() for k, v in r.items()})
PY

RUN="$OUT/model-without-holdout"
log "train $RUN"
# (rerunning resumes or, when finished, only re-evaluates)
RAYON_NUM_THREADS=2 "$BIN" train --quiet --data "$MANIFEST" --split manifest --model mel_stats_linear \
  --clip-seconds 3 --channel mix --vocals separated --separator "$SEP" --db power_db \
  --remixes 4 --batch-size 16 --seed 0 --lr 1e-2 --model-config '{"l2":1e-3,"gate_db":10}' \
  --epochs 300 --patience 30 --cache "$CACHE" --out "$RUN" >"$RUN.stdout" 2>"$RUN.stderr"
for embedding in $EMBEDDINGS; do
  suffix=$([ "$embedding" = model ] && echo "" || echo "-$embedding")
  log "eval-open $RUN ($embedding)"
  "$BIN" eval-open --quiet --model "$RUN" --data "$DATA" --holdout "$HOLDOUT" --cache "$CACHE" \
    --embedding "$embedding" --out "$OUT/eval-open$suffix" | tee "$OUT/eval-open$suffix.txt"
done
[ "$SHIPPED" = 1 ] || { log "done"; exit 0; }
log "calibrate the shipped model"
"$BIN" eval-open --quiet --model models/mel_stats_linear-separated-mir1k --data "$DATA" \
  --cache "$CACHE" --out "$OUT/shipped-calibration" --write-model | tee "$OUT/shipped-calibration.txt"
log "done"
