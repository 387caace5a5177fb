"""doctriage.AdminClient against a real server with auth on: the API key and its roles, thresholds
read and changed, the review queue, and failures raised as the client's exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from doctriage import AdminClient, AuthenticationError, InvalidRequest, ServiceUnavailable
from doctriage.v1 import admin_pb2

from harness.gateway import KEYS, auth_section
from harness.server import ServerThread
from harness.settings import make_settings


@pytest.fixture(scope="module")
def secured(models_root: Path) -> Iterator[ServerThread]:
    running = ServerThread(make_settings(models_root, auth=auth_section())).start()
    yield running
    running.stop()


def test_admin_key_reads_status_and_changes_thresholds(secured: ServerThread) -> None:
    with AdminClient(secured.address, api_key=KEYS["admin"], timeout=30) as admin:
        status = admin.get_status()
        assert status.serving and "2.3" in [m.version for m in status.models]
        assert "2.3" in [m.version for m in admin.list_models()]
        assert admin.get_traffic_split().weights
        current = admin.get_thresholds("2.3")
        wanted = admin_pb2.Thresholds()
        wanted.CopyFrom(current)
        wanted.model_version = "2.3"
        wanted.default.accept, wanted.default.review_below = 0.93, 0.61
        wanted.provenance = "test_admin_client"
        applied = admin.set_thresholds(wanted)
        assert (applied.default.accept, applied.default.review_below) == pytest.approx((0.93, 0.61))
        assert admin.get_thresholds("2.3").provenance == "test_admin_client"
        assert admin.list_reviews(admin_pb2.PENDING, page_size=10).total >= 0
        with pytest.raises(InvalidRequest):
            admin.load_model("", "")  # name and version are required


def test_roles_and_failures_are_the_clients_exceptions(secured: ServerThread) -> None:
    with AdminClient(secured.address, api_key=KEYS["review"], timeout=30) as reviewer:
        reviewer.list_reviews()  # the review role is enough for the queue
        with pytest.raises(AuthenticationError):
            reviewer.get_status()  # ... and for nothing else
    with (
        AdminClient(secured.address, api_key=KEYS["classify"], timeout=30) as service,
        pytest.raises(AuthenticationError),
    ):
        service.get_thresholds()
    with AdminClient(secured.address, timeout=30) as anonymous, pytest.raises(AuthenticationError):
        anonymous.get_status()
    with AdminClient("127.0.0.1:1", timeout=2) as nowhere, pytest.raises(ServiceUnavailable):
        nowhere.get_status()
