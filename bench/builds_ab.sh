#!/usr/bin/env bash
# A/B of two builds of the bench binaries (e.g. before and after a kernel or build-feature
# change): the same `models` and `crepe` runs, alternating the two builds, 2 threads each.
# Usage (repository root; copy the "before" binaries aside first):
#   cp target/release/{models,crepe} /tmp/before/   # then change, rebuild, and:
#   nice bench/builds_ab.sh /tmp/before target/release
# Prints medians (models: of 5 steps after 1 warm-up, T = 94; crepe: its own median line).
set -euo pipefail
cd "$(dirname "$0")/.."
A=${1:?before dir}; B=${2:?after dir}
echo "== $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
med() { python3 -c 'import json,sys,statistics; d=json.loads(sys.stdin.read()); print(round(statistics.median(d["step_s"]),3), "s, peak RSS", d["vmhwm_kib"]//1024, "MiB")'; }
for spec in "crnn train 16" "crnn infer 64" "crnn-fgnl train 16" "crnn-fgnl infer 64"; do
  set -- $spec
  for dir in "$A" "$B"; do
    echo "models $1 $2 b$3 $dir: $(RAYON_NUM_THREADS=2 "$dir/models" --model "$1" --frames 94 --mode "$2" --batch "$3" --warmup 1 --reps 5 2>/dev/null | med)"
  done
done
for round in 1 2; do
  for dir in "$A" "$B"; do
    echo "crepe full round $round $dir: $(RAYON_NUM_THREADS=2 "$dir/crepe" --capacity full --seconds 2 --batch 32 --reps 2)"
    echo "crepe tiny round $round $dir: $(RAYON_NUM_THREADS=2 "$dir/crepe" --capacity tiny --seconds 30 --batch 512 --reps 3)"
  done
done
echo "== done $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
