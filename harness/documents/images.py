"""Rendered pages as images: a document-like A4 page (`page_image`) and genuine JPEG and PNG files of it,
written by Pillow (`jpeg`, `png` and their variants: EXIF-rotated, CMYK, grey, 16-bit, palette with alpha)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# A4 in PDF points and at 300 dpi.
A4_PT = (595, 842)
A4_300DPI = (2480, 3508)

SAMPLE_LINES = (
    "INVOICE 2024-0042",
    "Bill to: Example Trading Company",
    "Invoice date: 12 March 2024",
    "Amount due: 1250.00 EUR",
    "Payment terms: thirty days net",
    "Thank you for your business",
)


def page_image(
    size: tuple[int, int] = A4_300DPI, lines: Sequence[str] = SAMPLE_LINES, mode: str = "L", seed: int = 0
) -> Image.Image:
    """A document-like page: big legible text lines, a ruled table and a coloured logo block."""
    return _page_image(size, tuple(lines), mode, seed).copy()


@lru_cache(maxsize=16)
def _page_image(size: tuple[int, int], lines: tuple[str, ...], mode: str, seed: int) -> Image.Image:
    width, height = size
    img = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(img)
    font_px = max(10, width // 40)
    font = ImageFont.load_default(font_px)
    margin = width // 12
    y = height // 12
    for line in lines:
        draw.text((margin, y), line, fill=(0, 0, 0), font=font)
        y += int(font_px * 1.8)
    # A ruled table: most documents have one, and it gives the edges deskew/sharpness measure.
    rng = np.random.default_rng(seed)
    top = y + font_px
    rows, cols = 8, 4
    cell_h, cell_w = font_px * 1.6, (width - 2 * margin) / cols
    for r in range(rows + 1):
        draw.line(
            [(margin, top + r * cell_h), (width - margin, top + r * cell_h)], fill=(0, 0, 0), width=max(1, width // 800)
        )
    for c in range(cols + 1):
        x = margin + c * cell_w
        draw.line([(x, top), (x, top + rows * cell_h)], fill=(0, 0, 0), width=max(1, width // 800))
    for r in range(rows):
        for c in range(cols):
            value = f"{rng.integers(10, 9999)}"
            draw.text(
                (margin + c * cell_w + font_px // 3, top + r * cell_h + font_px // 5),
                value,
                fill=(40, 40, 40),
                font=font,
            )
    # A coloured logo block in the top-right corner.
    draw.rectangle(
        [(width - margin - width // 6, height // 24), (width - margin, height // 24 + width // 12)], fill=(200, 30, 30)
    )
    return img.convert(mode) if mode != "RGB" else img


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **params)
    return buf.getvalue()


# --- JPEG -----------------------------------------------------------------------------------


def jpeg(img: Image.Image | None = None, quality: int = 85) -> bytes:
    return encode(img if img is not None else page_image(mode="RGB"), "JPEG", quality=quality)


def jpeg_exif_rotated(img: Image.Image | None = None, orientation: int = 6) -> bytes:
    """A JPEG stored sideways with an EXIF orientation that puts it upright again (as phones write them)."""
    upright = img if img is not None else page_image(mode="RGB")
    # exif_transpose applies the inverse of these to display the page upright.
    stored = {
        3: upright.transpose(Image.Transpose.ROTATE_180),
        6: upright.transpose(Image.Transpose.ROTATE_90),
        8: upright.transpose(Image.Transpose.ROTATE_270),
    }[orientation]
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(stored, "JPEG", quality=85, exif=exif)


def jpeg_cmyk(img: Image.Image | None = None) -> bytes:
    return encode((img if img is not None else page_image(mode="RGB")).convert("CMYK"), "JPEG", quality=90)


def jpeg_grey(img: Image.Image | None = None) -> bytes:
    return encode((img if img is not None else page_image(mode="L")).convert("L"), "JPEG", quality=85)


# --- PNG ------------------------------------------------------------------------------------


def png(img: Image.Image | None = None) -> bytes:
    return encode(img if img is not None else page_image(mode="L"), "PNG")


def png_rgb(img: Image.Image | None = None) -> bytes:
    return encode(img if img is not None else page_image(mode="RGB"), "PNG")


def png_16bit(img: Image.Image | None = None) -> bytes:
    grey = np.asarray((img if img is not None else page_image(mode="L")).convert("L"), dtype=np.uint16)
    return encode(Image.fromarray(grey * 257), "PNG")  # full 16-bit range, mode I;16


def png_palette_alpha(img: Image.Image | None = None) -> bytes:
    """A palette PNG whose paper is fully transparent (must become white, not black)."""
    page = (img if img is not None else page_image(mode="RGB")).convert("RGB")
    rgba = page.convert("RGBA")
    alpha = np.where(np.asarray(page.convert("L")) > 250, 0, 255).astype(np.uint8)
    rgba.putalpha(Image.fromarray(alpha))
    pal = rgba.quantize(16)  # FASTOCTREE keeps the alpha in the palette (written as tRNS)
    return encode(pal, "PNG")
