"""fit + normalize written once for any array module: numpy here, CuPy on the GPU.

Pillow's BILINEAR downscale is a separable triangle filter whose support grows
with the scale factor (it antialiases). Expressed as two small weight matrices,
the resize becomes two matrix products, which is what a GPU does best; the same
code on numpy is the CPU twin the parity test compares against. The result agrees
with `sidecar.pipeline.normalize.normalize_page` within PARITY_TOLERANCE (the steps
are Pillow's: box pre-reduction by whole factors, then the triangle filter; only
Pillow's fixed-point rounding differs).

No CuPy import here: `xp` is passed in.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from sidecar.domain import InputSpec
from sidecar.pipeline.normalize import page_box

# Max absolute difference from normalize_page on real pages (tests/unit/test_gpu_resample.py
# and tests/gpu/test_gpu_parity.py check it); 0.025 is ~3 grey levels at mean 0.5 / std 0.5.
PARITY_TOLERANCE = 0.025
# Mean absolute difference: the bulk of the pixels agree to a fraction of a grey level.
PARITY_MEAN_TOLERANCE = 0.002


@lru_cache(maxsize=256)
def resize_weights(in_size: int, out_size: int, span: float | None = None) -> npt.NDArray[np.float32]:
    """(out_size x in_size) weights of Pillow's antialiased bilinear filter (Resample.c precompute_coeffs).

    `span` is the width of the source box in input pixels (defaults to in_size); Pillow's
    pre-reduction leaves a fractional box when the size is not a multiple of the factor.
    """
    span = float(in_size) if span is None else span
    scale = span / out_size
    filterscale = max(scale, 1.0)
    support = 1.0 * filterscale
    weights = np.zeros((out_size, in_size), dtype=np.float64)
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size)
        x = np.arange(xmin, xmax, dtype=np.float64)
        w = np.clip(1.0 - np.abs((x - center + 0.5) / filterscale), 0.0, None)
        total = w.sum()
        if total > 0:
            weights[xx, xmin:xmax] = w / total
    return weights.astype(np.float32)


def reduce_factors(height: int, width: int, new_h: int, new_w: int) -> tuple[int, int]:
    """Pillow's resize(reducing_gap=2.0) first box-reduces by these whole factors."""
    return max(1, int(height / new_h / 2.0)), max(1, int(width / new_w / 2.0))


def box_reduce_xp(xp: Any, src: Any, fy: int, fx: int) -> Any:
    """C x H x W float32 → block means of fy x fx (partial edge blocks average what they hold), rounded."""
    c, h, w = src.shape
    oh, ow = -(-h // fy), -(-w // fx)
    padded = xp.zeros((c, oh * fy, ow * fx), dtype=xp.float32)
    padded[:, :h, :w] = src
    sums = padded.reshape(c, oh, fy, ow, fx).sum(axis=(2, 4))
    rows = xp.full((oh,), float(fy), dtype=xp.float32)
    cols = xp.full((ow,), float(fx), dtype=xp.float32)
    rows[-1] = h - (oh - 1) * fy
    cols[-1] = w - (ow - 1) * fx
    return xp.floor(sums / (rows[:, None] * cols[None, :]) + 0.5)


def fitted_size(height: int, width: int, spec: InputSpec) -> tuple[int, int]:
    """(new_h, new_w) exactly as fit_page computes them."""
    scale = min(spec.height / height, spec.width / width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def fit_page_xp(xp: Any, image: Any, spec: InputSpec, weights: Any = None) -> Any:
    """uint8 HxW (or HxWxC) on `xp` → float32 canvas (spec.height x spec.width [x C]) holding 0..255 levels.

    `weights(in_size, out_size, span)` returns the resize matrix already on the device (cached by the caller).
    """
    get = weights or (lambda n, m, span: xp.asarray(resize_weights(n, m, span)))
    h, w = image.shape[:2]
    new_h, new_w = fitted_size(h, w, spec)
    src = image.astype(xp.float32)
    src = src[None, :, :] if src.ndim == 2 else xp.transpose(src, (2, 0, 1))  # C x H x W
    fy, fx = reduce_factors(h, w, new_h, new_w)
    span_h, span_w = h / fy, w / fx
    if fy > 1 or fx > 1:
        src = box_reduce_xp(xp, src, fy, fx)
    wy, wx = get(src.shape[1], new_h, span_h), get(src.shape[2], new_w, span_w)
    # Horizontal pass first, rounded to levels like Pillow's intermediate image, then vertical.
    tmp = xp.clip(xp.rint(src @ wx.T), 0, 255)
    resized = xp.clip(xp.rint(wy @ tmp), 0, 255)
    resized = xp.transpose(resized, (1, 2, 0)) if image.ndim == 3 else resized[0]
    canvas = xp.full((spec.height, spec.width, *image.shape[2:]), 255.0, dtype=xp.float32)
    top, left = (spec.height - new_h) // 2, (spec.width - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = resized
    return canvas


def autocontrast_params(xp: Any, fitted: Any, spec: InputSpec) -> tuple[float, float]:
    """(lo, gain) such that level → clip((level - lo) * gain, 0, 255); identity when off or flat."""
    if not spec.autocontrast:
        return 0.0, 1.0
    lo, hi = (float(v) for v in xp.percentile(fitted, xp.asarray([1.0, 99.0], dtype=xp.float32)))
    if hi - lo > 8.0:
        return lo, 255.0 / (hi - lo)
    return 0.0, 1.0


def normalize_xp(xp: Any, image: Any, spec: InputSpec) -> Any:
    """The whole of normalize_page (without deskew) on `xp`: uint8 page → float32 C x H x W.

    The page crop's box is found on the host (a strided thumbnail, ~1 ms); the crop itself is a slice."""
    if spec.deskew:
        raise ValueError("deskew runs on the CPU path only")
    image = _match_channels(xp, image, spec.channels)
    if spec.crop_page:
        box = page_box(image if isinstance(image, np.ndarray) else xp.asnumpy(image))
        if box is not None:
            image = image[box[0] : box[1], box[2] : box[3]]
    fitted = fit_page_xp(xp, image, spec)
    lo, gain = autocontrast_params(xp, fitted, spec)
    levels = xp.clip((fitted - lo) * gain, 0.0, 255.0) if gain != 1.0 or lo != 0.0 else fitted
    tensor = (levels / 255.0 - spec.mean) / spec.std
    chw = tensor[None, :, :] if tensor.ndim == 2 else xp.transpose(tensor, (2, 0, 1))
    return xp.ascontiguousarray(chw, dtype=xp.float32)


def _match_channels(xp: Any, image: Any, channels: int) -> Any:
    if channels == 3 and image.ndim == 2:
        return xp.repeat(image[:, :, None], 3, axis=2)
    if channels == 1 and image.ndim == 3:
        # ITU-R 601-2 luma, as Pillow's convert("L").
        grey = image[..., 0] * 0.299 + image[..., 1] * 0.587 + image[..., 2] * 0.114
        return xp.clip(xp.rint(grey), 0, 255).astype(xp.uint8)
    return image


def pad_to_multiple(n: int, multiple: int = 8) -> int:
    return int(math.ceil(n / multiple) * multiple)
