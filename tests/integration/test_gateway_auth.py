"""Authentication and roles against a real server: API keys, TLS, mutual TLS; nothing leaked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import structlog
from doctriage.v1 import admin_pb2, admin_pb2_grpc, classifier_pb2, classifier_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from harness.gateway import KEYS, auth_section, bearer, make_certs
from harness.server import ServerThread
from harness.settings import make_settings
from sidecar.server.auth import hash_key, verify_key


@pytest.fixture(scope="module")
def secured(models_root: Path) -> Iterator[ServerThread]:
    settings = make_settings(models_root, auth=auth_section(), scanner={"enabled": False})
    running = ServerThread(settings).start()
    yield running
    running.stop()


@pytest.fixture()
def channel(secured: ServerThread) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(secured.address) as ch:
        yield ch


def _assert_refused(exc: grpc.RpcError, code: grpc.StatusCode) -> None:
    assert exc.code() == code
    status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    # No detail: no ErrorInfo, no hint about keys or roles.
    assert status is None or not status.details
    assert exc.details() in ("unauthenticated", "permission denied")


@pytest.mark.parametrize(
    "metadata",
    [(), bearer("dtk_wrong"), (("authorization", KEYS["classify"]),), (("authorization", "Basic abc"),)],
    ids=["none", "unknown-key", "no-bearer-scheme", "basic"],
)
def test_classify_without_a_valid_key_is_unauthenticated(
    channel: grpc.Channel, documents: dict[str, bytes], metadata: tuple[tuple[str, str], ...]
) -> None:
    stub = classifier_pb2_grpc.ClassifierStub(channel)
    with pytest.raises(grpc.RpcError) as info:
        stub.Classify(classifier_pb2.ClassifyRequest(content=documents["png"]), metadata=metadata, timeout=30)
    _assert_refused(info.value, grpc.StatusCode.UNAUTHENTICATED)


def test_roles_decide_what_each_key_may_call(channel: grpc.Channel, documents: dict[str, bytes]) -> None:
    classifier = classifier_pb2_grpc.ClassifierStub(channel)
    admin = admin_pb2_grpc.AdminStub(channel)
    request = classifier_pb2.ClassifyRequest(content=documents["png"])

    # classify: Classifier yes, Admin no (neither admin nor review RPCs).
    assert classifier.Classify(request, metadata=bearer(KEYS["classify"]), timeout=30).label
    for call in (admin.GetStatus, admin.GetStats):
        with pytest.raises(grpc.RpcError) as info:
            call(admin_pb2.GetStatusRequest() if call is admin.GetStatus else admin_pb2.GetStatsRequest(),
                 metadata=bearer(KEYS["classify"]), timeout=10)  # fmt: skip
        _assert_refused(info.value, grpc.StatusCode.PERMISSION_DENIED)
    with pytest.raises(grpc.RpcError) as info:
        admin.ListReviews(admin_pb2.ListReviewsRequest(), metadata=bearer(KEYS["classify"]), timeout=10)
    _assert_refused(info.value, grpc.StatusCode.PERMISSION_DENIED)

    # review: the review RPCs only.
    with pytest.raises(grpc.RpcError) as info:
        classifier.Classify(request, metadata=bearer(KEYS["review"]), timeout=30)
    _assert_refused(info.value, grpc.StatusCode.PERMISSION_DENIED)
    with pytest.raises(grpc.RpcError) as info:
        admin.GetStatus(admin_pb2.GetStatusRequest(), metadata=bearer(KEYS["review"]), timeout=10)
    _assert_refused(info.value, grpc.StatusCode.PERMISSION_DENIED)
    try:
        admin.ListReviews(admin_pb2.ListReviewsRequest(), metadata=bearer(KEYS["review"]), timeout=10)
    except grpc.RpcError as exc:  # past the gateway: whatever the review service answers, not a refusal
        assert exc.code() not in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)

    # admin: everything.
    status = admin.GetStatus(admin_pb2.GetStatusRequest(), metadata=bearer(KEYS["admin"]), timeout=10)
    assert status.config_digest and status.models


def test_scrypt_hashed_key_works_and_keys_never_reach_the_logs(
    channel: grpc.Channel, documents: dict[str, bytes]
) -> None:
    stub = classifier_pb2_grpc.ClassifierStub(channel)
    with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        for _ in range(3):  # the first verifies with scrypt, the others hit the verified cache
            assert stub.Classify(
                classifier_pb2.ClassifyRequest(content=documents["jpeg"]), metadata=bearer(KEYS["slow"]), timeout=30
            ).label
        with pytest.raises(grpc.RpcError):
            stub.Classify(classifier_pb2.ClassifyRequest(content=documents["jpeg"]), metadata=bearer("dtk_x"))
    text = repr(logs)
    assert all(key not in text for key in KEYS.values()) and "dtk_x" not in text
    assert any(line.get("key_id") == "svc-scrypt" for line in logs)


def test_health_and_reflection_stay_open(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    assert health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10).status in (
        health_pb2.HealthCheckResponse.SERVING,
        health_pb2.HealthCheckResponse.NOT_SERVING,
    )
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    answers = list(reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
    names = {s.name for s in answers[0].list_services_response.service}
    assert "doctriage.v1.Classifier" in names


def test_hash_helpers_round_trip() -> None:
    for method in ("sha256", "scrypt"):
        stored = hash_key("k", method)
        assert verify_key("k", stored) and not verify_key("K", stored)
    assert not verify_key("k", "md5:abc")


def test_auth_disabled_logs_a_warning(models_root: Path) -> None:
    with structlog.testing.capture_logs() as logs:
        running = ServerThread(make_settings(models_root, scanner={"enabled": False})).start()
        running.stop()
    assert any(line["event"] == "auth_disabled" and line["log_level"] == "warning" for line in logs)


# -- TLS and mutual TLS ---------------------------------------------------------------


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> object:
    return make_certs(tmp_path_factory.mktemp("certs"))


def _status(channel: grpc.Channel) -> admin_pb2.GetStatusResponse:
    stub = admin_pb2_grpc.AdminStub(channel)
    return stub.GetStatus(admin_pb2.GetStatusRequest(), metadata=bearer(KEYS["admin"]), timeout=10)


def test_tls_serves_tls_only(models_root: Path, certs: object) -> None:
    c = certs
    auth = auth_section(tls_cert_file=c.server_cert, tls_key_file=c.server_key)  # type: ignore[attr-defined]
    running = ServerThread(make_settings(models_root, auth=auth, scanner={"enabled": False})).start()
    try:
        creds = grpc.ssl_channel_credentials(root_certificates=c.ca.read_bytes())  # type: ignore[attr-defined]
        with grpc.secure_channel(running.address, creds) as ch:
            assert _status(ch).serving in (True, False)
        with grpc.insecure_channel(running.address) as ch, pytest.raises(grpc.RpcError) as info:
            _status(ch)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        running.stop()


def test_mutual_tls_requires_a_client_certificate_from_the_configured_ca(models_root: Path, certs: object) -> None:
    c = certs
    auth = auth_section(
        tls_cert_file=c.server_cert,  # type: ignore[attr-defined]
        tls_key_file=c.server_key,  # type: ignore[attr-defined]
        client_ca_file=c.ca,  # type: ignore[attr-defined]
    )
    running = ServerThread(make_settings(models_root, auth=auth, scanner={"enabled": False})).start()
    ca = c.ca.read_bytes()  # type: ignore[attr-defined]
    try:
        good = grpc.ssl_channel_credentials(ca, c.client_key.read_bytes(), c.client_cert.read_bytes())  # type: ignore[attr-defined]
        with grpc.secure_channel(running.address, good) as ch:
            assert _status(ch).config_digest
        rogue = grpc.ssl_channel_credentials(ca, c.rogue_key.read_bytes(), c.rogue_cert.read_bytes())  # type: ignore[attr-defined]
        for creds in (grpc.ssl_channel_credentials(ca), rogue):
            with grpc.secure_channel(running.address, creds) as ch, pytest.raises(grpc.RpcError) as info:
                _status(ch)
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        # A certificate is not a key: mTLS plus no API key is still UNAUTHENTICATED.
        with grpc.secure_channel(running.address, good) as ch, pytest.raises(grpc.RpcError) as info:
            admin_pb2_grpc.AdminStub(ch).GetStatus(admin_pb2.GetStatusRequest(), timeout=10)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        running.stop()


def test_expired_certificates_are_refused_on_either_side(models_root: Path, certs: object) -> None:
    c = certs
    ca = c.ca.read_bytes()  # type: ignore[attr-defined]
    # mTLS: a client certificate of the right CA that expired in 2020 does not get through the handshake.
    auth = auth_section(
        tls_cert_file=c.server_cert,  # type: ignore[attr-defined]
        tls_key_file=c.server_key,  # type: ignore[attr-defined]
        client_ca_file=c.ca,  # type: ignore[attr-defined]
    )
    running = ServerThread(make_settings(models_root, auth=auth, scanner={"enabled": False})).start()
    try:
        expired = grpc.ssl_channel_credentials(
            ca,
            c.expired_client_key.read_bytes(),  # type: ignore[attr-defined]
            c.expired_client_cert.read_bytes(),  # type: ignore[attr-defined]
        )
        with grpc.secure_channel(running.address, expired) as ch, pytest.raises(grpc.RpcError) as info:
            _status(ch)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        good = grpc.ssl_channel_credentials(ca, c.client_key.read_bytes(), c.client_cert.read_bytes())  # type: ignore[attr-defined]
        with grpc.secure_channel(running.address, good) as ch:
            assert _status(ch).config_digest  # the same server, a valid certificate: served
    finally:
        running.stop()
    # TLS: a sidecar configured with an expired certificate is refused by its clients.
    auth = auth_section(
        tls_cert_file=c.expired_server_cert,  # type: ignore[attr-defined]
        tls_key_file=c.expired_server_key,  # type: ignore[attr-defined]
    )
    running = ServerThread(make_settings(models_root, auth=auth, scanner={"enabled": False})).start()
    try:
        with (
            grpc.secure_channel(running.address, grpc.ssl_channel_credentials(ca)) as ch,
            pytest.raises(grpc.RpcError) as info,
        ):
            _status(ch)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        running.stop()


def test_admin_changes_are_audited_with_the_callers_key_id_never_the_key(channel: grpc.Channel) -> None:
    admin = admin_pb2_grpc.AdminStub(channel)
    current = admin.GetThresholds(admin_pb2.GetThresholdsRequest(), metadata=bearer(KEYS["admin"]), timeout=10)
    with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        admin.SetThresholds(
            admin_pb2.SetThresholdsRequest(thresholds=current), metadata=bearer(KEYS["admin"]), timeout=10
        )
    audits = [line for line in logs if line["event"] == "audit"]
    assert audits and all(line["key_id"] == "ops-admin" and line.get("request_id") for line in audits)
    assert KEYS["admin"] not in repr(logs)


def test_streams_need_a_key_with_the_classify_role(channel: grpc.Channel, documents: dict[str, bytes]) -> None:
    stub = classifier_pb2_grpc.ClassifierStub(channel)
    requests = [classifier_pb2.ClassifyRequest(content=documents["png"], client_ref="a")]
    for metadata, code in (
        ((), grpc.StatusCode.UNAUTHENTICATED),
        (bearer(KEYS["review"]), grpc.StatusCode.PERMISSION_DENIED),
    ):
        with pytest.raises(grpc.RpcError) as info:
            list(stub.ClassifyStream(iter(requests), metadata=metadata, timeout=30))
        _assert_refused(info.value, code)
    answers = list(stub.ClassifyStream(iter(requests), metadata=bearer(KEYS["classify"]), timeout=30))
    assert [a.client_ref for a in answers] == ["a"] and not answers[0].HasField("error")


def test_a_tls_sidecar_answers_plaintext_health_probes_on_its_health_address(
    models_root: Path, certs: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # kubelet's gRPC probes and the image's HEALTHCHECK speak no TLS: server.health_address serves
    # grpc.health.v1, and nothing else, in plaintext beside the TLS-only port.
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from sidecar.server.healthcheck import check

    c = certs
    auth = auth_section(tls_cert_file=c.server_cert, tls_key_file=c.server_key)  # type: ignore[attr-defined]
    server = {"address": "127.0.0.1:0", "workers": 2, "health_address": "127.0.0.1:0"}
    running = ServerThread(make_settings(models_root, auth=auth, server=server, scanner={"enabled": False})).start()
    try:
        assert running.server is not None and running.server.health_port > 0
        health = f"127.0.0.1:{running.server.health_port}"
        with grpc.insecure_channel(health) as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            for service in ("", "doctriage.v1.Classifier", "doctriage.v1.Admin"):
                answer = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
                assert answer.status == health_pb2.HealthCheckResponse.SERVING, service
            with pytest.raises(grpc.RpcError) as info:
                _status(ch)  # the Admin service is not there: health only
            assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
        creds = grpc.ssl_channel_credentials(root_certificates=c.ca.read_bytes())  # type: ignore[attr-defined]
        with grpc.secure_channel(running.address, creds) as ch:
            assert _status(ch).serving
        # The sidecar's own healthcheck command, given these settings, asks the plaintext listener.
        monkeypatch.setenv("DOCTRIAGE_SERVER__ADDRESS", running.address)
        monkeypatch.setenv("DOCTRIAGE_SERVER__HEALTH_ADDRESS", health)
        assert check() == 0
        monkeypatch.delenv("DOCTRIAGE_SERVER__HEALTH_ADDRESS")
        assert check(timeout_s=2.0) == 1  # plaintext against the TLS port: no answer
    finally:
        running.stop()
