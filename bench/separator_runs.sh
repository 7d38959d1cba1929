#!/usr/bin/env bash
# Separator training on the MIR-1K pool, one run at a time (issue 12; bench/RESULTS.md).
# Size choice: hidden 64 and 128 get the same wall-clock budget (SIZE_MIN minutes each); the
# one with the better validation GNSDR per CPU second then continues to FINAL_MIN minutes.
# Resumable: rerunning skips finished work. Research use only (MIR-1K).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIN=${SIZE_MIN:-6}
FINAL_MIN=${FINAL_MIN:-55}
BIN=./target/release/singerid
OUT=bench/runs/separator
mkdir -p "$OUT"
if [[ "${LONG128:-0}" != 1 ]]; then
for h in 64 128; do
  echo "== hidden $h, $SIZE_MIN min ($(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
  nice "$BIN" train-separator --out "$OUT/h$h" --hidden "$h" --time-budget "$SIZE_MIN" \
    --format json > "$OUT/h$h.size.json"
done
best=$(python3 - "$OUT" <<'PY'
import csv, sys
out = sys.argv[1]
def best(h):
    rows = list(csv.DictReader(open(f"{out}/h{h}/log.csv")))
    return max(float(r["val_gnsdr_db"]) for r in rows)
scores = {h: best(h) for h in (64, 128)}
print(max(scores, key=scores.get))
PY
)
echo "== chosen: hidden $best; continuing to $FINAL_MIN min ($(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
nice "$BIN" train-separator --out "$OUT/h$best" --hidden "$best" --time-budget "$FINAL_MIN" \
  --format json > "$OUT/h$best.final.json"
echo "== done $(date -u +%FT%TZ)"
fi

# Session 5 (issue 12/13): hidden 64 saturated near 7.2 dB once its rate decayed (epochs 25-44),
# and bench/separated_mismatch.py showed identification on the ideal ratio mask reaching 90 %
# clip accuracy against 46-53 % on this separator: separation quality is the lever. Hidden 128
# resumes from its size-choice epoch with a slower plateau rule (8 epochs) to LONG_MIN minutes.
# Session 6 (issue 13): the curve was still rising at 75 min (8.20 dB), so the same command
# continues to LONG_MIN=130: `LONG128=1 LONG_MIN=130 bench/separator_runs.sh` (log h128.long130.*).
if [[ "${LONG128:-0}" == 1 ]]; then
  LONG_MIN=${LONG_MIN:-75}
  echo "== hidden 128, plateau 8, to $LONG_MIN min ($(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
  nice "$BIN" train-separator --out "$OUT/h128" --hidden 128 --lr-patience 8 --patience 20 \
    --time-budget "$LONG_MIN" --format json > "$OUT/h128.long${LONG_SUFFIX:-}.json"
  echo "== done $(date -u +%FT%TZ)"
fi
