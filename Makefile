# ortbench — two commands on a fresh machine: `make bench` and `make test`.
# Each installs what it needs (Go modules, the ONNX Runtime shared library).

SHELL := /bin/bash
GO ?= go
CONFIG ?= configs/quick.yaml

# ONNX Runtime: onnxruntime_go v1.27.0 carries the 1.24.x C headers, so the
# shared library must be 1.24.x. It ships inside the onnxruntime-node npm package.
ORT_VERSION := 1.24.3
ORT_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x64)
ORT_DIR := .ort/$(ORT_VERSION)
ORT_LIB := $(ORT_DIR)/libonnxruntime.so.1
export ORTBENCH_ORT_LIB ?= $(abspath $(ORT_LIB))

PYTHON ?= python3
TRAIN_VENV := training/.venv

.PHONY: all build bench test vet lint ort models check-training clean help py-env py-test synth-data

all: build

help:
	@echo "make bench [CONFIG=configs/x.yaml]  build and run an experiment (default $(CONFIG))"
	@echo "make test                           go vet + go test -race ./..."
	@echo "make lint                           go vet + staticcheck + deadcode (tools pinned, installed into $(TOOLS_BIN))"
	@echo "make build                          bin/ortbench"
	@echo "make ort                            fetch the ONNX Runtime $(ORT_VERSION) shared library into $(ORT_DIR)"
	@echo "make models                         retrain the models and regenerate datasets (Python venv)"
	@echo "make check-training                 re-run the notebook and compare reference predictions"
	@echo "make py-env / py-test               the Python baseline's virtualenv / its pytest tests"
	@echo "make synth-data                     the synthetic dataset configs/processes-memory.yaml reads"

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

build:
	$(GO) build -buildvcs=auto -o bin/ortbench ./cmd/ortbench

# A config with py-* strategies gets the Python environment first (its cells
# are skipped, with the reason, if it cannot be made); one that reads
# datasets/synth/ gets the synthetic data generated first.
bench: build ort
	@if grep -q 'strategy: *py-' $(CONFIG); then $(MAKE) --no-print-directory py-env || echo "python environment unavailable: py-* cells will be skipped"; fi
	@if grep -q 'datasets/synth/' $(CONFIG); then $(MAKE) --no-print-directory synth-data; fi
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
test: ort vet py-test
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
