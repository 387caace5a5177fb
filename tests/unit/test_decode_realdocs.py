"""Every real document in ../shared/real-docs decodes, with exactly the v1 pixels, and yields features.

Skipped when the folder is absent (it is never copied into the repository).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sidecar.domain import DocKind, InputSpec, Inspection
from sidecar.pipeline.decode import decode_document
from sidecar.pipeline.features import compute_features
from sidecar.pipeline.normalize import normalize_page
from tests.unit.test_normalize_frozen import _ref_decode_image, _ref_decode_pdf

REAL_DOCS = Path(__file__).resolve().parents[2].parent / "shared" / "real-docs" / "files"
KINDS = {".pdf": DocKind.PDF, ".jpg": DocKind.JPEG, ".jpeg": DocKind.JPEG, ".png": DocKind.PNG}
FILES = sorted(p for p in REAL_DOCS.rglob("*") if p.suffix.lower() in KINDS) if REAL_DOCS.is_dir() else []

pytestmark = pytest.mark.realdocs


@pytest.mark.skipif(not FILES, reason=f"{REAL_DOCS} is absent")
@pytest.mark.parametrize("path", FILES, ids=[p.name[:60] for p in FILES])
def test_real_document_decodes_with_v1_pixels(path: Path) -> None:
    kind = KINDS[path.suffix.lower()]
    content = path.read_bytes()
    inspection = Inspection(kind=kind, digest="", size=len(content))
    spec = InputSpec()
    target = (spec.height, spec.width)
    page = decode_document(content, inspection, target, 100_000_000)
    reference = (
        _ref_decode_pdf(content, target) if kind is DocKind.PDF else _ref_decode_image(content, target, 100_000_000)
    )
    np.testing.assert_array_equal(page.image, reference)
    tensor = normalize_page(page, spec)
    assert tensor.shape == (1, 256, 192) and np.isfinite(tensor).all()
    features = compute_features(inspection, page)
    assert features.width > 0 and features.height > 0 and 0 <= features.brightness <= 255
    if kind is DocKind.PDF:
        assert page.page_count >= 1
