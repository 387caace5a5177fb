"""The malware scan overlapped with the decode (scanner.overlap_decode), against a real clamd and a real
server: whichever way the two are ordered, what the caller hears is the same. Validation's refusal comes
first, then the scanner's verdict, then a decode error; an infected document is never classified."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from doctriage.v1 import classifier_pb2, classifier_pb2_grpc

from harness.clamd import ClamdProcess
from harness.documents import EICAR, make_pdf, sample_documents
from harness.engine import running
from harness.grpc_errors import reason_of
from harness.server import ServerThread

pytestmark = pytest.mark.timeout(120)

# Two text objects on the page: with preprocess.pdf_max_objects = 1 the page passes validation (which
# does not count page objects) and fails the decode (MALFORMED, cause "complexity").
TWO_OBJECTS = b"BT /F1 12 Tf 72 720 Td (Invoice 42) Tj ET BT /F1 12 Tf 72 700 Td (Total 9) Tj ET"
EICAR_STREAM = b"<< /Type /XObject /Subtype /Image /Length %d >>\nstream\n" % len(EICAR) + EICAR + b"\nendstream"


@pytest.fixture(params=[True, False], ids=["overlapped", "scan-first"])
def server(request: pytest.FixtureRequest, models_root: Path, clamd: ClamdProcess) -> Iterator[ServerThread]:
    scanner = {"enabled": True, "address": clamd.address, "overlap_decode": request.param}
    with running(models_root, scanner=scanner, preprocess={"pdf_max_objects": 1}, cache={"enabled": False}) as s:
        yield s


def _classify(server: ServerThread, content: bytes, filename: str) -> classifier_pb2.ClassifyResponse:
    with grpc.insecure_channel(server.address) as channel:
        stub = classifier_pb2_grpc.ClassifierStub(channel)
        return stub.Classify(classifier_pb2.ClassifyRequest(content=content, filename=filename), timeout=30)


def _refusal(server: ServerThread, content: bytes, filename: str) -> str:
    with pytest.raises(grpc.RpcError) as caught:
        _classify(server, content, filename)
    return reason_of(caught.value)


def test_an_infected_document_that_cannot_be_decoded_is_refused_as_malware(server: ServerThread) -> None:
    clean = make_pdf(content=TWO_OBJECTS)
    infected = make_pdf(content=TWO_OBJECTS, extra_objects=(EICAR_STREAM,))
    assert _refusal(server, clean, "clean.pdf") == "MALFORMED"  # the decode really fails
    assert _refusal(server, infected, "infected.pdf") == "MALWARE"  # the scanner still has the first word


def test_validation_refuses_before_the_scanner_speaks_and_the_scanner_keeps_working(server: ServerThread) -> None:
    # EICAR alone is malware to clamd but not a document at all: validation's reason, and the scan
    # abandoned mid-way (overlapped) leaves the scanner's connection pool usable.
    for _ in range(3):
        assert _refusal(server, EICAR, "eicar.pdf") == "UNSUPPORTED_TYPE"
    answer = _classify(server, sample_documents()["png"], "page.png")
    assert answer.label and "SCAN_SKIPPED" not in answer.flags
    timings = dict(answer.timings)
    assert timings["scan"] > 0 and timings["decode"] > 0
