"""Shared fixtures: a real sidecar on a loopback port, real models, real documents."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from harness.documents import sample_documents
from harness.paths import REAL_DOCS
from harness.server import ServerThread
from harness.settings import make_settings
from harness.tiny_model import write_tiny_model

pytest_plugins = ["tests.clamd_plugin"]


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    write_tiny_model(root, "doc-classifier", "2.3", seed=1)
    return root


@pytest.fixture(scope="session")
def models_root(tiny_models: Path) -> Path:
    return tiny_models


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
