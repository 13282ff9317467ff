#!/usr/bin/env bash
# streaming-rss.sh: peak RSS of a streaming run at 400k and at 4M rows.
# Runs configs/streaming.yaml (workload.dataset.streaming) twice — on the
# first 400k rows of the 4M-row synthetic dataset, then on all of it — and
# prints each run's peak RSS (results.json peak_rss_bytes: the process's
# high-water mark over the whole run, reference pass included) and their
# ratio; the streaming mode's claim is a ratio ≤ 1.10. Extra arguments go to
# both runs (for example -c another.yaml). Needs bin/ortbench (make build)
# and the dataset (make synth-data).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
peak() { # ROWS: run, print the run's peak RSS in bytes
  ./bin/ortbench run -c configs/streaming.yaml --rows "$1" --repetitions 1 --out "$out/$1" "${@:2}" >&2
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peak_rss_bytes"])' "$(ls -d "$out/$1"/*/*/results.json | tail -1)"
}
echo "load before: $(uptime)"
small=$(peak 400000 "$@")
large=$(peak 4000000 "$@")
echo "load after:  $(uptime)"
awk -v s="$small" -v l="$large" 'BEGIN {
  printf "peak RSS: 400k rows %.1f MiB, 4M rows %.1f MiB, ratio %.3f (want <= 1.10)\n", s/1048576, l/1048576, l/s
  exit (l <= 1.10*s) ? 0 : 1 }'
