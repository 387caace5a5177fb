"""The server as a package: `python -m build` makes an sdist of `doctriage-sidecar` (the Cython sources,
no generated C, no build output, no models) and, from that sdist, a wheel holding the compiled hot path;
the client (`doctriage`) builds the same way. Both wheels are installed into a fresh virtualenv, and
its `doctriage-sidecar serve --data-dir DIR` (DIR: a temporary data directory linking the repository's
models/ and config/), started from a directory outside the checkout, serves the shipped release with the
compiled extension and classifies a file through the installed client.

Speed and isolation, the choices:
- the builds run `--no-isolation`, with this virtualenv's setuptools and Cython (what [build-system]
  requires, checked below), not ones fetched from a package index for each build; `make dist` builds
  isolated, as a release does;
- the fresh virtualenv (no system site-packages) gets the two wheels with `--no-deps`, and sees the
  runtime dependencies through a .pth file naming this virtualenv's site-packages: installing them from
  a registry (onnxruntime, opencv, rapidocr, ...) takes minutes and a network. A directory named in a
  .pth file is added to sys.path, but the .pth files inside it are not processed: the editable installs
  of the checkout (the `__editable__` finders of `pip install -e`) stay inert, and the probe proves that
  `sidecar` and `doctriage` resolve inside the new virtualenv and that nothing on its sys.path is the
  checkout (only this virtualenv's site-packages, which lives under it);
- the server process is proven to run the wheel's compiled module by its memory map (/proc/PID/maps).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.paths import ROOT
from harness.process import SidecarProcess
from sidecar.tools.evaluation import CANONICAL_LABELS

# The first test of the module pays for the builds (~25 s alone on 2 cores; more beside other work).
pytestmark = pytest.mark.timeout(420)
PIP = (sys.executable, "-m", "pip", "--disable-pip-version-check", "-q")
DECISIONS = {"ACCEPTED", "ACCEPTED_AFTER_RULES", "HUMAN_REVIEW"}
EXTENSIONS = sorted(p.stem for p in (ROOT / "_ext").glob("*.pyx"))
# Never copied into the build's source tree: the checkout's environment, data and outputs (top level only:
# sidecar/models is code), then caches anywhere. The in-place build's sidecar/_ext/*.so and the generated
# _ext/*.c are copied on purpose: the sdist must leave them out.
TOP_LEVEL_SKIP = {".git", ".venv", "var", "models", "build", "dist", "shared", ".mypy_cache", ".ruff_cache"}
SKIP_ANYWHERE = {"__pycache__", "node_modules", ".pytest_cache", ".hypothesis"}

# Run by the fresh virtualenv's python, from a directory outside the checkout.
PROBE = r"""
import json, sys
import doctriage, sidecar, sidecar.hotpath
from sidecar._ext import _hotpath, _texthash
from doctriage import AdminClient, Client
from doctriage.v1 import admin_pb2

address, path = sys.argv[1:3]
with Client(address, timeout=60) as client:
    result = client.classify(path)
with AdminClient(address, timeout=30) as admin:
    status = admin.get_status()
print(json.dumps({
    "sys_path": sys.path,
    "sidecar": sidecar.__file__,
    "doctriage": doctriage.__file__,
    "implementation": sidecar.hotpath.IMPLEMENTATION,
    "extensions": [_hotpath.__file__, _texthash.__file__],
    "label": result.label,
    "confidence": result.confidence,
    "decision": result.decision,
    "server_hotpath": status.hotpath,
    "ready": [m.version for m in status.models if m.state == admin_pb2.READY],
}))
"""


@dataclass(frozen=True)
class Built:
    sdist: Path
    wheel: Path
    client_wheel: Path
    seconds: float


def _clean_env() -> dict[str, str]:
    """This environment without what would point Python at the checkout or set the sidecar's settings."""
    drop = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"}
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("DOCTRIAGE_")}


def _copy_sources(source: Path, target: Path) -> Path:
    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in SKIP_ANYWHERE or n.endswith(".egg-info")}
        if Path(directory) == source:
            skipped |= TOP_LEVEL_SKIP & set(names)
        return skipped

    shutil.copytree(source, target, ignore=ignore, symlinks=True)
    return target


def _build(source: Path, outdir: Path) -> None:
    """`python -m build` without --sdist/--wheel: the sdist, then the wheel built from the unpacked sdist."""
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(outdir), str(source)],
        capture_output=True,
        text=True,
        env=_clean_env(),
        cwd=outdir.parent,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"python -m build {source.name} failed:\n{(done.stdout + done.stderr)[-4000:]}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    started = time.monotonic()
    _build(_copy_sources(ROOT, base / "src"), dist)
    _build(_copy_sources(ROOT / "clients" / "python", base / "client"), dist)
    (sdist,) = dist.glob("doctriage_sidecar-*.tar.gz")
    (wheel,) = dist.glob("doctriage_sidecar-*.whl")
    (client_wheel,) = dist.glob("doctriage-*.whl")
    return Built(sdist, wheel, client_wheel, time.monotonic() - started)


@pytest.fixture(scope="module")
def venv(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv holding the two wheels, the runtime dependencies seen through a .pth file."""
    target = tmp_path_factory.mktemp("venv") / "venv"
    env = _clean_env()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True, env=env, timeout=60)
    python = target / "bin" / "python"
    subprocess.run(
        [
            *PIP,
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            str(built.wheel),
            str(built.client_wheel),
        ],
        check=True,
        env=env,
        timeout=120,
    )
    assert "include-system-site-packages = false" in (target / "pyvenv.cfg").read_text()
    own = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=target,
    ).stdout.strip()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(own) / "doctriage-test-deps.pth").write_text("".join(f"{path}\n" for path in sorted(deps)))
    return target


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory as an operator lays it out: the release's models/ and config/ (linked)."""
    data = tmp_path_factory.mktemp("data")
    for name in ("models", "config"):
        (data / name).symlink_to(ROOT / name, target_is_directory=True)
    return data


@pytest.fixture(scope="module")
def sidecar(venv: Path, data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SidecarProcess]:
    elsewhere = tmp_path_factory.mktemp("cwd")
    process = SidecarProcess(
        {
            "DOCTRIAGE_DATA_DIR": str(data_dir),
            # The release as shipped (harness.process turns the rule file off and moves the state).
            "DOCTRIAGE_DECISION__ACCEPTANCE_RULE_FILE": "config/acceptance-rule.json",
            "DOCTRIAGE_STATE__DIR": "var",
            "DOCTRIAGE_REVIEW__PATH": "var/review.sqlite3",
        },
        ("--data-dir", str(data_dir)),
        command=(str(venv / "bin" / "doctriage-sidecar"),),
        cwd=elsewhere,
        base_env=_clean_env(),
    )
    yield process
    process.kill()


def test_the_sdist_holds_the_cython_sources_and_no_build_output(built: Built) -> None:
    with tarfile.open(built.sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {f"_ext/{name}.pyx" for name in EXTENSIONS} <= names
    assert {f"sidecar/_ext/{name}.pyi" for name in EXTENSIONS} | {"sidecar/py.typed", "setup.py"} <= names
    assert not [n for n in names if n.endswith((".c", ".so", ".pyc")) or n.split("/")[0] in ("models", "config")]
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    assert any(r.startswith("Cython") for r in requires)  # the sdist compiles the extension itself


def test_the_wheel_holds_the_compiled_extension_and_no_release_data(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
    for name in EXTENSIONS:
        assert [n for n in names if n.startswith(f"sidecar/_ext/{name}.") and n.endswith(".so")], name
        assert f"sidecar/_ext/{name}.pyi" in names
    assert "sidecar/py.typed" in names and "sidecar/__main__.py" in names
    assert not [n for n in names if n.split("/")[0] in ("models", "config", "_ext") or n.endswith((".pyx", ".c"))]
    assert "doctriage-sidecar = sidecar.__main__:main" in entry_points
    assert built.wheel.stat().st_size < 5 * 2**20  # code and the compiled hot path; the models are not in it
    with zipfile.ZipFile(built.client_wheel) as archive:
        assert "doctriage/py.typed" in archive.namelist()
    assert built.seconds < 240, f"building took {built.seconds:.0f} s"


def test_the_installed_wheel_serves_the_data_directorys_release(
    venv: Path, sidecar: SidecarProcess, data_dir: Path, documents: dict[str, bytes], tmp_path: Path
) -> None:
    script = venv / "bin" / "doctriage-sidecar"
    assert script.read_text().splitlines()[0] == f"#!{venv / 'bin' / 'python'}"
    page = tmp_path / "page.png"
    page.write_bytes(documents["png"])
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-c", PROBE, sidecar.address, str(page)],
        capture_output=True,
        text=True,
        env=_clean_env(),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-4000:]
    answer = json.loads(probe.stdout)
    # The installed packages, not the checkout's; nothing on sys.path is the checkout but the deps' .venv.
    assert Path(answer["sidecar"]).is_relative_to(venv) and Path(answer["doctriage"]).is_relative_to(venv)
    outside = [p for p in answer["sys_path"] if p and Path(p).is_relative_to(ROOT)]
    assert all(Path(p).is_relative_to(ROOT / ".venv") for p in outside), outside
    # The compiled hot path, in the client's process and in the server's.
    assert answer["implementation"] == "compiled" and answer["server_hotpath"] == "compiled"
    assert all(Path(f).is_relative_to(venv) and f.endswith(".so") for f in answer["extensions"])
    maps = Path(f"/proc/{sidecar.proc.pid}/maps").read_text()
    mapped = {line.split()[-1] for line in maps.splitlines() if "/sidecar/_ext/" in line}
    assert mapped and all(Path(p).is_relative_to(venv) for p in mapped), mapped
    # The release from the data directory: the shipped models answer, the state goes to its var/.
    assert answer["label"] in CANONICAL_LABELS and 0 < answer["confidence"] <= 1
    assert answer["decision"] in DECISIONS and "2.3" in answer["ready"]
    assert (data_dir / "var" / "review.sqlite3").is_file()
