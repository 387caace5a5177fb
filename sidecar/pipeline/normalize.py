"""Stage: turn a decoded page into exactly the tensor the model's manifest asks for.

Training builds its tensors through this same function (never a copy), and the
manifest pins PREPROCESSING_VERSION; the registry refuses a model whose version
this module does not implement.

Version "1" is the InputSpec defaults (grey, auto-contrast, no deskew, no page
crop). Options added later (`channels=3`, `deskew`, `crop_page`) default to off, so a v1 manifest keeps
producing bit-for-bit the tensors its model was trained on
(tests/unit/test_normalize_frozen.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from PIL import Image

from sidecar.domain import InputSpec, Page

# Deskew search: ±MAX degrees in STEP increments, at model resolution (cheap: ~1 ms).
_DESKEW_MAX_DEG = 5.0
_DESKEW_STEP_DEG = 0.5

# Page crop (crop_page): a row (column) belongs to the sheet once its paper-bright share is at least half
# the share of the sheet's typical line (the 90th percentile over lines; a narrow receipt spans a third of
# the frame's width), and never under a tenth.
_CROP_LINE_SHARE = (0.5, 90.0, 0.1)
# A side is cut only if the strip it removes is background: at most this share of it paper-bright.
_CROP_STRIP_PAPER = 0.12
# The crop is taken only if it keeps 8-90 % of the frame, the box is mostly paper, and the grey levels
# split cleanly into paper and the rest (Otsu's between-class share of the variance).
_CROP_AREA = (0.08, 0.90)
_CROP_MIN_FILL = 0.6
_CROP_MIN_SEPARATION = 0.5
_CROP_MARGIN = 0.01  # of each side, kept around the box: the sheet's edge stays in view
_CROP_THUMB = 512  # the box is found on a thumbnail of at most this long side (strided, ~1 ms)


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
    if spec.crop_page:
        image = crop_to_page(image)
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


def page_box(image: npt.NDArray[np.uint8]) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the sheet of paper in a photo, or None when there is no clear one.

    Otsu's threshold splits the grey levels into paper and the rest; rows are trimmed from the top
    and the bottom while they hold much less paper than the sheet's typical row, then columns (within those rows)
    from the sides. Trimming from the outside in stops at the first paper-bright line, so a page
    that fills the frame (a scan, a rendered PDF: its white margin is paper) is left whole, and dark
    tables or banners inside a page never cut it. The box must keep 8-90 % of the frame and be
    mostly paper (_CROP_AREA, _CROP_MIN_FILL).

    Known limits: one global threshold, so a dark band printed right at the edge of a page is taken
    for background, and a hard shadow across the sheet (or a sheet no brighter than the table it lies
    on) can cut part of the page away. The tensor then shows that part; OCR still reads the whole page.
    """
    h, w = image.shape[:2]
    step = max(1, -(-max(h, w) // _CROP_THUMB))
    thumb = image[::step, ::step]
    if thumb.ndim == 3:  # luma is per pixel: converting the thumbnail equals thumbnailing the grey page
        thumb = np.asarray(Image.fromarray(np.ascontiguousarray(thumb)).convert("L"))
    threshold, separation = _otsu(thumb)
    if separation < _CROP_MIN_SEPARATION:
        return None
    paper = thumb > threshold
    rows = _sheet_lines(paper.mean(axis=1))
    if rows is None:
        return None
    r0, r1 = _keep_paper(paper, rows)
    cols = _sheet_lines(paper[r0:r1].mean(axis=0))
    if cols is None:
        return None
    c0, c1 = _keep_paper(paper[r0:r1].T, cols)
    th, tw = paper.shape
    area = (r1 - r0) * (c1 - c0) / (th * tw)
    if not (_CROP_AREA[0] <= area <= _CROP_AREA[1]) or paper[r0:r1, c0:c1].mean() < _CROP_MIN_FILL:
        return None
    my, mx = round(_CROP_MARGIN * h), round(_CROP_MARGIN * w)
    return max(0, r0 * step - my), min(h, r1 * step + my), max(0, c0 * step - mx), min(w, c1 * step + mx)


def crop_to_page(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The image cut to page_box (a view), or the image itself when no sheet stands out."""
    box = page_box(image)
    if box is None:
        return image
    top, bottom, left, right = box
    return image[top:bottom, left:right]


def _keep_paper(paper: npt.NDArray[np.bool_], span: tuple[int, int]) -> tuple[int, int]:
    """`span` of the rows of `paper`, except that a side whose cut-off strip is not mostly background
    (more than _CROP_STRIP_PAPER of it paper: the rest of a narrow receipt, a bright table) stays."""
    first, last = span
    if first > 0 and paper[:first].mean() > _CROP_STRIP_PAPER:
        first = 0
    if last < len(paper) and paper[last:].mean() > _CROP_STRIP_PAPER:
        last = len(paper)
    return first, last


def _sheet_lines(share: npt.NDArray[np.float64]) -> tuple[int, int] | None:
    """[first, last + 1) of the lines whose paper share reaches _CROP_LINE_SHARE's cut."""
    half, percentile, floor = _CROP_LINE_SHARE
    lines = np.flatnonzero(share >= max(floor, half * float(np.percentile(share, percentile))))
    return (int(lines[0]), int(lines[-1]) + 1) if len(lines) else None


def _otsu(grey: npt.NDArray[np.uint8]) -> tuple[int, float]:
    """Otsu's threshold and how cleanly it splits the levels (between-class over total variance, 0..1)."""
    p = np.bincount(grey.ravel(), minlength=256).astype(np.float64)
    p /= p.sum()
    levels = np.arange(256, dtype=np.float64)
    omega, mu = np.cumsum(p), np.cumsum(p * levels)
    total = float(mu[-1])
    variance = float((((levels - total) ** 2) * p).sum())
    if variance <= 0.0:
        return 255, 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = np.nan_to_num((total * omega - mu) ** 2 / (omega * (1.0 - omega)))
    best = int(np.argmax(between))
    return best, float(between[best]) / variance


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
