#!/usr/bin/env bash
# Issue 12 -> 13 (2026-12-01): after the separator run (bench/separator_runs.sh), ship its best
# checkpoint as models/open_unmix-mir1k, score it on the pool's validation split (GNSDR beside
# the ideal ratio mask and the mixture), then train the identifiers on its separated vocals:
# the mel_stats_linear sweep and a 25-minute CRNN, one run at a time. Research-only (MIR-1K).
#
# Usage (repository root): nice bench/mir1k_separated.sh [DEADLINE_EPOCH_SECONDS]
#   With a deadline, a still-running separator run is stopped then (it is resumable; its best
#   checkpoint so far is what ships).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/singerid
SEP=models/open_unmix-mir1k
RUN=bench/runs/separator/h64
DEADLINE=${1:-0}
while pgrep -f "singerid train-separator" >/dev/null; do
  if [ "$DEADLINE" -gt 0 ] && [ "$(date +%s)" -ge "$DEADLINE" ]; then
    echo "$(date -u +%FT%TZ) deadline: stopping the separator run"
    pkill -f separator_runs.sh || true
    pkill -f "singerid train-separator" || true
    sleep 5
    break
  fi
  sleep 15
done
echo "$(date -u +%FT%TZ) shipping $RUN/best as $SEP (load $(cut -d' ' -f1-3 /proc/loadavg))"
mkdir -p "$SEP"
cp "$RUN/best/separator.json" "$RUN/best/model.safetensors" "$SEP/"
echo "$(date -u +%FT%TZ) separate --eval (load $(cut -d' ' -f1-3 /proc/loadavg))"
"$BIN" separate --quiet --eval ../shared/data/mir1k/metadata.csv --split val --model "$SEP" \
  --out bench/runs/separator/report-val >bench/runs/separator/report-val.txt
echo "$(date -u +%FT%TZ) mel_stats_linear sweep on separated vocals"
bench/mel_stats_linear_sweep.sh separated power_db
echo "$(date -u +%FT%TZ) CRNN on separated vocals"
bench/mir1k_sequential.sh crnn-separated-power_db
echo "$(date -u +%FT%TZ) done"
