"""normalize_page: shapes, ranges, the optional RGB and deskew steps, batching."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from sidecar.domain import DocKind, Inspection, Page
from sidecar.pipeline.decode import decode_document
from sidecar.pipeline.normalize import (
    PREPROCESSING_VERSION,
    SUPPORTED_PREPROCESSING_VERSIONS,
    InputSpec,
    estimate_skew,
    fit_page,
    normalize_page,
    to_batch,
)
from tests import fixtures_docs as docs


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
