"""Mutated real files: decoding either succeeds or raises InvalidDocument, never anything else."""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from harness import documents as docs
from sidecar.domain import DocKind, InputSpec, Inspection
from sidecar.errors import InvalidDocument
from sidecar.pipeline.decode import decode_document
from sidecar.pipeline.normalize import normalize_page


@functools.cache
def seeds() -> dict[str, tuple[DocKind, bytes]]:
    small = docs.page_image(size=(124, 175), mode="RGB")
    return {
        "jpeg": (DocKind.JPEG, docs.jpeg(small)),
        "jpeg_exif": (DocKind.JPEG, docs.jpeg_exif_rotated(small)),
        "png": (DocKind.PNG, docs.png(small.convert("L"))),
        "png_16": (DocKind.PNG, docs.png_16bit(small)),
        "png_palette": (DocKind.PNG, docs.png_palette_alpha(small)),
        "pdf": (DocKind.PDF, docs.pdf(lines=["x"])),
        "pdf_scanned": (DocKind.PDF, docs.pdf_scanned(Image.new("L", (62, 88), 200))),
    }


@st.composite
def mutated(draw: st.DrawFn) -> tuple[DocKind, bytes]:
    kind, content = seeds()[draw(st.sampled_from(sorted(seeds())))]
    data = bytearray(content)
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
    return kind, bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_documents_decode_or_raise_invalid_document(case: tuple[DocKind, bytes]) -> None:
    kind, content = case
    try:
        page = decode_document(
            content, Inspection(kind=kind, digest="", size=len(content)), (256, 192), 4_000_000, pdf_time_limit_s=0.5
        )
    except InvalidDocument:
        return
    assert page.image.dtype == np.uint8 and page.image.size > 0
    tensor = normalize_page(page, InputSpec())
    assert tensor.shape == (1, 256, 192) and np.isfinite(tensor).all()
