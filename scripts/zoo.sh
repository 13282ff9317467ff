#!/usr/bin/env bash
# make zoo: the model zoo in OUT_DIR (models/, ignored by git), from package
# registries only (docs/MODELS.md says what each model is and where it comes from):
#   - light_resnet50, light_squeezenet, light_shufflenet: the onnx 1.20.1
#     wheel's onnx/backend/test/data/light/ (read from the pinned onnx the
#     venv installs), each in its own folder with the ONNX test-data layout
#     beside it, plus light_resnet50_batched.onnx (symbolic batch axis);
#   - transformer.onnx: built by training/transformer.py (seeded, byte-deterministic);
#   - magika_standard_v3_3.onnx from the magika 1.0.3 wheel, ppocrv4_rec.onnx
#     and ppocr_mobile_v2_cls.onnx from the rapidocr-onnxruntime 1.4.4 wheel
#     (pip download --no-deps of the pinned wheel, then unzip).
# Every file is checked against training/zoo.sha256, then ONNX Runtime runs
# every model once (training/zoo.py check). Built in a staging folder and
# moved in only when all of that passed; the Makefile's stamp makes it run once.
# ZOO_UPDATE_SUMS=1 rewrites training/zoo.sha256 from this build first.
#
# usage: scripts/zoo.sh PYTHON OUT_DIR
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
python="${1:?usage: zoo.sh PYTHON OUT_DIR}"
out="${2:?usage: zoo.sh PYTHON OUT_DIR}"
req="$repo/training/zoo-requirements.txt"
sums="$repo/training/zoo.sha256"
for tool in unzip sha256sum; do
    command -v "$tool" >/dev/null || { echo "zoo: $tool is needed (apt-get install unzip coreutils)" >&2; exit 1; }
done
mkdir -p "$out"
out="$(cd "$out" && pwd)"

# The venv is rebuilt when the pins change (its stamp names their hash).
venv="$out/.venv"
pins="$(sha256sum "$req" | cut -c1-12)"
if [ ! -f "$venv/.installed-$pins" ]; then
    echo "zoo: virtualenv $venv ($("$python" --version 2>&1))"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    "$venv/bin/python" -m pip check
    touch "$venv/.installed-$pins"
fi
py="$venv/bin/python"

stage="$out/.staging"
rm -rf "$stage"
mkdir -p "$stage/wheels"
trap 'rm -rf "$stage"' EXIT

# The wheels for one fixed platform, whatever this machine is: the model
# files inside do not depend on it, and the same wheel gives the same bytes.
fetch() {
    "$py" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --platform manylinux_2_28_x86_64 --python-version 3.11 --implementation cp --abi cp311 \
        --dest "$stage/wheels" "$1"
}
# unzip_one WHEEL_GLOB MEMBER DEST: one file out of a wheel.
unzip_one() {
    local whl
    whl=$(ls "$stage"/wheels/$1)
    unzip -q -p "$whl" "$2" > "$3"
    test -s "$3" || { echo "zoo: $2 is not in $whl" >&2; exit 1; }
}

echo "zoo: fetching magika 1.0.3 and rapidocr-onnxruntime 1.4.4 (PyPI)"
fetch magika==1.0.3
fetch rapidocr-onnxruntime==1.4.4
unzip_one 'magika-1.0.3-*.whl' magika/models/standard_v3_3/model.onnx "$stage/magika_standard_v3_3.onnx"
unzip_one 'rapidocr_onnxruntime-1.4.4-*.whl' rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx "$stage/ppocrv4_rec.onnx"
unzip_one 'rapidocr_onnxruntime-1.4.4-*.whl' rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx "$stage/ppocr_mobile_v2_cls.onnx"

echo "zoo: light models from onnx $("$py" -c 'import onnx; print(onnx.__version__)')'s backend test data"
light="$("$py" -c 'import os, onnx; print(os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light"))')"
"$py" "$repo/training/zoo.py" light "$light" "$stage"

echo "zoo: building transformer.onnx"
"$py" "$repo/training/transformer.py" "$stage/transformer.onnx"

rm -rf "$stage/wheels"
if [ "${ZOO_UPDATE_SUMS:-0}" = 1 ]; then  # after an intended change of a pin or a builder
    (cd "$stage" && find . -type f | LC_ALL=C sort | sed 's|^\./||' | xargs sha256sum) > "$sums"
    echo "zoo: wrote $sums"
fi
(cd "$stage" && sha256sum --quiet -c "$sums") || {
    echo "zoo: a file differs from training/zoo.sha256 (see above): a changed wheel or builder; if intended, rerun with ZOO_UPDATE_SUMS=1" >&2
    exit 1
}
"$py" "$repo/training/zoo.py" check "$stage"

for f in "$stage"/*; do
    rm -rf "$out/$(basename "$f")"
    mv "$f" "$out/"
done
echo "zoo: $(cd "$out" && find . -name '*.onnx' -not -path './.venv/*' | wc -l) models in $out"
