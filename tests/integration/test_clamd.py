"""The scan stage against a real clamd (project config, project signature database)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from harness.clamd import ClamdProcess
from harness.documents import (
    EICAR,
    TEST_MARKER,
    make_jpeg,
    make_pdf,
    make_png,
    pdf_with_attachment,
    pdf_with_stream,
    png_chunk,
)
from sidecar.config import ScannerSettings
from sidecar.errors import DeadlineExceeded, InvalidDocument, Reason, Unavailable
from sidecar.pipeline.scan import SCAN_SKIPPED, Scanner, scan_document

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "malformed"

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def scanner(clamd: ClamdProcess) -> AsyncIterator[Scanner]:
    instance = Scanner(ScannerSettings(address=clamd.address, scan_timeout_s=5.0))
    yield instance
    await instance.close()


async def test_ping_and_version(scanner: Scanner) -> None:
    assert await scanner.ping()
    assert (await scanner.version()).startswith("ClamAV ")


@pytest.mark.parametrize(
    "document", [make_pdf(pages=2), make_png(64, 64), make_jpeg(64, 48)], ids=["pdf", "png", "jpeg"]
)
async def test_clean_documents_pass(scanner: Scanner, document: bytes) -> None:
    assert await scan_document(document, scanner) == ()


async def test_eicar_alone_is_malware(scanner: Scanner) -> None:
    with pytest.raises(InvalidDocument) as caught:
        await scan_document(EICAR, scanner)
    assert caught.value.reason is Reason.MALWARE
    assert "DocTriage.Test.EICAR" in caught.value.metadata["signature"]


async def test_eicar_inside_a_pdf_is_malware(scanner: Scanner) -> None:
    with pytest.raises(InvalidDocument) as caught:
        await scan_document(pdf_with_stream(EICAR), scanner)
    assert caught.value.reason is Reason.MALWARE


async def test_signature_inside_a_compressed_attachment_is_malware(scanner: Scanner) -> None:
    # Attachments are only flagged by default (validation.embedded_file): clamd unpacks and scans them.
    document = pdf_with_attachment(b"<invoice>" + TEST_MARKER + b"</invoice>")
    assert TEST_MARKER not in document
    with pytest.raises(InvalidDocument) as caught:
        await scan_document(document, scanner)
    assert caught.value.metadata["signature"].startswith("DocTriage.Test.Marker")
    assert await scan_document(pdf_with_attachment(b"<invoice>42</invoice>"), scanner) == ()


async def test_custom_doctriage_signature_inside_a_png(scanner: Scanner) -> None:
    document = make_png(8, 8, extra=png_chunk(b"tEXt", b"Comment\0" + TEST_MARKER))
    with pytest.raises(InvalidDocument) as caught:
        await scan_document(document, scanner)
    assert caught.value.reason is Reason.MALWARE
    assert caught.value.metadata["signature"].startswith("DocTriage.Test.Marker")


async def test_corpus_files_for_the_scanner(scanner: Scanner) -> None:
    expected = json.loads((CORPUS / "expected.json").read_text())
    scanned = {name: case for name, case in expected.items() if case["stage"] == "scan"}
    assert scanned, "the corpus holds files for the scan stage"
    for name, case in scanned.items():
        with pytest.raises(InvalidDocument) as caught:
            await scan_document((CORPUS / name).read_bytes(), scanner)
        assert caught.value.reason.value == case["reason"], name


async def test_ten_megabytes_in_chunks(scanner: Scanner) -> None:
    document = pdf_with_stream(bytes(range(256)) * (40 * 1024 - 8))  # ~10 MB, under the 10 MiB limit
    assert await scan_document(document, scanner) == ()


async def test_connection_is_reused(scanner: Scanner) -> None:
    for _ in range(5):
        assert await scan_document(make_png(), scanner) == ()
    assert len(scanner._idle) == 1
    connection = scanner._idle[0]
    assert connection.next_id == 6  # five INSTREAM commands on one IDSESSION
    assert await scan_document(make_png(), scanner) == ()
    assert scanner._idle == [connection]


async def test_concurrent_scans(scanner: Scanner) -> None:
    documents = [make_png(8, 8), EICAR, make_pdf()] * 8
    results = await asyncio.gather(*(scan_document(d, scanner) for d in documents), return_exceptions=True)
    for document, result in zip(documents, results, strict=True):
        if document is EICAR:
            assert isinstance(result, InvalidDocument) and result.reason is Reason.MALWARE
        else:
            assert result == ()
    assert len(scanner._idle) <= scanner.settings.pool_size


async def test_stopped_clamd_is_scanner_unavailable(clamd_factory: Callable[..., ClamdProcess]) -> None:
    process = clamd_factory()
    scanner = Scanner(ScannerSettings(address=process.address, connect_timeout_s=0.5))
    try:
        assert await scan_document(make_pdf(), scanner) == ()
        process.stop()
        assert not await scanner.ping()
        with pytest.raises(Unavailable) as caught:
            await scan_document(make_pdf(), scanner)
        assert caught.value.reason is Reason.SCANNER_UNAVAILABLE
        # Fail-open only by explicit config: the document passes, marked as not scanned.
        open_scanner = Scanner(ScannerSettings(address=process.address, connect_timeout_s=0.5, fail_open=True))
        assert await scan_document(make_pdf(), open_scanner) == (SCAN_SKIPPED,)
        await open_scanner.close()
        # Back up: the pooled connection clamd dropped is retried transparently on a fresh one.
        process.start()
        assert await scanner.ping()
        assert await scan_document(make_pdf(), scanner) == ()
    finally:
        await scanner.close()


async def test_restarted_clamd_stale_pooled_connection_is_retried(clamd_factory: Callable[..., ClamdProcess]) -> None:
    process = clamd_factory()
    scanner = Scanner(ScannerSettings(address=process.address))
    try:
        assert await scan_document(make_png(), scanner) == ()
        assert len(scanner._idle) == 1
        process.stop()
        process.start()
        assert await scan_document(make_png(), scanner) == ()
    finally:
        await scanner.close()


async def test_frozen_clamd_times_out_as_unavailable(clamd_factory: Callable[..., ClamdProcess]) -> None:
    process = clamd_factory()
    scanner = Scanner(ScannerSettings(address=process.address, scan_timeout_s=0.5, connect_timeout_s=0.3))
    try:
        assert await scan_document(make_png(), scanner) == ()
        process.freeze()  # SIGSTOP: a real hang
        with pytest.raises(Unavailable) as caught:
            await scan_document(make_png(), scanner)
        assert caught.value.reason is Reason.SCANNER_UNAVAILABLE
        assert not await scanner.ping()
    finally:
        process.thaw()
        await scanner.close()


async def test_request_deadline_is_deadline_exceeded_not_unavailable(
    clamd_factory: Callable[..., ClamdProcess],
) -> None:
    process = clamd_factory()
    scanner = Scanner(ScannerSettings(address=process.address, scan_timeout_s=5.0))
    try:
        with pytest.raises(DeadlineExceeded):
            await scan_document(make_png(), scanner, time_left=0.0)
        process.freeze()
        with pytest.raises(DeadlineExceeded):
            await scan_document(make_png(), scanner, time_left=0.3)
    finally:
        process.thaw()
        await scanner.close()


async def test_over_stream_max_length_reads_the_reply_after_the_broken_pipe(
    clamd_factory: Callable[..., ClamdProcess],
) -> None:
    process = clamd_factory(CLAMD_STREAM_MAX_LENGTH="1M")
    scanner = Scanner(ScannerSettings(address=process.address, chunk_bytes=64 * 1024))
    try:
        with pytest.raises(InvalidDocument) as caught:
            await scan_document(pdf_with_stream(b"\0" * (4 * 1024 * 1024)), scanner)
        assert caught.value.reason is Reason.TOO_LARGE
        # The session clamd closed is not pooled; the next scan works.
        assert scanner._idle == []
        assert await scan_document(make_png(), scanner) == ()
    finally:
        await scanner.close()


async def test_client_side_stream_limit_refuses_without_sending(scanner: Scanner) -> None:
    small = Scanner(ScannerSettings(address=scanner.settings.address, stream_max_bytes=1024))
    with pytest.raises(InvalidDocument) as caught:
        await scan_document(make_png(64, 64, pixels=bytes(range(256)) * 48, level=0), small)
    assert caught.value.reason is Reason.TOO_LARGE
    await small.close()


async def test_disabled_scanner_marks_the_response() -> None:
    disabled = Scanner(ScannerSettings(enabled=False))
    assert await scan_document(make_png(), disabled) == (SCAN_SKIPPED,)
    assert await scan_document(make_png(), None) == (SCAN_SKIPPED,)


async def test_tcp_socket(clamd_factory: Callable[..., ClamdProcess]) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clamd_factory(CLAMD_TCP_PORT=str(port))
    scanner = Scanner(ScannerSettings(address=f"tcp:127.0.0.1:{port}"))
    try:
        assert await scanner.ping()
        with pytest.raises(InvalidDocument):
            await scan_document(EICAR, scanner)
    finally:
        await scanner.close()


@pytest.mark.parametrize("address", ["clamd.sock", "unix:", "tcp:localhost", "tcp::3310", "http://clamd"])
def test_bad_address_is_refused_at_startup(address: str) -> None:
    with pytest.raises(ValueError):
        Scanner(ScannerSettings(address=address))
