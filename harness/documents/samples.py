"""Sample documents: one small invoice page as PNG, JPEG and PDF (`sample_documents`), what the server
tests, the reliability tests and the load benchmarks send."""

from __future__ import annotations

from PIL import Image, ImageDraw

from harness.documents.images import encode, jpeg, png


def invoice_page(width: int = 620, height: int = 877, lines: int = 30, seed: int = 0) -> Image.Image:
    """A small RGB invoice page: a boxed title and `lines` item lines (the seed changes the numbers)."""
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


def pdf_raster(img: Image.Image | None = None) -> bytes:
    """The page as Pillow writes a PDF: one RGB raster image at 72 dpi, no text layer."""
    return encode((img if img is not None else invoice_page()).convert("RGB"), "PDF", resolution=72.0)


def sample_documents(seed: int = 0) -> dict[str, bytes]:
    """{"png": ..., "jpeg": ..., "pdf": ...} of one invoice page."""
    img = invoice_page(seed=seed)
    return {"png": png(img), "jpeg": jpeg(img), "pdf": pdf_raster(img)}
