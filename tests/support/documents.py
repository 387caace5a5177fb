"""Small real documents made on the fly: a text page as PNG, JPEG and PDF."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def page_image(width: int = 620, height: int = 877, lines: int = 30, seed: int = 0) -> Image.Image:
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle((40, 40, width - 40, 110), outline="black", width=3)
    draw.text((60, 60), f"INVOICE No. {1000 + seed}", fill="black")
    for i in range(lines):
        y = 140 + i * 22
        if y > height - 60:
            break
        draw.text((60, y), f"Item {i + seed}   Description of goods   {i * 7 + seed}.00 EUR", fill="black")
    return img


def encode(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        img.convert("RGB").save(buf, "JPEG", quality=85)
    elif fmt == "PDF":
        img.convert("RGB").save(buf, "PDF", resolution=72.0)
    else:
        img.save(buf, fmt)
    return buf.getvalue()


def sample_documents(seed: int = 0) -> dict[str, bytes]:
    """{"png": ..., "jpeg": ..., "pdf": ...} of one text page."""
    img = page_image(seed=seed)
    return {"png": encode(img, "PNG"), "jpeg": encode(img, "JPEG"), "pdf": encode(img, "PDF")}
