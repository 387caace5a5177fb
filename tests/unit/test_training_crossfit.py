"""Cross-fitting v2.4's head on real documents (training/doctriage_train/crossfit.py): folds keep a
source repository whole, and every document's out-of-fold score comes from a head that never saw
its repository."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("faker")

from doctriage_train.crossfit import Block, HeadConfig, apply_head, cross_fit, fit_head
from doctriage_train.realdocs import group_folds

LABELS = 3


def test_folds_keep_each_repository_whole_and_balance_sizes() -> None:
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(60), rng.integers(1, 9, 60))
    y = rng.integers(0, 4, len(groups))
    folds = group_folds(groups, y, 5)
    for g in np.unique(groups):
        assert len(set(folds[groups == g])) == 1
    sizes = np.bincount(folds, minlength=5)
    assert sizes.min() > 0 and sizes.max() - sizes.min() <= 8
    assert np.array_equal(folds, group_folds(groups, y, 5))  # deterministic


def _blocks(rng: np.random.Generator, repos: int, per_repo: int) -> tuple[Block, np.ndarray]:
    """Pages whose only signal is a feature private to their repository (a layout): a head that saw the
    repository reads the label off it, one that did not can only guess."""
    groups = np.repeat(np.arange(repos), per_repo)
    y = rng.integers(0, LABELS, repos)[groups]
    text = np.zeros((len(groups), repos), np.float32)
    text[np.arange(len(groups)), groups] = 1.0
    n = len(groups)
    block = Block(
        y.astype(np.int64),
        np.zeros((n, LABELS), np.float32),
        np.zeros((n, 2), np.float32),
        text,
        rng.normal(size=(n, 4)).astype(np.float32),
    )
    return block, groups


def test_out_of_fold_scores_never_come_from_a_head_that_saw_the_repository() -> None:
    rng = np.random.default_rng(1)
    real, groups = _blocks(rng, 40, 4)
    synthetic, _ = _blocks(rng, 40, 1)
    synthetic = Block(
        synthetic.y, synthetic.image_logits, synthetic.image_embedding, synthetic.text * 0, synthetic.features
    )
    cfg = HeadConfig(LABELS, np.ones(real.text.shape[1], np.float32), 0, 0.0, 1e-4, 1.0)
    folds = group_folds(groups, real.y, 5)
    photos = real.take(np.arange(len(real)))
    oof, oof_photos = cross_fit(synthetic, real, photos, np.arange(len(real)), folds, (0.2, 0.5, 0.3), cfg)
    assert oof_photos is not None
    in_sample = apply_head(real, fit_head([synthetic, real], (0.2, 0.8), cfg), cfg)[0]
    assert (in_sample.argmax(1) == real.y).mean() > 0.95  # the repository feature gives the label away...
    assert (oof.argmax(1) == real.y).mean() < 0.6  # ...but not to a head that never saw the repository
    assert (oof_photos.argmax(1) == real.y).mean() < 0.6  # a photo sits in its document's fold


def test_a_real_page_is_reshot_as_a_deterministic_decodable_phone_photo() -> None:
    pytest.importorskip("cv2")
    from doctriage_train.dataset import inspect, preprocess
    from doctriage_train.generator import generate
    from doctriage_train.realdocs import shoot

    pdf = generate("invoice", 2, 0).pdf
    assert pdf is not None
    first, again, other = shoot(pdf, "k", 0), shoot(pdf, "k", 0), shoot(pdf, "k", 1)
    assert first is not None and first == again and first != other
    assert first[:3] == b"\xff\xd8\xff"  # a JPEG upload, as a phone sends it
    tensor, page = preprocess(first, inspect(first))
    assert tensor.shape == (1, 256, 192) and page.text is None  # no text layer survives a camera
    assert shoot(b"not a document", "k", 0) is None
