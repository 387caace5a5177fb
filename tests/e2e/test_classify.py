"""End to end: the real server on a loopback port, called through the generated stubs and the client."""

from __future__ import annotations

import hashlib
from pathlib import Path

import grpc
import pytest
from doctriage import AsyncClient, Client, DocumentRejected
from doctriage.cli import main as cli_main
from doctriage.v1 import admin_pb2, admin_pb2_grpc, classifier_pb2, classifier_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from harness import documents as docs
from harness.documents import pdf_with_attachment
from harness.grpc_errors import reason_of
from harness.server import ServerThread
from sidecar.tools.evaluation import CANONICAL_LABELS

MIME = {"png": "image/png", "jpeg": "image/jpeg", "pdf": "application/pdf"}
LABELS = set(CANONICAL_LABELS)


@pytest.mark.parametrize("kind", ["png", "jpeg", "pdf"])
def test_classify_through_generated_stubs(channel: grpc.Channel, documents: dict[str, bytes], kind: str) -> None:
    stub = classifier_pb2_grpc.ClassifierStub(channel)
    content = documents[kind]
    response, call = stub.Classify.with_call(
        classifier_pb2.ClassifyRequest(content=content, filename=f"page.{kind}", mime_type=MIME[kind], client_ref="r1"),
        timeout=30,
    )
    assert response.label in LABELS
    assert 0.0 < response.confidence <= 1.0
    assert response.decision in (
        classifier_pb2.ACCEPTED,
        classifier_pb2.HUMAN_REVIEW,
        classifier_pb2.ACCEPTED_AFTER_RULES,
    )
    assert response.source == classifier_pb2.MODEL
    assert response.model_name == "doc-classifier" and response.model_version == "2.3"
    assert response.digest == hashlib.sha256(content).hexdigest()
    assert response.content_type == kind
    assert response.client_ref == "r1"
    scores = [s.score for s in response.scores]
    assert scores == sorted(scores, reverse=True) and abs(sum(scores) - 1.0) < 1e-6
    assert response.scores[0].label == response.label and response.scores[0].score == pytest.approx(response.confidence)
    assert {"validate", "decode", "normalize", "model", "total"} <= set(response.timings)
    assert response.request_id and dict(call.trailing_metadata())["x-request-id"] == response.request_id


def test_caller_request_id_is_kept(channel: grpc.Channel, documents: dict[str, bytes]) -> None:
    stub = classifier_pb2_grpc.ClassifierStub(channel)
    response = stub.Classify(
        classifier_pb2.ClassifyRequest(content=documents["png"]), metadata=(("x-request-id", "caller-42"),), timeout=30
    )
    assert response.request_id == "caller-42"


@pytest.mark.parametrize(
    ("content", "filename", "mime", "reason"),
    [
        (b"plain text, not a document", "notes.txt", "text/plain", "UNSUPPORTED_TYPE"),
        (b"", "empty.pdf", "", "EMPTY"),
        # Misnamed: checked as what the content is (a broken PNG), not refused for its name.
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "x.pdf", "", "MALFORMED"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "", "application/pdf", "MALFORMED"),
    ],
)
def test_refused_documents_get_invalid_argument_with_reason(
    channel: grpc.Channel, content: bytes, filename: str, mime: str, reason: str
) -> None:
    stub = classifier_pb2_grpc.ClassifierStub(channel)
    with pytest.raises(grpc.RpcError) as info:
        stub.Classify(classifier_pb2.ClassifyRequest(content=content, filename=filename, mime_type=mime), timeout=30)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(info.value) == reason


def test_owner_password_pdf_and_e_invoice_attachment_are_classified_and_flagged(channel: grpc.Channel) -> None:
    # Banks issue statements encrypted with an owner password only; e-invoices embed their XML.
    stub = classifier_pb2_grpc.ClassifierStub(channel)
    for content, flag in ((docs.pdf_encrypted(), "ENCRYPTED"), (pdf_with_attachment(b"<invoice/>"), "EMBEDDED_FILE")):
        response = stub.Classify(classifier_pb2.ClassifyRequest(content=content, filename="statement.pdf"), timeout=30)
        assert response.label in LABELS and response.source == classifier_pb2.MODEL
        assert flag in response.flags


def test_a_jpeg_saved_as_png_is_classified_and_flagged(channel: grpc.Channel, documents: dict[str, bytes]) -> None:
    stub = classifier_pb2_grpc.ClassifierStub(channel)
    request = classifier_pb2.ClassifyRequest(content=documents["jpeg"], filename="licence.png", mime_type="image/png")
    response = stub.Classify(request, timeout=30)
    assert response.label in LABELS and response.content_type == "jpeg"
    assert "TYPE_MISMATCH" in response.flags


def test_pdf_that_needs_a_password_is_refused_encrypted(channel: grpc.Channel) -> None:
    stub = classifier_pb2_grpc.ClassifierStub(channel)
    content = docs.pdf_encrypted(user_password="secret")
    with pytest.raises(grpc.RpcError) as info:
        stub.Classify(classifier_pb2.ClassifyRequest(content=content, filename="locked.pdf"), timeout=30)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(info.value) == "ENCRYPTED"


def test_oversized_document_is_too_large(channel: grpc.Channel, documents: dict[str, bytes]) -> None:
    stub = classifier_pb2_grpc.ClassifierStub(
        channel,
    )
    content = documents["pdf"] + b"\0" * (10 * 1024 * 1024 + 1 - len(documents["pdf"]))
    with pytest.raises(grpc.RpcError) as info:
        stub.Classify(classifier_pb2.ClassifyRequest(content=content, filename="big.pdf"), timeout=30)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(info.value) == "TOO_LARGE"


def test_health_reports_serving(channel: grpc.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    for service in ("", "doctriage.v1.Classifier", "doctriage.v1.Admin"):
        response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
        assert response.status == health_pb2.HealthCheckResponse.SERVING, service


def test_reflection_lists_the_services(channel: grpc.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10)
    names = {s.name for r in responses for s in r.list_services_response.service}
    assert {"doctriage.v1.Classifier", "doctriage.v1.Admin", "grpc.health.v1.Health"} <= names


def test_admin_get_status(channel: grpc.Channel) -> None:
    status = admin_pb2_grpc.AdminStub(channel).GetStatus(admin_pb2.GetStatusRequest(), timeout=10)
    assert status.serving and status.device == "cpu" and len(status.config_digest) == 64
    ready = [m for m in status.models if m.state == admin_pb2.READY]
    assert [(m.name, m.version, m.provider) for m in ready] == [("doc-classifier", "2.3", "CPUExecutionProvider")]
    assert status.hotpath in ("compiled", "python")


def test_stream_answers_every_item_with_its_client_ref(channel: grpc.Channel, documents: dict[str, bytes]) -> None:
    stub = classifier_pb2_grpc.ClassifierStub(channel)
    kinds = ["png", "jpeg", "pdf"]
    requests = [
        classifier_pb2.ClassifyRequest(content=documents[kinds[i % 3]], client_ref=f"doc-{i}") for i in range(49)
    ]
    requests.append(classifier_pb2.ClassifyRequest(content=b"garbage", client_ref="doc-bad"))
    responses = list(stub.ClassifyStream(iter(requests), timeout=120))
    assert sorted(r.client_ref for r in responses) == sorted(r.client_ref for r in requests)
    by_ref = {r.client_ref: r for r in responses}
    bad = by_ref.pop("doc-bad")
    assert bad.HasField("error") and bad.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert bad.decision == classifier_pb2.REJECTED
    assert all(not r.HasField("error") and r.label in LABELS for r in by_ref.values())
    assert len({r.request_id for r in responses}) == 50


def test_client_classifies_paths_bytes_and_streams(server: ServerThread, documents: dict[str, bytes], tmp_path) -> None:  # type: ignore[no-untyped-def]
    paths = []
    for kind, content in documents.items():
        path = tmp_path / f"page.{'jpg' if kind == 'jpeg' else kind}"
        path.write_bytes(content)
        paths.append(path)
    with Client(server.address) as client:
        one = client.classify(paths[0])
        assert one.ok and one.label in LABELS and one.client_ref == str(paths[0])
        assert client.classify(documents["pdf"]).digest == hashlib.sha256(documents["pdf"]).hexdigest()
        with pytest.raises(DocumentRejected) as info:
            client.classify(b"not a document")
        assert info.value.reason == "UNSUPPORTED_TYPE"
        results = list(client.classify_many([*paths, b"junk"]))
        assert {r.client_ref for r in results} == {*map(str, paths), "3"}
        assert [r.error.reason for r in results if r.error] == ["UNSUPPORTED_TYPE"]


async def test_async_client(server: ServerThread, documents: dict[str, bytes]) -> None:
    async with AsyncClient(server.address) as client:
        result = await client.classify(documents["jpeg"], filename="a.jpg")
        assert result.content_type == "jpeg" and result.label in LABELS
        refs = [r.client_ref async for r in client.classify_many([documents["png"], documents["pdf"]])]
        assert sorted(refs) == ["0", "1"]


def test_unreadable_file_in_a_stream_raises_its_own_error(server: ServerThread, tmp_path: Path) -> None:
    with Client(server.address) as client, pytest.raises(FileNotFoundError):
        list(client.classify_many([tmp_path / "missing.pdf"]))


def test_cli_reports_unreadable_files_and_classifies_the_rest(
    server: ServerThread, documents: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "page.pdf"
    good.write_bytes(documents["pdf"])
    missing = tmp_path / "missing.pdf"
    for files in ([str(missing)], [str(good), str(missing)]):
        assert cli_main(["--address", server.address, "classify", *files]) == 1
        # (the in-process server's own log lines share stdout; the CLI's rows are tab-separated)
        rows = [line.split("\t") for line in capsys.readouterr().out.splitlines() if "\t" in line]
        assert [r[0] for r in rows] == files
        assert rows[-1][1:] == ["ERROR", "UNREADABLE", "no such file"]
        if len(files) == 2:
            assert rows[0][1] in LABELS
