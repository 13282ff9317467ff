#!/usr/bin/env bash
# make check-training: build a FRESH virtualenv in a temp dir (never the cached
# training/.venv), install the pins, run the notebook into a temp output root and
# compare its reference predictions and datasets with the committed ones.
#
# usage: training/check_training.sh [PYTHON]     (default python3)
# KEEP=1 keeps the temp dir for inspection.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
python="${1:-python3}"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/ortbench-check-training.XXXXXX")"
if [ "${KEEP:-0}" = 1 ]; then
    echo "keeping $tmp"
else
    trap 'rm -rf "$tmp"' EXIT
fi

start=$(date +%s)
echo "== fresh virtualenv in $tmp/venv ($("$python" --version 2>&1))"
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
"$tmp/venv/bin/python" -m pip check
echo "   installed in $(( $(date +%s) - start ))s"

echo "== executing the notebook into $tmp/out"
"$here/run_notebook.sh" "$tmp/venv" "$tmp/out"

echo "== comparing with the committed artifacts"
"$tmp/venv/bin/python" "$here/compare_reference.py" --expected "$repo" --actual "$tmp/out"
echo "check-training took $(( $(date +%s) - start ))s"
