"""The client distribution alone (`pip install clients/python` into a fresh virtualenv, no server, no
training) classifies a file against a real sidecar process, through `doctriage.Client` and through the
`doctriage classify` console script, and reads the sidecar's status through `doctriage.AdminClient`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.process import SidecarProcess
from sidecar.tools.evaluation import CANONICAL_LABELS

ROOT = Path(__file__).resolve().parents[2]
DECISIONS = {"ACCEPTED", "ACCEPTED_AFTER_RULES", "HUMAN_REVIEW"}
# What pip says when it cannot reach an index (or the index lacks the client's dependencies).
NO_INDEX = (
    "No matching distribution found",
    "Could not fetch URL",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "ProxyError",
    "ConnectTimeoutError",
)

# Run by the fresh virtualenv's python, from a directory outside the repository.
PROBE = r"""
import importlib, json, sys

for name in ("sidecar", "doctriage_train"):
    try:
        module = importlib.import_module(name)
    except ImportError:
        continue
    raise SystemExit(f"{name} is importable here: {module.__file__}")

import doctriage
from doctriage import AdminClient, Client

address, path = sys.argv[1:3]
with Client(address, timeout=30) as client:
    result = client.classify(path)
with AdminClient(address, timeout=30) as admin:
    status = admin.get_status()
print(json.dumps({
    "client": doctriage.__file__,
    "foreign": sorted(m for m in sys.modules if m.split(".")[0] in ("sidecar", "doctriage_train")),
    "client_ref": result.client_ref,
    "label": result.label,
    "confidence": result.confidence,
    "decision": result.decision,
    "model_version": result.model_version,
    "serving": status.serving,
    "versions": [m.version for m in status.models],
}))
"""


def _clean_env() -> dict[str, str]:
    """The environment without anything that would point Python at the repository or its .venv."""
    drop = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"}
    return {k: v for k, v in os.environ.items() if k not in drop}


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv (no system site-packages) holding the client distribution alone."""
    base = tmp_path_factory.mktemp("standalone")
    # A copy of the sources: pip builds in the source folder, never in the working tree.
    src = base / "src"
    shutil.copytree(
        ROOT / "clients" / "python", src, ignore=shutil.ignore_patterns("*.egg-info", "build", "dist", "__pycache__")
    )
    env = _clean_env()
    subprocess.run([sys.executable, "-m", "venv", str(base / "venv")], check=True, env=env, timeout=120)
    python = base / "venv" / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", str(src)],
        capture_output=True,
        text=True,
        env=env,
        cwd=base,
        timeout=240,
        check=False,
    )
    if install.returncode != 0:
        output = install.stdout + install.stderr
        if any(marker in output for marker in NO_INDEX):
            pytest.skip(f"pip cannot reach a package index to install the client's dependencies: {output[-800:]}")
        pytest.fail(f"pip install clients/python failed:\n{output[-4000:]}")
    assert "include-system-site-packages = false" in (base / "venv" / "pyvenv.cfg").read_text()
    return base / "venv"


@pytest.fixture()
def page(documents: dict[str, bytes], tmp_path: Path) -> Path:
    path = tmp_path / "page.png"
    path.write_bytes(documents["png"])
    return path


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, env=_clean_env(), cwd=cwd, timeout=60, check=False)


@pytest.mark.timeout(420)
def test_installed_client_classifies_without_the_server_package(
    venv: Path, sidecar: SidecarProcess, page: Path, tmp_path: Path
) -> None:
    probe = _run([str(venv / "bin" / "python"), "-c", PROBE, sidecar.address, str(page)], cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    answer = json.loads(probe.stdout)
    assert Path(answer["client"]).is_relative_to(venv), answer["client"]  # the installed copy, not the repo's
    assert answer["foreign"] == []
    assert answer["client_ref"] == str(page)
    assert answer["label"] in CANONICAL_LABELS and 0 < answer["confidence"] <= 1
    assert answer["decision"] in DECISIONS and answer["model_version"] == "2.3"
    assert answer["serving"] and "2.3" in answer["versions"]


@pytest.mark.timeout(420)
def test_installed_console_script_classifies(venv: Path, sidecar: SidecarProcess, page: Path, tmp_path: Path) -> None:
    doctriage = str(venv / "bin" / "doctriage")
    row = _run([doctriage, "--address", sidecar.address, "classify", str(page)], cwd=tmp_path)
    assert row.returncode == 0, row.stderr
    path, label, confidence, decision = row.stdout.strip().split("\t")
    assert path == str(page) and label in CANONICAL_LABELS and 0 < float(confidence) <= 1 and decision in DECISIONS
    as_json = _run([doctriage, "--address", sidecar.address, "classify", "--json", str(page)], cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    result = json.loads(as_json.stdout)
    assert (result["label"], result["decision"], result["error"]) == (label, decision, None)
    # The operators' tools are the server's (doctriage-admin), not the client's.
    assert not (venv / "bin" / "doctriage-admin").exists()
    assert _run([doctriage, "eval", str(tmp_path)], cwd=tmp_path).returncode == 2
