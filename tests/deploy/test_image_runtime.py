"""The image's start command and HEALTHCHECK, run for real: the sidecar started the way the image's
ENTRYPOINT + CMD start it (its baked settings file, the shipped release), its health checked with the
Dockerfile's own HEALTHCHECK command, and the Kubernetes probes' gRPC services asked on the same server.
No Docker engine: the command runs with this interpreter, the image's paths mapped onto the checkout."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from doctriage.v1 import classifier_pb2, classifier_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from harness.clamd import ClamdProcess
from harness.paths import ROOT
from harness.process import SidecarProcess
from tests.deploy.manifests import IMAGE_CONFIG, dockerfile_stages, find, pod_containers

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _image() -> tuple[list[str], list[str], dict[str, str], list[str]]:
    """The CPU image's ENTRYPOINT, CMD, ENV and HEALTHCHECK command."""
    stage = {s.name: s for s in dockerfile_stages()}["cpu"]
    _, healthcheck = stage.healthcheck()
    return stage.exec_form("ENTRYPOINT"), stage.exec_form("CMD"), stage.env(), healthcheck


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("DOCTRIAGE_")}


def _run_healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    _, _, _, command = _image()
    assert command[0] == "python"
    return subprocess.run([sys.executable, *command[1:]], env=env, cwd=ROOT, capture_output=True, text=True, timeout=30)


def _health(address: str, service: str) -> int:
    with grpc.insecure_channel(address) as channel:
        response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        status: int = response.status
        return status


@pytest.fixture()
def own_clamd(clamd_factory: Callable[..., ClamdProcess]) -> ClamdProcess:
    """A clamd of this test's own: it is stopped halfway."""
    return clamd_factory()


@pytest.fixture()
def image_sidecar(own_clamd: ClamdProcess, tmp_path: Path) -> Iterator[tuple[SidecarProcess, Path]]:
    """The sidecar as the image starts it. Returns it and a copy of the image's settings file that
    names its real port, for the HEALTHCHECK (which reads the sidecar's settings)."""
    entrypoint, cmd, image_env, _ = _image()
    assert entrypoint == ["python", "-m", "sidecar"] and cmd[0] == "serve"  # what SidecarProcess runs
    data_dir = image_env["DOCTRIAGE_DATA_DIR"]
    args = tuple(str(ROOT) if arg == data_dir else arg for arg in cmd[1:])  # the image's release = the checkout's
    port = _free_port()
    process = SidecarProcess(
        {
            "DOCTRIAGE_CONFIG": str(IMAGE_CONFIG),
            # The image's settings, but on loopback, a free port and this test's clamd.
            "DOCTRIAGE_SERVER__ADDRESS": f"127.0.0.1:{port}",
            "DOCTRIAGE_METRICS__ADDRESS": "127.0.0.1",
            "DOCTRIAGE_SCANNER__ENABLED": "true",
            "DOCTRIAGE_SCANNER__ADDRESS": own_clamd.address,
            "DOCTRIAGE_AUTH__ENABLED": "true",  # as in the image: health needs no key
        },
        args,
    )
    config = tmp_path / "doctriage.toml"
    config.write_text(IMAGE_CONFIG.read_text().replace('"0.0.0.0:50051"', f'"0.0.0.0:{port}"'))
    assert f"0.0.0.0:{port}" in config.read_text()
    yield process, config
    process.kill()


def test_healthcheck_follows_the_sidecars_health_and_probes_ask_registered_services(
    image_sidecar: tuple[SidecarProcess, Path], own_clamd: ClamdProcess
) -> None:
    sidecar, config = image_sidecar
    # The HEALTHCHECK as Docker runs it in the image: no DOCTRIAGE_SERVER__ADDRESS, only the settings
    # file (a wildcard address: the check asks loopback) and the data directory.
    env = {**_clean_env(), "DOCTRIAGE_CONFIG": str(config), "DOCTRIAGE_DATA_DIR": str(ROOT)}
    healthy = _run_healthcheck(env)
    assert healthy.returncode == 0, healthy.stderr

    pod = find("Deployment", "billing")["spec"]["template"]["spec"]
    (doctriage,) = (c for c in pod_containers(pod) if c["name"] == "doctriage")
    kinds = ("startupProbe", "readinessProbe", "livenessProbe")
    probes = {kind: doctriage[kind]["grpc"].get("service", "") for kind in kinds}
    for service in {"", *probes.values()}:
        assert _health(sidecar.address, service) == SERVING, service

    # clamd goes away: the image turns unhealthy and the pod unready, but liveness holds (no restart).
    own_clamd.stop()
    deadline = time.monotonic() + 20
    while (result := _run_healthcheck(env)).returncode == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert result.returncode == 1, "the HEALTHCHECK still passes with clamd stopped"
    assert _health(sidecar.address, probes["readinessProbe"]) == NOT_SERVING
    assert _health(sidecar.address, probes["livenessProbe"]) == SERVING
    assert _health(sidecar.address, probes["startupProbe"]) == SERVING
    assert sidecar.proc.poll() is None


def test_healthcheck_fails_when_nothing_listens() -> None:
    env = {**_clean_env(), "DOCTRIAGE_SERVER__ADDRESS": f"0.0.0.0:{_free_port()}", "DOCTRIAGE_DATA_DIR": str(ROOT)}
    result = _run_healthcheck(env)
    assert result.returncode == 1  # Docker reads 1 as unhealthy (2 is reserved)


UNPRIVILEGED = 65534  # nobody


def _setpriv() -> str:
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to run the sidecar as another user")
    probe = subprocess.run(
        [setpriv, f"--reuid={UNPRIVILEGED}", f"--regid={UNPRIVILEGED}", "--clear-groups", sys.executable, "-c", "1"],
        cwd="/",
        capture_output=True,
        timeout=60,
    )
    if probe.returncode != 0:
        pytest.skip(f"uid {UNPRIVILEGED} cannot run {sys.executable} from this checkout")
    return setpriv


@pytest.fixture()
def shared_tmp() -> Iterator[Path]:
    """A directory another user can traverse (pytest's tmp_path is under a 0700 directory of root's)."""
    path = Path(tempfile.mkdtemp(prefix="doctriage-unprivileged-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_sidecar_runs_unprivileged_writing_only_state_and_tmp(shared_tmp: Path, documents: dict[str, bytes]) -> None:
    """What the read-only root filesystem of the pod relies on: as a user who may write only the state
    directory and TMPDIR (not the release, the virtualenv, HOME or the working directory), the sidecar
    starts with the image's settings and classifies documents through OCR and the cascade."""
    setpriv = _setpriv()
    tmp_path = shared_tmp
    state, tmp = tmp_path / "var", tmp_path / "tmp"
    for path in (state, tmp):
        path.mkdir()
        os.chown(path, UNPRIVILEGED, UNPRIVILEGED)
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/nonexistent",
        "TMPDIR": str(tmp),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DOCTRIAGE_CONFIG": str(IMAGE_CONFIG),
        "DOCTRIAGE_SERVER__ADDRESS": f"127.0.0.1:{port}",
        "DOCTRIAGE_METRICS__ADDRESS": "127.0.0.1",
        "DOCTRIAGE_METRICS__PORT": "0",
        "DOCTRIAGE_SCANNER__ENABLED": "false",
        "DOCTRIAGE_AUTH__ENABLED": "false",
        "DOCTRIAGE_STATE__DIR": str(state),
        "DOCTRIAGE_REVIEW__PATH": str(state / "review.sqlite3"),
    }
    _, cmd, image_env, _ = _image()
    args = [str(ROOT) if arg == image_env["DOCTRIAGE_DATA_DIR"] else arg for arg in cmd]
    log = tmp_path / "sidecar.log"
    with log.open("w") as out:
        as_nobody = [setpriv, f"--reuid={UNPRIVILEGED}", f"--regid={UNPRIVILEGED}", "--clear-groups"]
        proc = subprocess.Popen(
            [*as_nobody, sys.executable, "-m", "sidecar", *args],
            cwd="/",
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        address = f"127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                if _health(address, "") == SERVING:
                    break
            except grpc.RpcError:
                pass
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        with grpc.insecure_channel(address) as channel:
            stub = classifier_pb2_grpc.ClassifierStub(channel)
            for kind, content in documents.items():
                response = stub.Classify(classifier_pb2.ClassifyRequest(content=content), timeout=60)
                assert response.label and response.decision, kind
        assert (state / "review.sqlite3").is_file()
        failures = [line for line in log.read_text().splitlines() if '"level":"error"' in line.replace(" ", "")]
        assert not failures, failures
    finally:
        proc.terminate()
        proc.wait(30)
