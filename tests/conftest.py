"""Shared fixtures: a real sidecar on a loopback port, real models, real documents."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from sidecar.config import ModelSettings, Settings, ValidationSettings
from tests.support.documents import sample_documents
from tests.support.server import ServerThread
from tests.support.tiny_model import write_tiny_model

pytest_plugins = ["tests.clamd_plugin"]

ROOT = Path(__file__).resolve().parent.parent
REAL_DOCS = ROOT.parent / "shared" / "real-docs"


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    write_tiny_model(root, "doc-classifier", "2.3", seed=1)
    return root


@pytest.fixture(scope="session")
def models_root(tiny_models: Path) -> Path:
    return tiny_models


def make_settings(models_root: Path, **sections: object) -> Settings:
    # Each server gets its own runtime state and review queue (never the repo's var/).
    state = Path(tempfile.mkdtemp(prefix="doctriage-state-"))
    base: dict[str, object] = {
        "server": {"address": "127.0.0.1:0", "workers": 2, "grace_period_s": 5.0},
        "state": {"dir": state},
        "review": {"path": state / "review.sqlite3"},
        "models": ModelSettings(root=models_root),
        "validation": ValidationSettings(),
        # Auth is on in production; tests that exercise it pass their own `auth` section.
        "auth": {"enabled": False},
        # Likewise the per-client rate limit (all test clients share one peer address).
        "rate_limit": {"enabled": False},
        # No clamd by default (responses carry SCAN_SKIPPED); scanner tests pass their own `scanner`
        # section with the address of tests/clamd_plugin.py's daemon.
        "scanner": {"enabled": False},
        # No fixed exporter port in tests: an ephemeral one, shared by every server of the session.
        "metrics": {"port": 0},
    }
    base.update(sections)
    # The shipped acceptance rules (config/acceptance-rule.json) are for the shipped models, not for
    # the tiny test models that reuse their versions: tests that want a rule file name one.
    decision = base.get("decision", {})
    if isinstance(decision, dict):
        base["decision"] = {"rule_file": None, **decision}
    # The cascade (traffic.escalate_to, default "2.4") would hand every review answer of the tiny 2.3 to
    # the tiny 2.4: tests of one version's answers get none; tests of the cascade name it.
    traffic = base.get("traffic", {})
    if isinstance(traffic, dict):
        base["traffic"] = {"escalate_to": "", **traffic}
    return Settings(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def server(models_root: Path) -> Iterator[ServerThread]:
    running = ServerThread(make_settings(models_root)).start()
    yield running
    running.stop()


@pytest.fixture()
def channel(server: ServerThread) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.address) as ch:
        yield ch


@pytest.fixture(scope="session")
def documents() -> dict[str, bytes]:
    return sample_documents()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not REAL_DOCS.is_dir():
        skip = pytest.mark.skip(reason=f"{REAL_DOCS} is absent")
        for item in items:
            if "realdocs" in item.keywords:
                item.add_marker(skip)


os.environ.setdefault("OMP_THREAD_LIMIT", "1")
