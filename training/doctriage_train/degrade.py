"""Turn clean page images into phone photos and poor scans, and encode them as real upload bytes.

Everything is grey (the sidecar decodes to grey), numpy + OpenCV, deterministic by the given rng.
"""

from __future__ import annotations

import io
import random

import cv2
import numpy as np
import numpy.typing as npt
from fpdf import FPDF
from PIL import Image

from doctriage_train.render import REFERENCE_DAY

Grey = npt.NDArray[np.uint8]


def render_pdf(pdf: bytes, long_side: int) -> Grey:
    """Rasterize page 1 with the sidecar's PDFium lock so the long side is about `long_side` px."""
    import pypdfium2 as pdfium

    from sidecar.pipeline.decode import PDFIUM_LOCK

    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(pdf)
        try:
            page = doc[0]
            w, h = page.get_size()
            bitmap = page.render(scale=long_side / max(w, h), grayscale=True)
            img = bitmap.to_numpy().copy()
            page.close()
        finally:
            doc.close()
    if img.ndim == 3:
        img = img[..., 0]
    return np.ascontiguousarray(img, dtype=np.uint8)


def _low_freq(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> npt.NDArray[np.float32]:
    """Smooth random field in [-1, 1] (crumples, uneven light)."""
    small = rng.uniform(-1, 1, (cells, max(2, cells * shape[1] // max(1, shape[0])))).astype(np.float32)
    return np.asarray(cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC), np.float32)


def _background(rng: np.random.Generator, r: random.Random, shape: tuple[int, int]) -> npt.NDArray[np.float32]:
    h = shape[0]
    kind = r.choice(["flat", "wood", "noise", "dark", "cloth"])
    base = r.uniform(20, 200)
    bg = np.full(shape, base, np.float32)
    if kind == "wood":
        yy = np.arange(h, dtype=np.float32)[:, None]
        bg += 25 * np.sin(yy / r.uniform(3, 12) + _low_freq(rng, shape, 4) * 3)
    elif kind in ("noise", "cloth"):
        bg += rng.normal(0, r.uniform(5, 30), shape).astype(np.float32)
        if kind == "cloth":
            bg = np.asarray(cv2.GaussianBlur(bg, (0, 0), 1.5), np.float32)
    elif kind == "dark":
        bg = bg * 0.3
    bg += 40 * _low_freq(rng, shape, 3)
    return bg


def _shading(img: npt.NDArray[np.float32], rng: np.random.Generator, r: random.Random) -> npt.NDArray[np.float32]:
    h, w = img.shape
    light = 1.0 + r.uniform(0.1, 0.5) * _low_freq(rng, (h, w), r.randint(2, 4))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light *= 1.0 - r.uniform(0, 0.45) * (xx / w if r.random() < 0.5 else yy / h)
    if r.random() < 0.4:  # a hard shadow (phone or hand)
        a, b = r.uniform(-2, 2), r.uniform(0, h)
        mask = (yy > a * xx + b) if r.random() < 0.5 else (yy < a * xx + b)
        light[mask] *= r.uniform(0.45, 0.8)
        light = np.asarray(cv2.GaussianBlur(light, (0, 0), r.uniform(2, 12)), np.float32)
    if r.random() < 0.5:  # crumples
        light *= 1.0 + r.uniform(0.05, 0.25) * _low_freq(rng, (h, w), r.randint(6, 16))
    for _ in range(r.randint(0, 2) if r.random() < 0.5 else 0):  # folds
        if r.random() < 0.5:
            y = r.randint(h // 5, 4 * h // 5)
            light[y : y + r.randint(1, 3), :] *= r.uniform(0.6, 0.85)
            light[y + 3 : y + 12, :] *= r.uniform(1.0, 1.12)
        else:
            x = r.randint(w // 5, 4 * w // 5)
            light[:, x : x + r.randint(1, 3)] *= r.uniform(0.6, 0.85)
    return img * light


def photo(page: Grey, r: random.Random, target_long: int = 640) -> Grey:
    """A phone photo: page on a background, perspective, light, blur, noise, maybe cropped."""
    rng = np.random.default_rng(r.getrandbits(32))
    ph, pw = page.shape
    portrait = ph >= pw
    out_h, out_w = (target_long, target_long * 3 // 4) if portrait else (target_long * 3 // 4, target_long)
    if r.random() < 0.2:
        out_h, out_w = out_w, out_h
    fill = r.uniform(0.55, 1.05)  # page size relative to the frame (>1 means cropped)
    if max(ph, pw) > 2 * min(ph, pw) and r.random() < 0.5:
        fill = r.uniform(1.3, 2.6)  # a close-up of part of a long receipt
    scale = fill * min(out_h / ph, out_w / pw)
    cw, ch = pw * scale, ph * scale
    cx, cy = out_w / 2 + r.uniform(-0.12, 0.12) * out_w, out_h / 2 + r.uniform(-0.12, 0.12) * out_h
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], dtype=np.float32)
    corners = np.array([[-cw / 2, -ch / 2], [cw / 2, -ch / 2], [cw / 2, ch / 2], [-cw / 2, ch / 2]], dtype=np.float32)
    angle = np.deg2rad(r.gauss(0, 5) if r.random() < 0.9 else r.choice([90, -90, 180]) + r.gauss(0, 3))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], dtype=np.float32)
    corners = corners @ rot.T
    jitter = r.uniform(0, 0.12) * min(cw, ch)
    corners += rng.uniform(-jitter, jitter, (4, 2)).astype(np.float32)
    dst = (corners + np.array([cx, cy], dtype=np.float32)).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    paper = page.astype(np.float32) * r.uniform(0.85, 1.0)
    warped = np.asarray(
        cv2.warpPerspective(paper, matrix, (out_w, out_h), flags=cv2.INTER_AREA, borderValue=-1.0), np.float32
    )
    mask = np.asarray(
        cv2.warpPerspective(np.ones_like(paper), matrix, (out_w, out_h), flags=cv2.INTER_LINEAR), np.float32
    )
    img = warped * mask + _background(rng, r, (out_h, out_w)) * (1 - mask)
    img = _shading(img, rng, r)
    if r.random() < 0.7:
        img = np.asarray(cv2.GaussianBlur(img, (0, 0), r.uniform(0.3, 1.8)), np.float32)
    if r.random() < 0.2:  # motion blur
        k = r.randint(3, 9)
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1.0 / k
        img = np.asarray(cv2.filter2D(img, -1, kernel), np.float32)
    img += rng.normal(0, r.uniform(1, 10), img.shape).astype(np.float32)
    img = img * r.uniform(0.6, 1.1) + r.uniform(-30, 30)
    return _lowres(np.clip(img, 0, 255).astype(np.uint8), r, 0.35)


def scan(page: Grey, r: random.Random, target_long: int = 640) -> Grey:
    """A flatbed scan or fax: slight skew, grey borders, speckles, fading or hard thresholding."""
    rng = np.random.default_rng(r.getrandbits(32))
    ph, pw = page.shape
    s = target_long / max(ph, pw)
    size = (max(8, round(pw * s)), max(8, round(ph * s)))
    img = np.asarray(cv2.resize(page.astype(np.float32), size, interpolation=cv2.INTER_AREA), np.float32)
    h, w = img.shape
    angle = r.gauss(0, 1.5)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, r.uniform(0.94, 1.0))
    img = np.asarray(cv2.warpAffine(img, m, (w, h), borderValue=r.uniform(120, 255)), np.float32)
    if r.random() < 0.4:  # scanner lid / dark edge
        edge = r.randint(2, max(3, w // 25))
        side = r.choice(["l", "r", "t", "b"])
        val = r.uniform(0, 120)
        if side == "l":
            img[:, :edge] = val
        elif side == "r":
            img[:, -edge:] = val
        elif side == "t":
            img[:edge, :] = val
        else:
            img[-edge:, :] = val
    if r.random() < 0.5:
        img = np.asarray(cv2.GaussianBlur(img, (0, 0), r.uniform(0.3, 1.2)), np.float32)
    img = img * r.uniform(0.7, 1.05) + r.uniform(-10, 50)  # fading / darker scans
    img += rng.normal(0, r.uniform(0, 8), img.shape).astype(np.float32)
    if r.random() < 0.3:  # speckles
        n = r.randint(10, 400)
        ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
        img[ys, xs] = rng.uniform(0, 90, n)
    if r.random() < 0.15:  # fax: hard threshold
        img = np.where(img > r.uniform(120, 200), 255.0, 0.0).astype(np.float32)
    if r.random() < 0.2:
        img = _shading(img, rng, r)
    return _lowres(np.clip(img, 0, 255).astype(np.uint8), r, 0.4)


def _lowres(img: Grey, r: random.Random, p: float) -> Grey:
    if r.random() < p:
        h, w = img.shape
        f = r.uniform(0.3, 0.7)
        small = np.asarray(
            cv2.resize(img, (max(8, int(w * f)), max(8, int(h * f))), interpolation=cv2.INTER_AREA), np.uint8
        )
        img = (
            np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), np.uint8)
            if r.random() < 0.5
            else small
        )
    return img


def on_sheet(card: Grey, r: random.Random) -> Grey:
    """An ID card scanned on an A4 sheet: small card, lots of white."""
    ch, cw = card.shape
    sheet_w = int(cw * r.uniform(1.3, 2.6))
    sheet = np.full((int(sheet_w * 1.414), sheet_w), 250, np.uint8)
    y, x = r.randint(5, sheet.shape[0] // 4), r.randint(5, sheet_w - cw - 5)
    sheet[y : y + ch, x : x + cw] = card
    if r.random() < 0.5:  # front and back copied on one page
        y2 = y + ch + r.randint(5, 40)
        if y2 + ch < sheet.shape[0]:
            sheet[y2 : y2 + ch, x : x + cw] = card[::-1, ::-1] if r.random() < 0.3 else card
    return sheet


def encode(img: Grey, r: random.Random, fmt: str) -> bytes:
    """Upload bytes: JPEG (quality varies), PNG, or an image-only PDF (a scanned PDF: no text layer)."""
    pil = Image.fromarray(img)
    buf = io.BytesIO()
    if fmt == "png":
        pil.save(buf, format="PNG", compress_level=1)
        return buf.getvalue()
    pil.save(buf, format="JPEG", quality=r.randint(25, 92))
    if fmt == "jpeg":
        return buf.getvalue()
    h, w = img.shape
    pdf = FPDF(unit="pt", format=(w * 0.75 * (r.uniform(0.8, 1.3)), h * 0.75))
    pdf.set_creation_date(REFERENCE_DAY)
    pdf.set_margins(0, 0, 0)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.image(io.BytesIO(buf.getvalue()), x=0, y=0, w=pdf.w, h=pdf.h)
    return bytes(pdf.output())
