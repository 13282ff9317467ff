#!/usr/bin/env bash
# Execute training/train.ipynb headless with the given virtualenv, writing the
# artifacts under OUT_ROOT (training/models, training/reference, datasets/data).
# The committed notebook is never rewritten: the executed copy goes to a temp dir
# and is removed on success (kept, and its path printed, on failure).
#
# usage: training/run_notebook.sh VENV_DIR [OUT_ROOT]   (OUT_ROOT defaults to the repo root)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:?usage: run_notebook.sh VENV_DIR [OUT_ROOT]}"
out_root="${2:-$(dirname "$here")}"
mkdir -p "$out_root"
out_root="$(cd "$out_root" && pwd)"

work="$(mktemp -d "${TMPDIR:-/tmp}/ortbench-nb.XXXXXX")"
trap 'status=$?; if [ $status -eq 0 ]; then rm -rf "$work"; else echo "executed notebook kept in $work" >&2; fi' EXIT

# Same numeric environment on every run (the notebook sets these too, before numpy loads).
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONHASHSEED=0
export ORTBENCH_TRAIN_OUT="$out_root"
# Keep Jupyter's state out of $HOME.
export JUPYTER_CONFIG_DIR="$work/jupyter-config" JUPYTER_DATA_DIR="$work/jupyter-data" \
       JUPYTER_RUNTIME_DIR="$work/jupyter-runtime" IPYTHONDIR="$work/ipython" \
       JUPYTER_PLATFORM_DIRS=1 PYDEVD_DISABLE_FILE_VALIDATION=1

echo "running training/train.ipynb -> $out_root"
start=$(date +%s)
# The kernel runs with training/ as its working directory; "python3" resolves to
# the venv's ipykernel because the venv's bin comes first on PATH.
PATH="$venv/bin:$PATH" "$venv/bin/python" -m nbconvert --to notebook --execute \
    --ExecutePreprocessor.timeout=1800 --ExecutePreprocessor.kernel_name=python3 \
    --output-dir "$work" --output executed.ipynb "$here/train.ipynb"

# Print the notebook's text output, so a log shows accuracies, sizes and costs.
"$venv/bin/python" - "$work/executed.ipynb" <<'PY'
import sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
for cell in nb.cells:
    for out in cell.get("outputs", []):
        text = out.get("text") or out.get("data", {}).get("text/plain", "")
        if text.strip():
            print(text.rstrip())
PY
echo "notebook ran in $(( $(date +%s) - start ))s"
