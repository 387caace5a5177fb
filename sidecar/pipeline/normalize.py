"""Stage: turn a decoded page into exactly the tensor the model's manifest asks for.

Training builds its tensors through this same function (never a copy), and the
manifest pins PREPROCESSING_VERSION; the registry refuses a model whose version
this module does not implement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from sidecar.domain import Page

PREPROCESSING_VERSION = "1"


@dataclass(frozen=True, slots=True)
class InputSpec:
    height: int = 256
    width: int = 192
    mean: float = 0.5
    std: float = 0.5
    # Stretch the 1st..99th percentile of grey levels to the full range (lighting, faded scans).
    autocontrast: bool = True

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
    canvas = np.full((spec.height, spec.width), 255, dtype=np.uint8)
    top, left = (spec.height - new_h) // 2, (spec.width - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = resized
    return canvas


def normalize_page(page: Page, spec: InputSpec) -> npt.NDArray[np.float32]:
    """Page → float32 CHW tensor (1 x H x W), normalized with the manifest's mean/std."""
    fitted = fit_page(page.image, spec).astype(np.float32)
    if spec.autocontrast:
        lo, hi = np.percentile(fitted, (1.0, 99.0))
        if hi - lo > 8.0:
            fitted = np.clip((fitted - lo) * (255.0 / (hi - lo)), 0.0, 255.0)
    tensor = (fitted / 255.0 - spec.mean) / spec.std
    return tensor[np.newaxis, :, :].astype(np.float32, copy=False)
