"""The compiled hot path and its Python twin: loaded when built, and identical on any input."""

from __future__ import annotations

import hashlib
import importlib
import os
import zlib
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.documents import (
    EICAR,
    jpeg_with_comment,
    make_jpeg,
    make_pdf,
    make_png,
    minimal_zip,
    pdf_with_stream,
)
from harness.hotpath_impls import COMPILED, IMPLEMENTATIONS, IN_CI
from sidecar import _hotpath_py, hotpath

EXT_DIR = Path(hotpath.__file__).parent / "_ext"


def test_compiled_module_is_loaded_when_built() -> None:
    built = any(EXT_DIR.glob("_hotpath.*.so")) or any(EXT_DIR.glob("_hotpath.*.pyd"))
    if not built and not IN_CI:
        pytest.skip("the extension is not built (make build)")
    assert built, "CI must build sidecar._ext._hotpath"
    if os.environ.get("DOCTRIAGE_NO_EXTENSIONS"):
        assert hotpath.IMPLEMENTATION == "python"
    else:
        assert hotpath.COMPILED and hotpath.IMPLEMENTATION == "compiled"
        assert hotpath.inspect_bytes is COMPILED.inspect_bytes  # type: ignore[union-attr]


def test_no_extensions_env_forces_the_twin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCTRIAGE_NO_EXTENSIONS", "1")
    try:
        reloaded = importlib.reload(hotpath)
        assert reloaded.IMPLEMENTATION == "python"
        assert reloaded.inspect_bytes is _hotpath_py.inspect_bytes
    finally:
        monkeypatch.delenv("DOCTRIAGE_NO_EXTENSIONS")
        importlib.reload(hotpath)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_sniff_and_digest(impl: ModuleType) -> None:
    png = make_png()
    assert impl.sniff_and_digest(png) == ("png", hashlib.sha256(png).hexdigest())
    assert impl.sniff_and_digest(make_jpeg())[0] == "jpeg"
    assert impl.sniff_and_digest(b"junk" + make_pdf())[0] == "pdf"
    assert impl.sniff_and_digest(b"") == (None, hashlib.sha256(b"").hexdigest())


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_inspect_valid_documents(impl: ModuleType) -> None:
    png = impl.inspect_bytes(make_png(640, 480))
    assert (png.kind, png.reason, png.width, png.height, png.findings) == ("png", None, 640, 480, ())
    jpeg = impl.inspect_bytes(make_jpeg(300, 200))
    assert (jpeg.kind, jpeg.reason, jpeg.width, jpeg.height) == ("jpeg", None, 300, 200)
    pdf = impl.inspect_bytes(make_pdf(pages=7))
    assert (pdf.kind, pdf.reason, pdf.page_count, pdf.findings) == ("pdf", None, 7, ())
    assert pdf.digest == hashlib.sha256(make_pdf(pages=7)).hexdigest()


@pytest.mark.skipif(COMPILED is None, reason="sidecar._ext._hotpath is not built")
@pytest.mark.parametrize("length", [*range(0, 200), 1000, 4095, 65536, 65537 + 13, 1 << 20])
def test_compiled_crc32_matches_zlib(length: int) -> None:
    data = os.urandom(length)
    assert COMPILED.crc32(data) == zlib.crc32(data)  # type: ignore[union-attr]
    assert COMPILED.crc32(data, 0xDEADBEEF) == zlib.crc32(data, 0xDEADBEEF)  # type: ignore[union-attr]


# -- the twins agree --------------------------------------------------------------------------

SEEDS = [
    make_png(5, 4),
    make_png(3, 3, extra=b"\0\0\0\x04tEXtabcd\0\0\0\0"),
    make_jpeg(8, 8),
    make_pdf(pages=2),
    make_pdf(catalog_extra=b"/OpenAction << /S /J#61vaScript /JS (app.alert\\(1\\)) >> /AA << >> "),
    make_pdf(trailer_extra=b"/Encrypt 5 0 R "),
    pdf_with_stream(EICAR),
    make_png() + minimal_zip(),
    jpeg_with_comment(b"%PDF-1.4 polyglot"),
    b"%PDF-1.4\n1 0 obj (unterminated",
    b"\xef\xbb\xbf\r\n" + make_pdf(),  # a BOM and a blank line before the header
    b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n\r\n" + make_pdf(),
    b"<html>" + make_pdf(),
    make_pdf() + b"\n<!DOCTYPE html><html><body>thanks</body></html>",
    make_png() + b"MZ\x90\x00",
]


def _both(data: bytes) -> None:
    if COMPILED is None:
        if IN_CI:
            pytest.fail("CI must build sidecar._ext._hotpath")
        pytest.skip("sidecar._ext._hotpath is not built")
    compiled = COMPILED.inspect_bytes(data)
    python = _hotpath_py.inspect_bytes(data)
    assert compiled == python
    assert COMPILED.sniff_and_digest(data) == _hotpath_py.sniff_and_digest(data)
    # Never more than one structural reason, and findings only from the known set.
    assert set(python.findings) <= {"ENCRYPTED", "ACTIVE_CONTENT", "EMBEDDED_FILE", "TRAILING_DATA", "POLYGLOT"}


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "splice", "overwrite"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 16))]
        elif op == "splice":
            other = draw(st.sampled_from(SEEDS))
            data[pos:] = other[draw(st.integers(0, len(other) - 1)) :]
        elif op == "overwrite":
            token = draw(
                st.sampled_from(
                    [
                        b"%%EOF",
                        b"stream\n",
                        b"endstream",
                        b"startxref 0",
                        b"/JS",
                        b"/J#53",
                        b"(",
                        b")",
                        b"<",
                        b">",
                        b"\xff\xd9",
                        b"\xff\xda\x00\x02",
                        b"\xff\xc0\x00\x11",
                        b"IEND",
                        b"IDAT",
                        b"PK\x05\x06",
                        b"/Count 9",
                    ]
                )
            )
            data[pos : pos + len(token)] = token
    return bytes(data)


PREFIXES = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"%PDF-1.7\n", b"%PDF-", b"\xff\xd8\xff\xd9"]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PREFIXES), st.binary(max_size=600))
def test_twins_agree_on_random_bytes(prefix: bytes, body: bytes) -> None:
    _both(prefix + body)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_twins_agree_on_mutated_documents(data: bytes) -> None:
    _both(data)


@pytest.mark.parametrize("seed", range(len(SEEDS)))
def test_twins_agree_on_every_prefix_of_the_seeds(seed: int) -> None:
    data = SEEDS[seed]
    for end in range(0, len(data) + 1, max(1, len(data) // 300)):
        _both(data[:end])


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.sampled_from(["", "application/pdf", "image/png", "image/jpeg"]))
def test_bad_input_only_ever_raises_invalid_document(data: bytes, mime: str) -> None:
    from sidecar.config import ValidationSettings
    from sidecar.domain import Document, Inspection
    from sidecar.errors import InvalidDocument
    from sidecar.pipeline.validate import validate_document

    try:
        result = validate_document(Document(content=data, declared_mime=mime), ValidationSettings())
    except InvalidDocument as refused:
        assert refused.message and refused.reason
    else:
        assert isinstance(result, Inspection)
