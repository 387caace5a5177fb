"""Stage: turn a decoded page into exactly the tensor the model's manifest asks for.

Training builds its tensors through this same function (never a copy), and the
manifest pins PREPROCESSING_VERSION; the registry refuses a model whose version
this module does not implement.

Version "1" is the InputSpec defaults (grey, auto-contrast, no deskew). Options
added later (`channels=3`, `deskew`) default to off, so a v1 manifest keeps
producing bit-for-bit the tensors its model was trained on
(tests/unit/test_normalize_frozen.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from sidecar.domain import Page

PREPROCESSING_VERSION = "1"
# Versions this module implements; the registry refuses a manifest naming any other.
SUPPORTED_PREPROCESSING_VERSIONS = frozenset({"1"})

# Deskew search: ±MAX degrees in STEP increments, at model resolution (cheap: ~1 ms).
_DESKEW_MAX_DEG = 5.0
_DESKEW_STEP_DEG = 0.5


@dataclass(frozen=True, slots=True)
class InputSpec:
    height: int = 256
    width: int = 192
    mean: float = 0.5
    std: float = 0.5
    # Stretch the 1st..99th percentile of grey levels to the full range (lighting, faded scans).
    autocontrast: bool = True
    # 1 = grey (v1); 3 = RGB, decoded with decode_document(..., mode="RGB").
    channels: int = 1
    # Straighten pages photographed or scanned at a small angle (±5°) before fitting.
    deskew: bool = False

    def __post_init__(self) -> None:
        if self.height < 1 or self.width < 1 or self.std <= 0 or self.channels not in (1, 3):
            raise ValueError(f"invalid input spec: {self}")

    @property
    def decode_mode(self) -> str:
        """The `mode` to pass to decode_document for this spec."""
        return "RGB" if self.channels == 3 else "L"

    @classmethod
    def from_manifest(cls, spec: dict[str, object]) -> InputSpec:
        known = {k: spec[k] for k in cls.__dataclass_fields__ if k in spec}
        return cls(**known)  # type: ignore[arg-type]


def fit_page(image: npt.NDArray[np.uint8], spec: InputSpec) -> npt.NDArray[np.uint8]:
    """Resize keeping the aspect ratio, centred on a white (paper) canvas of the model's size."""
    h, w = image.shape[:2]
    scale = min(spec.height / h, spec.width / w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    resized = np.asarray(Image.fromarray(image).resize((new_w, new_h), Image.Resampling.BILINEAR, reducing_gap=2.0))
    canvas = np.full((spec.height, spec.width, *image.shape[2:]), 255, dtype=np.uint8)
    top, left = (spec.height - new_h) // 2, (spec.width - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = resized
    return canvas


def normalize_page(page: Page, spec: InputSpec) -> npt.NDArray[np.float32]:
    """Page → float32 CHW tensor (C x H x W, C = spec.channels), normalized with the manifest's mean/std."""
    image = _match_channels(page.image, spec.channels)
    if spec.deskew:
        image = deskew(image)
    fitted = fit_page(image, spec).astype(np.float32)
    if spec.autocontrast:
        lo, hi = np.percentile(fitted, (1.0, 99.0))
        if hi - lo > 8.0:
            fitted = np.clip((fitted - lo) * (255.0 / (hi - lo)), 0.0, 255.0)
    tensor = (fitted / 255.0 - spec.mean) / spec.std
    chw = tensor[np.newaxis, :, :] if tensor.ndim == 2 else np.transpose(tensor, (2, 0, 1))
    return np.ascontiguousarray(chw, dtype=np.float32)


def to_batch(tensors: Sequence[npt.NDArray[np.float32]]) -> npt.NDArray[np.float32]:
    """Stack C x H x W tensors into the float32 N x C x H x W batch ONNX models take."""
    if not tensors:
        raise ValueError("empty batch")
    return np.ascontiguousarray(np.stack(tensors), dtype=np.float32)


def _match_channels(image: npt.NDArray[np.uint8], channels: int) -> npt.NDArray[np.uint8]:
    if channels == 1 and image.ndim == 3:
        return np.asarray(Image.fromarray(image).convert("L"))
    if channels == 3 and image.ndim == 2:
        return np.repeat(image[:, :, np.newaxis], 3, axis=2)
    return image


def estimate_skew(image: npt.NDArray[np.uint8]) -> float:
    """Angle in degrees (counter-clockwise) that straightens the text lines of a page.

    Projection-profile method: rotating the ink until its row sums are most uneven lines
    the text rows up with the pixel rows. Runs on a ≤ 512 px thumbnail.
    """
    grey = Image.fromarray(image).convert("L") if image.ndim == 3 else Image.fromarray(image)
    grey.thumbnail((512, 512), Image.Resampling.BILINEAR)
    ink = Image.fromarray(255 - np.asarray(grey))  # ink bright, paper 0: rotation pads with paper
    best_angle, best_score = 0.0, -1.0
    steps = round(_DESKEW_MAX_DEG / _DESKEW_STEP_DEG)
    for k in range(-steps, steps + 1):
        angle = k * _DESKEW_STEP_DEG
        rows = np.asarray(ink.rotate(angle, Image.Resampling.BILINEAR), dtype=np.float32).sum(axis=1)
        score = float(np.square(np.diff(rows)).sum())
        if score > best_score * (1 + 1e-6):
            best_angle, best_score = angle, score
    return best_angle


def deskew(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    angle = estimate_skew(image)
    if angle == 0.0:
        return image
    fill: int | tuple[int, int, int] = (255, 255, 255) if image.ndim == 3 else 255
    rotated = Image.fromarray(image).rotate(angle, Image.Resampling.BILINEAR, expand=False, fillcolor=fill)
    return np.asarray(rotated, dtype=np.uint8)
