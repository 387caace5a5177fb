"""normalize_page: shapes, ranges, the optional RGB, deskew and page-crop steps, batching."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from harness import documents as docs
from sidecar.domain import PREPROCESSING_VERSION, SUPPORTED_PREPROCESSING_VERSIONS, DocKind, InputSpec, Inspection, Page
from sidecar.pipeline.decode import decode_document
from sidecar.pipeline.normalize import crop_to_page, estimate_skew, fit_page, normalize_page, page_box, to_batch


def page_of(img: Image.Image) -> Page:
    arr = np.asarray(img, dtype=np.uint8)
    return Page(image=arr, source_width=arr.shape[1], source_height=arr.shape[0])


def test_grey_tensor_shape_range_and_paper() -> None:
    spec = InputSpec()
    tensor = normalize_page(page_of(docs.page_image(size=(620, 877))), spec)
    assert tensor.shape == (1, 256, 192) and tensor.dtype == np.float32
    assert tensor.flags.c_contiguous
    assert -1.0 <= tensor.min() < -0.5 and tensor.max() == 1.0  # ink near black, paper white


def test_fit_page_keeps_aspect_and_pads_with_white() -> None:
    wide = np.zeros((100, 400), dtype=np.uint8)  # a black landscape strip
    fitted = fit_page(wide, InputSpec())
    assert fitted.shape == (256, 192)
    rows = np.nonzero(fitted.min(axis=1) < 128)[0]
    assert len(rows) == 48  # 100 * 192/400, centred
    assert fitted[0].min() == 255 and fitted[-1].min() == 255


def test_autocontrast_stretches_a_faded_scan() -> None:
    faded = np.asarray(docs.page_image(size=(620, 877)), dtype=np.float32) * 0.4 + 120  # grey ink on grey paper
    page = page_of(Image.fromarray(faded.astype(np.uint8)))
    on = normalize_page(page, InputSpec())
    off = normalize_page(page, InputSpec(autocontrast=False))
    assert on.max() - on.min() > 1.9
    assert off.max() - off.min() < 0.9


def test_rgb_spec_gives_three_channels() -> None:
    spec = InputSpec(channels=3)
    content = docs.jpeg()
    page = decode_document(
        content, Inspection(kind=DocKind.JPEG, digest="", size=len(content)), (256, 192), 10**8, mode="RGB"
    )
    tensor = normalize_page(page, spec)
    assert tensor.shape == (3, 256, 192)
    # The red logo: red channel bright, green dark, in the top-right area.
    region = tensor[:, 5:40, 120:190]
    assert (region[0] - region[1]).max() > 1.0
    # A grey page under an RGB spec is replicated into three equal channels.
    grey = normalize_page(page_of(docs.page_image(size=(620, 877))), spec)
    assert np.array_equal(grey[0], grey[1]) and np.array_equal(grey[1], grey[2])


def test_grey_spec_accepts_an_rgb_page() -> None:
    tensor = normalize_page(page_of(docs.page_image(size=(620, 877), mode="RGB")), InputSpec())
    assert tensor.shape == (1, 256, 192)


@pytest.mark.parametrize("angle", [-3.0, 2.0, 4.0])
def test_deskew_finds_the_angle_of_a_rotated_page(angle: float) -> None:
    page = docs.page_image(size=(1240, 1754))
    rotated = page.rotate(angle, Image.Resampling.BILINEAR, fillcolor=255)
    assert abs(estimate_skew(np.asarray(rotated)) + angle) <= 0.5
    assert abs(estimate_skew(np.asarray(page))) <= 0.5


def test_deskew_brings_the_tensor_back_towards_the_straight_page() -> None:
    straight = docs.page_image(size=(1240, 1754))
    rotated = page_of(straight.rotate(3.0, Image.Resampling.BILINEAR, fillcolor=255))
    reference = normalize_page(page_of(straight), InputSpec())
    plain = normalize_page(rotated, InputSpec())
    fixed = normalize_page(rotated, InputSpec(deskew=True))
    assert np.abs(fixed - reference).mean() < 0.6 * np.abs(plain - reference).mean()


def test_deskew_is_off_in_version_1() -> None:
    assert PREPROCESSING_VERSION in SUPPORTED_PREPROCESSING_VERSIONS
    assert InputSpec().deskew is False and InputSpec().channels == 1


def photographed(
    sheet: Image.Image, frame: tuple[int, int], at: tuple[int, int], background: int = 60, angle: float = 0.0
) -> npt.NDArray[np.uint8]:
    """`sheet` lying on a darker, slightly uneven surface in a `frame` (w, h) photo, top-left at `at`."""
    rng = np.random.default_rng(1)
    table = (background + rng.normal(0, 6, (frame[1], frame[0]))).clip(0, 255).astype(np.uint8)
    photo = Image.fromarray(table)
    turned = sheet.convert("L").rotate(angle, Image.Resampling.BILINEAR, expand=True, fillcolor=0)
    mask = Image.new("L", sheet.size, 255).rotate(angle, Image.Resampling.BILINEAR, expand=True, fillcolor=0)
    photo.paste(turned, at, mask)
    return np.asarray(photo)


@pytest.mark.parametrize("angle", [0.0, 4.0])
def test_page_crop_cuts_the_sheet_out_of_a_photo(angle: float) -> None:
    sheet = docs.page_image(size=(400, 566))
    photo = photographed(sheet, (1000, 1200), (300, 350), angle=angle)
    box = page_box(photo)
    assert box is not None
    top, bottom, left, right = box
    # The whole sheet is kept, the table is gone: within the 1 % margin plus the thumbnail's stride (3 px
    # here) and, turned, the rotation's spill (the corner tips may be trimmed).
    spill = 25 if angle else 0
    assert 350 - 15 - spill <= top <= 350 + spill and 350 + 566 - spill <= bottom <= 350 + 566 + 15 + 2 * spill
    assert 300 - 13 - spill <= left <= 300 + spill and 300 + 400 - spill <= right <= 300 + 400 + 13 + 2 * spill
    # The tensor of the photo now looks like the sheet's own, not like a small page on a dark table.
    reference = normalize_page(page_of(sheet), InputSpec())
    plain = normalize_page(page_of(Image.fromarray(photo)), InputSpec())
    cropped = normalize_page(page_of(Image.fromarray(photo)), InputSpec(crop_page=True))
    assert np.abs(cropped - reference).mean() < 0.3 * np.abs(plain - reference).mean()


def test_page_crop_leaves_a_page_that_fills_the_frame_alone() -> None:
    page = np.asarray(docs.page_image(size=(620, 877)))
    assert page_box(page) is None
    assert crop_to_page(page) is page
    # A dark band across the page and a black table header inside it do not cut it either.
    banded = page.copy()
    banded[300:360] = 30
    banded[400:460, 50:570] = 0
    assert page_box(banded) is None
    tensor = normalize_page(page_of(Image.fromarray(banded)), InputSpec(crop_page=True))
    assert np.array_equal(tensor, normalize_page(page_of(Image.fromarray(banded)), InputSpec()))


def test_page_crop_keeps_a_narrow_receipt_whole() -> None:
    receipt = docs.page_image(size=(240, 900), lines=["CAFE", "Latte 3.20", "TOTAL 3.20"])
    photo = photographed(receipt, (800, 1000), (280, 50))
    box = page_box(photo)
    assert box is not None
    top, bottom, left, right = box
    assert top <= 50 and bottom >= 950 and left <= 280 and right >= 520
    assert right - left < 400  # and the table on both sides is cut away


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((1, 1), np.uint8),
        np.zeros((3, 2), np.uint8),
        np.full((50, 40), 255, np.uint8),
        np.zeros((300, 200), np.uint8),
        np.random.default_rng(0).integers(0, 256, (300, 200), dtype=np.uint8),
        np.zeros((20, 5000), np.uint8),
        np.full((64, 64, 3), 200, np.uint8),
    ],
    ids=["1x1", "3x2", "white", "black", "noise", "sliver", "rgb-flat"],
)
def test_page_crop_finds_no_sheet_where_there_is_none(image: npt.NDArray[np.uint8]) -> None:
    assert page_box(image) is None
    tensor = normalize_page(page_of(Image.fromarray(image)), InputSpec(crop_page=True))
    assert tensor.shape == (1, 256, 192) and np.isfinite(tensor).all()


def test_page_crop_reads_rgb_photos_and_is_off_in_version_1() -> None:
    assert InputSpec().crop_page is False
    sheet = docs.page_image(size=(400, 566), mode="RGB")
    grey = photographed(sheet, (1000, 1200), (300, 350))
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    assert page_box(rgb) == page_box(grey) is not None
    assert normalize_page(page_of(Image.fromarray(rgb)), InputSpec(crop_page=True, channels=3)).shape == (3, 256, 192)


def test_to_batch_is_nchw_float32() -> None:
    t = normalize_page(page_of(docs.page_image(size=(310, 438))), InputSpec())
    batch = to_batch([t, t, t])
    assert batch.shape == (3, 1, 256, 192) and batch.dtype == np.float32 and batch.flags.c_contiguous
    with pytest.raises(ValueError):
        to_batch([])


def test_input_spec_from_manifest_ignores_unknown_keys_and_rejects_nonsense() -> None:
    spec = InputSpec.from_manifest({"height": 320, "width": 240, "channels": 3, "preprocessing_version": "1"})
    assert (spec.height, spec.width, spec.channels, spec.decode_mode) == (320, 240, 3, "RGB")
    with pytest.raises(ValueError):
        InputSpec(channels=2)
    with pytest.raises(ValueError):
        InputSpec(std=0.0)
