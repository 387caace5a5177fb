"""The corpus every system of bench/compare is sent: 30 mixed documents, born-digital PDFs, scans and
phone photos. Made on the fly by harness.documents (nothing committed), plus a handful of real documents
read in place from ../shared/real-docs when it is there (never copied into the repository).

Each document has a category, so that latency can be reported per kind of document:
- `pdf_digital`: born-digital PDFs (a text layer; no OCR ever needed);
- `scan`: scanned pages (image-only PDFs, PNG and JPEG scans);
- `photo`: phone photos of pages (JPEG, skewed, unevenly lit; text only through OCR).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from harness.documents import A4_PT, SAMPLE_LINES, invoice_page, jpeg, page_image, pdf, pdf_raster, pdf_scanned, png
from harness.paths import REAL_DOCS

CATEGORIES = ("pdf_digital", "scan", "photo")

# ../shared/real-docs/files/<path>: three born-digital PDFs, two scans, three phone photos (MANIFEST.tsv notes).
REAL = (
    ("pdf_digital", "invoice/fwn-renta__Bolero__i_inv395324.pdf"),
    ("pdf_digital", "bank_statement/taxerino__bank_statement.pdf"),
    ("pdf_digital", "tax_form/taxerino__w8ben.pdf"),
    ("scan", "invoice/docile__516f2d61ea404b30a9192a72.pdf"),
    ("scan", "letter/workshop-ai-images-video__flock-scan.jpg"),
    ("photo", "bank_statement/aws-ai-intelligent-document-processing__bank_statement.jpg"),
    ("photo", "receipt/ReceiptScan__receipt.jpg"),
    ("photo", "receipt/receipt-ocr__receipt.jpg"),
)

LETTER = (
    "Dear Ms Example,",
    "Thank you for your letter of 4 March.",
    "We are pleased to confirm your appointment.",
    "Please find the details enclosed.",
    "Yours sincerely,",
    "Jane Writer",
)
PAYSLIP = (
    "PAYSLIP March 2024",
    "Employee: John Example   ID 4711",
    "Gross pay: 4200.00 EUR",
    "Income tax: 812.40 EUR",
    "Social security: 390.60 EUR",
    "Net pay: 2997.00 EUR",
)
STATEMENT = (
    "ACCOUNT STATEMENT",
    "Example Bank plc   Sort code 12-34-56",
    "Opening balance: 2310.55 EUR",
    "03/03 Card payment SUPERMARKET -54.20",
    "05/03 Salary +2997.00",
    "Closing balance: 5253.35 EUR",
)
UTILITY = (
    "ELECTRICITY BILL",
    "Customer number 99812-33",
    "Billing period: 1 Feb - 29 Feb 2024",
    "Consumption: 312 kWh",
    "Amount due: 96.18 EUR",
    "Direct debit on 15 March 2024",
)
TEXTS = (None, LETTER, PAYSLIP, STATEMENT, UTILITY)


@dataclass(frozen=True, slots=True)
class Doc:
    name: str
    category: str
    content: bytes
    filename: str
    mime: str
    source: str  # "generated" or "real-docs"


def phone_photo(seed: int, lines: tuple[str, ...] | None = None, size: tuple[int, int] = (1600, 1200)) -> bytes:
    """A page photographed by a phone: rotated a few degrees on a dark desk, light falling off to one
    side, sensor noise, slight blur, JPEG quality 82 (landscape 4:3 like a phone's sensor)."""
    rng = np.random.default_rng(seed)
    page = page_image(size=(900, 1273), lines=lines or SAMPLE_LINES, mode="RGB", seed=seed)
    angle = float(rng.uniform(-7, 7))
    page = page.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC, fillcolor=(60, 50, 40))
    desk = Image.new("RGB", size, (60, 50, 40))
    scale = 0.9 * min(size[0] / page.width, size[1] / page.height)
    page = page.resize((int(page.width * scale), int(page.height * scale)), Image.Resampling.BILINEAR)
    desk.paste(page, ((size[0] - page.width) // 2 + int(rng.integers(-60, 60)), (size[1] - page.height) // 2))
    pixels = np.asarray(desk, np.float32)
    light = np.linspace(1.0, float(rng.uniform(0.45, 0.7)), size[0], dtype=np.float32)[None, :, None]
    pixels = pixels * light + rng.normal(0, 6, pixels.shape).astype(np.float32)
    photo = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.8))
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=82)
    return out.getvalue()


def generated() -> list[Doc]:
    """22 documents: 7 born-digital PDFs, 7 scans, 8 phone photos."""
    docs: list[Doc] = []

    def add(name: str, category: str, content: bytes, ext: str, mime: str) -> None:
        docs.append(Doc(name, category, content, f"{name}.{ext}", mime, "generated"))

    add("pdf-invoice", "pdf_digital", pdf(), "pdf", "application/pdf")
    add("pdf-invoice-3pages", "pdf_digital", pdf(pages=3), "pdf", "application/pdf")
    add("pdf-invoice-landscape", "pdf_digital", pdf(rotate=90), "pdf", "application/pdf")
    for text, label in zip(TEXTS[1:], ("letter", "payslip", "statement", "utility"), strict=True):
        add(f"pdf-{label}", "pdf_digital", pdf(lines=text), "pdf", "application/pdf")
    a4_150 = (A4_PT[0] * 150 // 72, A4_PT[1] * 150 // 72)
    add("scan-pdf-150dpi", "scan", pdf_scanned(), "pdf", "application/pdf")
    add("scan-pdf-letter-150dpi", "scan", pdf_scanned(page_image(size=a4_150, lines=LETTER)), "pdf", "application/pdf")
    add("scan-pdf-raster-72dpi", "scan", pdf_raster(invoice_page(seed=3)), "pdf", "application/pdf")
    add("scan-png-150dpi", "scan", png(page_image(size=a4_150, lines=PAYSLIP)), "png", "image/png")
    add("scan-png-300dpi", "scan", png(page_image(lines=STATEMENT)), "png", "image/png")
    add("scan-jpeg-150dpi", "scan", jpeg(page_image(size=a4_150, lines=UTILITY)), "jpg", "image/jpeg")
    add("scan-jpeg-small", "scan", jpeg(invoice_page(seed=5)), "jpg", "image/jpeg")
    for k in range(8):
        add(f"photo-{k}", "photo", phone_photo(k, TEXTS[k % len(TEXTS)]), "jpg", "image/jpeg")
    return docs


def real(limit: int | None = None) -> list[Doc]:
    """The real documents of REAL that are present (none when ../shared/real-docs is absent)."""
    out = []
    for category, rel in REAL[:limit]:
        path = REAL_DOCS / "files" / rel
        if path.is_file():
            mime = {"pdf": "application/pdf", "png": "image/png"}.get(path.suffix[1:].lower(), "image/jpeg")
            out.append(Doc(f"real:{rel}", category, path.read_bytes(), path.name, mime, "real-docs"))
    return out


def build(category: str | None = None) -> list[Doc]:
    """The corpus (generated + real, interleaved so that every run of a few requests sees each kind);
    only one category's documents when `category` is given."""
    docs = generated() + real()
    if category is not None:
        docs = [d for d in docs if d.category == category]
    by_category = {c: [d for d in docs if d.category == c] for c in CATEGORIES}
    mixed: list[Doc] = []
    while any(by_category.values()):
        for c in CATEGORIES:
            if by_category[c]:
                mixed.append(by_category[c].pop(0))
    return mixed


def describe(docs: list[Doc]) -> dict[str, object]:
    return {
        "documents": len(docs),
        "by_category": {c: sum(d.category == c for d in docs) for c in CATEGORIES},
        "generated": sum(d.source == "generated" for d in docs),
        "real_docs": [d.name.removeprefix("real:") for d in docs if d.source == "real-docs"],
        "mean_kib": round(sum(len(d.content) for d in docs) / max(1, len(docs)) / 1024, 1),
    }
