"""PyTriton's own virtualenv, var/pytriton-venv (nvidia-pytriton 0.7.0 pins numpy < 2, the sidecar's
numpy 2 cannot share a virtualenv with it): made on first use, with what the sidecar's stages import,
at the versions the main virtualenv has where numpy 1 allows. The repository is put on PYTHONPATH
instead of installing it (its own pin, numpy >= 2, would refuse numpy 1)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

from harness.paths import ROOT

VENV = ROOT / "var" / "pytriton-venv"
PYTRITON = "nvidia-pytriton==0.7.0"
# What bench.compare.work imports of the sidecar needs (besides numpy), pinned as in the main venv.
SAME_AS_MAIN = ("onnxruntime", "pillow", "pypdfium2", "pydantic", "pydantic-settings", "structlog", "pikepdf")
EXTRA = ("prometheus-client", "tokenizers")


def server_env() -> dict[str, str]:
    """The environment the PyTriton server runs in: the repository importable, and the interpreter's own
    libpython first on the loader's path. Triton runs each model instance in its Python backend stub,
    which links libpython3.X.so dynamically: left to the loader it finds the system's (Debian 12:
    3.11.2) while the virtualenv's standard library is this interpreter's (pyenv: 3.11.7), and the
    stub fails at start-up (multiprocessing's resource tracker: "'_thread.RLock' object has no
    attribute '_recursion_count'")."""
    libdir = sysconfig.get_config_var("LIBDIR") or ""
    paths = [p for p in (libdir, os.environ.get("LD_LIBRARY_PATH", "")) if p]
    return {"PYTHONPATH": str(ROOT), "LD_LIBRARY_PATH": ":".join(paths)}


def python() -> Path:
    return VENV / "bin" / "python"


def _pin(name: str) -> str:
    try:
        return f"{name}=={metadata.version(name)}"
    except metadata.PackageNotFoundError:
        return name


def ensure_venv(install: bool = True) -> tuple[Path | None, str]:
    """(its python, "") when ready, else (None, why). `install`: make it when it is missing."""
    marker = VENV / ".installed"
    log = VENV.parent / "pytriton-install.log"
    if marker.is_file():
        return python(), ""
    if not install:
        return None, f"{VENV} is absent (make bench creates it; --quick does not)"
    VENV.parent.mkdir(parents=True, exist_ok=True)
    base = Path(sys.base_prefix) / "bin" / "python3"
    steps = [
        [str(base), "-m", "venv", str(VENV)],
        [str(python()), "-m", "pip", "install", "-q", "--upgrade", "pip"],
        [
            str(python()),
            "-m",
            "pip",
            "install",
            "-q",
            PYTRITON,
            "numpy<2",
            *(_pin(n) for n in SAME_AS_MAIN),
            *EXTRA,
        ],
        [str(python()), "-c", "import pytriton.triton, bench.compare.work"],
    ]
    with log.open("w") as out:
        for step in steps:
            out.write("$ " + " ".join(step) + "\n")
            out.flush()
            env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
            code = subprocess.call(step, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
            if code != 0:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-12:])
                return None, f"`{' '.join(step[-3:])}` failed ({code}), {log}:\n{tail}"
    marker.touch()
    return python(), ""
