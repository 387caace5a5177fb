"""Preprocessing version "1" is frozen: models are trained on its tensors.

The reference below is the v1 decode + normalize code as it was when training
started (commit bf0339f), kept verbatim (minus the PDF lock) so that every
speed-up or robustness fix in sidecar.pipeline is checked against it on real
files of every flavour.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageOps

from harness import documents as docs
from sidecar.domain import PREPROCESSING_VERSION, DocKind, InputSpec, Inspection
from sidecar.pipeline.decode import decode_document
from sidecar.pipeline.normalize import fit_page, normalize_page

TOLERANCE = 1e-2  # absolute, on the normalized tensor (one grey level is 1/127.5 ≈ 0.008)


# --- the v1 reference, verbatim --------------------------------------------------------------


def _ref_decode_image(content: bytes, target: tuple[int, int], max_pixels: int) -> npt.NDArray[np.uint8]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        Image.MAX_IMAGE_PIXELS = max_pixels
        img = Image.open(io.BytesIO(content))
        if img.format == "JPEG":
            img.draft("L", (target[1] * 2, target[0] * 2))
        img = _ref_to_grey(ImageOps.exif_transpose(img))
        return np.asarray(img, dtype=np.uint8)


def _ref_to_grey(img: Image.Image) -> Image.Image:
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float32)
        hi = float(arr.max()) or 1.0
        return Image.fromarray((arr * (255.0 / max(hi, 255.0))).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    return img.convert("L")


def _ref_decode_pdf(content: bytes, target: tuple[int, int]) -> npt.NDArray[np.uint8]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(content)
    page = pdf[0]
    width_pt, height_pt = page.get_size()
    scale = min(4.0, max(target[0] * 2 / height_pt, target[1] * 2 / width_pt))
    image = page.render(scale=scale, grayscale=True).to_numpy().copy()
    page.close()
    pdf.close()
    if image.ndim == 3:
        image = image[..., 0] if image.shape[2] == 1 else np.asarray(Image.fromarray(image).convert("L"))
    return np.ascontiguousarray(image, dtype=np.uint8)


def _ref_normalize(image: npt.NDArray[np.uint8], spec: InputSpec) -> npt.NDArray[np.float32]:
    fitted = fit_page(image, spec).astype(np.float32)
    if spec.autocontrast:
        lo, hi = np.percentile(fitted, (1.0, 99.0))
        if hi - lo > 8.0:
            fitted = np.clip((fitted - lo) * (255.0 / (hi - lo)), 0.0, 255.0)
    tensor = (fitted / 255.0 - spec.mean) / spec.std
    return tensor[np.newaxis, :, :].astype(np.float32, copy=False)


# --- the checks --------------------------------------------------------------------------------

FLAVOURS: dict[str, tuple[DocKind, Callable[[], bytes]]] = {
    "jpeg": (DocKind.JPEG, docs.jpeg),
    "jpeg_grey": (DocKind.JPEG, docs.jpeg_grey),
    "jpeg_exif_rotated": (DocKind.JPEG, docs.jpeg_exif_rotated),
    "jpeg_cmyk": (DocKind.JPEG, docs.jpeg_cmyk),
    "png": (DocKind.PNG, docs.png),
    "png_rgb": (DocKind.PNG, docs.png_rgb),
    "png_16bit": (DocKind.PNG, docs.png_16bit),
    "png_palette_alpha": (DocKind.PNG, docs.png_palette_alpha),
    "png_small_palette_alpha": (DocKind.PNG, lambda: docs.png_palette_alpha(docs.page_image((120, 170), mode="RGB"))),
    "pdf": (DocKind.PDF, docs.pdf),
    "pdf_no_text": (DocKind.PDF, lambda: docs.pdf(text_layer=False)),
    "pdf_scanned": (DocKind.PDF, docs.pdf_scanned),
    "pdf_landscape": (DocKind.PDF, lambda: docs.pdf(size=(842, 595))),
    "pdf_rotated": (DocKind.PDF, lambda: docs.pdf(rotate=90)),
}


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_v1_tensor_is_unchanged(flavour: str) -> None:
    kind, make = FLAVOURS[flavour]
    content = make()
    spec = InputSpec()
    target = (spec.height, spec.width)
    page = decode_document(content, Inspection(kind=kind, digest="", size=len(content)), target, 100_000_000)
    ref_image = (
        _ref_decode_pdf(content, target) if kind is DocKind.PDF else _ref_decode_image(content, target, 100_000_000)
    )
    # The decoded pixels themselves are identical, not merely close.
    np.testing.assert_array_equal(page.image, ref_image)
    ours = normalize_page(page, spec)
    ref = _ref_normalize(ref_image, spec)
    assert ours.shape == ref.shape == (1, spec.height, spec.width)
    assert ours.dtype == np.float32
    assert float(np.abs(ours - ref).max()) <= TOLERANCE


def test_v1_defaults_are_unchanged() -> None:
    assert PREPROCESSING_VERSION == "1"
    spec = InputSpec()
    assert (spec.height, spec.width, spec.mean, spec.std, spec.autocontrast) == (256, 192, 0.5, 0.5, True)
