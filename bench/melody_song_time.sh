#!/usr/bin/env bash
# Issue 14 item 5: `singerid melody` end to end (decode, resample, CREPE tiny, Viterbi, CSV,
# PNG) on one song, no cache, at a 10 ms and at the authors' 32 ms step. Wall time and peak RSS
# from /usr/bin/time. Usage (repository root, after `cargo build --release`):
#   nice bench/melody_song_time.sh [SONG]
set -euo pipefail
cd "$(dirname "$0")/.."
S=${1:-../shared/data/songs/los_rombos-fantasma.mp3}
OUT=$(mktemp -d)
echo "== $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
for step in 10 32; do
  /usr/bin/time -f "step $step ms: %e s wall, %M KiB peak" \
    target/release/singerid melody "$S" --out "$OUT/$step" --model tiny --step-ms "$step" --no-cache 2>&1 | tail -2
done
rm -rf "$OUT"
