"""decode_document on real files of every flavour, and on broken and hostile ones."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from harness import documents as docs
from sidecar.domain import DocKind, Inspection, Page
from sidecar.errors import InvalidDocument, Reason
from sidecar.pipeline.decode import decode_document

TARGET = (256, 192)
MAX_PIXELS = 100_000_000


def decode(content: bytes, kind: DocKind, **kwargs: object) -> Page:
    return decode_document(content, Inspection(kind=kind, digest="", size=len(content)), TARGET, MAX_PIXELS, **kwargs)  # type: ignore[arg-type]


def top_half_ink(page: Page) -> float:
    """Share of the page's ink in its top half: the sample page has its text at the top."""
    ink = 255.0 - page.image.astype(np.float32)
    if ink.ndim == 3:
        ink = ink.mean(axis=2)
    half = ink.shape[0] // 2
    return float(ink[:half].sum() / ink.sum())


def red_block_is_top_right(page: Page) -> bool:
    """The logo block sits in the top-right corner of the upright page."""
    rgb = page.image.astype(np.int16)
    red = (rgb[..., 0] > 150) & (rgb[..., 1] < 90) & (rgb[..., 2] < 90)
    ys, xs = np.nonzero(red)
    h, w = red.shape
    return bool(len(ys) > 50 and ys.mean() < h / 4 and xs.mean() > w * 3 / 4)


# --- JPEG ----------------------------------------------------------------------------------------


def test_jpeg_is_decoded_in_draft_mode_at_about_twice_the_model_size() -> None:
    page = decode(docs.jpeg(), DocKind.JPEG)
    assert page.image.dtype == np.uint8 and page.image.ndim == 2
    # 2480x3508 at 1/4 scale: enough to cover 2x the 192x256 target, far less than full size.
    assert page.image.shape == (877, 620)
    assert (page.source_width, page.source_height) == docs.A4_300DPI
    assert top_half_ink(page) > 0.6


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_rotated_jpeg_comes_out_upright(orientation: int) -> None:
    page = decode(docs.jpeg_exif_rotated(orientation=orientation), DocKind.JPEG, mode="RGB")
    assert page.image.shape[0] > page.image.shape[1], "portrait page"
    assert (page.source_width, page.source_height) == docs.A4_300DPI
    assert red_block_is_top_right(page)
    assert top_half_ink(page) > 0.6


def test_cmyk_jpeg_decodes_to_the_same_grey_page_as_rgb() -> None:
    cmyk = decode(docs.jpeg_cmyk(), DocKind.JPEG)
    rgb = decode(docs.jpeg(), DocKind.JPEG)
    assert cmyk.image.shape == rgb.image.shape
    # Not inverted (Adobe CMYK is stored inverted) and close to the RGB rendition of the page.
    assert cmyk.image.mean() > 200
    assert np.abs(cmyk.image.astype(np.int16) - rgb.image).mean() < 6


def test_cmyk_jpeg_in_rgb_mode_keeps_its_colours() -> None:
    page = decode(docs.jpeg_cmyk(), DocKind.JPEG, mode="RGB")
    assert page.image.shape[2] == 3
    assert red_block_is_top_right(page)


def test_grey_jpeg() -> None:
    page = decode(docs.jpeg_grey(), DocKind.JPEG)
    assert page.image.ndim == 2 and page.image.mean() > 200


# --- PNG -----------------------------------------------------------------------------------------


def test_sixteen_bit_png_keeps_its_full_range() -> None:
    page = decode(docs.png_16bit(), DocKind.PNG)
    grey = decode(docs.png(), DocKind.PNG)
    assert page.image.dtype == np.uint8
    assert page.image.max() == 255 and page.image.min() == 0
    assert np.abs(page.image.astype(np.int16) - grey.image).max() <= 1


def test_palette_png_with_transparent_paper_reads_as_white_paper() -> None:
    page = decode(docs.png_palette_alpha(), DocKind.PNG)
    assert page.image.mean() > 200, "transparent paper must not turn black"
    assert top_half_ink(page) > 0.6


def test_palette_png_with_alpha_in_rgb_mode() -> None:
    page = decode(docs.png_palette_alpha(), DocKind.PNG, mode="RGB")
    assert page.image.shape[2] == 3
    assert red_block_is_top_right(page)


def test_rgba_and_la_pngs_are_flattened_on_white() -> None:
    rgba = Image.new("RGBA", (300, 400), (0, 0, 0, 0))
    page = decode(docs.encode(rgba, "PNG"), DocKind.PNG)
    assert page.image.min() == 255
    la = Image.new("LA", (300, 400), (0, 0))
    assert decode(docs.encode(la, "PNG"), DocKind.PNG).image.min() == 255


def test_one_bit_png() -> None:
    page = decode(docs.encode(docs.page_image(size=(620, 877)).convert("1"), "PNG"), DocKind.PNG)
    assert set(np.unique(page.image)) <= {0, 255}


# --- PDF -----------------------------------------------------------------------------------------


def test_pdf_text_layer_and_page_count() -> None:
    page = decode(docs.pdf(pages=3), DocKind.PDF)
    assert page.page_count == 3
    assert page.text is not None and "INVOICE 2024-0042" in page.text and "Page 1 of 3" in page.text
    # Rendered for the model's size (twice its height), not at print resolution.
    assert page.image.shape == (544, 384)
    assert (page.source_width, page.source_height) == (round(595 / 72 * 150), round(842 / 72 * 150))


def test_pdf_without_text_layer_has_no_text() -> None:
    page = decode(docs.pdf(text_layer=False), DocKind.PDF)
    assert page.text is None
    assert page.image.min() < 100, "the drawings are rendered"


def test_scanned_pdf_renders_its_image_and_has_no_text() -> None:
    page = decode(docs.pdf_scanned(pages=2), DocKind.PDF)
    assert page.text is None and page.page_count == 2
    assert top_half_ink(page) > 0.6


def test_pdf_rgb_mode() -> None:
    page = decode(docs.pdf(), DocKind.PDF, mode="RGB")
    assert page.image.ndim == 3 and page.image.shape[2] == 3
    assert red_block_is_top_right(page)


def test_pdf_with_too_many_objects_is_refused_before_rendering() -> None:
    with pytest.raises(InvalidDocument) as err:
        decode(docs.pdf_vector_heavy(paths=5_000), DocKind.PDF, pdf_max_objects=1_000)
    assert err.value.reason is Reason.MALFORMED
    assert err.value.metadata["cause"] == "complexity"


def test_pdf_render_is_abandoned_at_its_time_limit() -> None:
    content = docs.pdf_vector_heavy(paths=200_000)
    with pytest.raises(InvalidDocument) as err:
        decode(content, DocKind.PDF, pdf_time_limit_s=0.05, pdf_max_objects=1_000_000)
    assert err.value.reason is Reason.MALFORMED
    assert err.value.metadata["cause"] == "render_time"
    # ... and PDFium is left usable: the next document renders.
    assert decode(docs.pdf(), DocKind.PDF).text is not None


def test_pdf_renders_concurrently_without_pdfium_errors() -> None:
    content = docs.pdf(pages=2)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                assert decode(content, DocKind.PDF).page_count == 2
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_encrypted_pdf_without_a_user_password_is_read() -> None:
    page = decode(docs.pdf_encrypted(), DocKind.PDF)
    assert page.text is not None and docs.SAMPLE_LINES[0] in page.text
    assert top_half_ink(page) > 0.6


def test_pdf_that_needs_a_password_is_encrypted_not_malformed() -> None:
    with pytest.raises(InvalidDocument) as caught:
        decode(docs.pdf_encrypted(user_password="secret"), DocKind.PDF)
    assert caught.value.reason is Reason.ENCRYPTED
    assert "password" in caught.value.message


# --- failures: always InvalidDocument, never an internal error ------------------------------------


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        (DocKind.JPEG, docs.jpeg()[:2000]),
        (DocKind.JPEG, b"\xff\xd8\xff\xe0" + b"\x00" * 100),
        (DocKind.PNG, docs.png()[:500]),
        (DocKind.PNG, b"\x89PNG\r\n\x1a\n" + b"garbage" * 10),
        (DocKind.PDF, b"%PDF-1.7\n" + b"garbage" * 10),
        (DocKind.PDF, docs.pdf()[:300]),
        (DocKind.PDF, b""),
    ],
    ids=[
        "jpeg-truncated",
        "jpeg-garbage",
        "png-truncated",
        "png-garbage",
        "pdf-garbage",
        "pdf-truncated",
        "empty",
    ],
)
def test_broken_documents_are_malformed(kind: DocKind, content: bytes) -> None:
    with pytest.raises(InvalidDocument) as err:
        decode(content, kind)
    assert err.value.reason is Reason.MALFORMED


def test_pixel_limit_is_enforced_before_decoding() -> None:
    content = docs.png(Image.new("L", (4000, 4000), 255))
    with pytest.raises(InvalidDocument) as err:
        decode_document(content, Inspection(kind=DocKind.PNG, digest="", size=len(content)), TARGET, 1_000_000)
    assert err.value.reason is Reason.DECOMPRESSION_BOMB


def test_pdf_with_an_absurd_page_size_stays_within_the_pixel_limit() -> None:
    content = docs.pdf(size=(20, 14_000))
    page = decode_document(content, Inspection(kind=DocKind.PDF, digest="", size=len(content)), TARGET, 1_000_000)
    assert page.image.size <= 1_000_000


def test_pdf_page_rotation_is_applied() -> None:
    page = decode(docs.pdf(rotate=90), DocKind.PDF)
    assert page.image.shape[1] > page.image.shape[0], "a portrait page rotated by 90 degrees renders landscape"
    assert page.text is not None and "INVOICE" in page.text
