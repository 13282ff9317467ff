#!/bin/bash
# versions-every-model.sh: configs/versions.yaml's comparison (the run's own
# ONNX Runtime build against the PyPI wheel's, each in a worker process,
# interleaved rounds) on every model the shipped configs use, one run per
# model. Needs `make ort ort-pypi zoo`. Results: results/versions-<model>/.
#   scripts/versions-every-model.sh [MAX_DURATION]      # default 40s per model
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-40s}
bin=${BIN:-bin/ortbench}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# name | batch | workload block (paths relative to the repository root)
while IFS='|' read -r name batch tol workload; do
  [ -z "$name" ] && continue
  cfg=$tmp/versions-$name.yaml
  sed -e '/^workload:/,/^batch_sizes:/{/^workload:/!{/^batch_sizes:/!d}}' \
      -e "/^name:/c\\name: versions-$name" -e '/^description:/d' \
      -e "/^batch_sizes:/c\\batch_sizes: [$batch]" -e "/^max_duration:/c\\max_duration: $dur" \
      -e "/^  tolerance:/c\\  tolerance: $tol" -e '/^  expected:/d' configs/versions.yaml |
    awk -v w="$workload" '/^workload:/{print; n=split(w, l, ";"); for (i=1;i<=n;i++) print "  " l[i]; next} {print}' > "$cfg"
  sed -i "s#\.\./#$PWD/#g" "$cfg"
  echo "== $name (batch $batch)"
  [ -n "${SHOW:-}" ] && cat "$cfg"
  "$bin" run -q -c "$cfg" --out results || echo "   exit $?"
done <<'MODELS'
mlp_small|64|1e-5|model: ../training/models/mlp_small_digits.onnx;dataset: {path: ../datasets/data/digits.parquet, label: label}
mlp_large|64|1e-5|model: ../training/models/mlp_large_digits.onnx;dataset: {path: ../datasets/data/digits.parquet, label: label}
logreg|64|1e-5|model: ../training/models/logreg_breast_cancer.onnx;dataset: {path: ../datasets/data/breast_cancer.parquet, label: label}
rf|64|1e-5|model: ../training/models/rf_digits.onnx;dataset: {path: ../datasets/data/digits.parquet, label: label}
hgb|64|1e-5|model: ../training/models/hgb_digits.onnx;dataset: {path: ../datasets/data/digits.parquet, label: label}
resnet50|8|1e-4|model: ../models/light_resnet50_batched.onnx;shapes: {gpu_0/data_0: [batch, 3, 224, 224]};items: 16;seed: 1
transformer|8|1e-4|model: ../models/transformer.onnx;shapes: {input_ids: [batch, 128], attention_mask: [batch, 128]};inputs: {input_ids: "int:0,30522", attention_mask: "1"};items: 32;seed: 1
MODELS
