"""Learn-then-Test with a document as the unit (ltt.fit_rule_per_document): a document seen in several
forms (as published and as simulated photos) is one draw, and fails when any form would be wrongly
accepted."""

from __future__ import annotations

import numpy as np
import pytest

from sidecar.risk import CalibrationRecord, fit_rule
from sidecar.risk.ltt import evaluate, fit_rule_per_document


def _docs(rng: np.random.Generator, n: int) -> list[CalibrationRecord]:
    conf = rng.random(n)
    wrong = rng.random(n) < 0.5 * (1 - conf)
    return [
        CalibrationRecord("invoice", "receipt" if w else "invoice", float(c), float(rng.normal()), None, True)
        for c, w in zip(conf, wrong, strict=True)
    ]


def test_one_form_per_document_is_plain_learn_then_test() -> None:
    records = _docs(np.random.default_rng(0), 600)
    plain = fit_rule(records, 0.05, 0.1, ood_threshold=1.0)
    per_doc = fit_rule_per_document([[r] for r in records], 0.05, 0.1, ood_threshold=1.0)
    assert per_doc.proven and plain.proven
    assert per_doc.confidence_threshold == plain.confidence_threshold
    assert per_doc.coverage == plain.coverage


def test_a_wrong_photo_counts_against_its_document_not_as_an_extra_draw() -> None:
    # 400 documents read right at 0.99 as published; three of them photographed and read wrong at 0.95.
    clean = [CalibrationRecord("invoice", "invoice", 0.99) for _ in range(400)]
    photos = [CalibrationRecord("invoice", "receipt", 0.95) for _ in range(3)]
    photos += [CalibrationRecord("invoice", "invoice", 0.9) for _ in range(797)]
    versions = [[c] for c in clean]
    for j, p in enumerate(photos):
        versions[j % 400].append(p)
    per_doc = fit_rule_per_document(versions, 0.01, 0.1)
    # n = 400 documents: three failures cannot be proven below 1 %, so λ stays above their 0.95...
    assert per_doc.proven and per_doc.confidence_threshold > 0.95
    assert evaluate(per_doc, photos)["silent_failures"] == 0
    assert evaluate(per_doc, clean)["coverage"] == 1.0
    # ...while counting the 1 200 forms as independent draws would (wrongly) accept them.
    flat = fit_rule(clean + photos, 0.01, 0.1)
    assert flat.confidence_threshold <= 0.95
    assert evaluate(flat, photos)["silent_failures"] == 3


def test_every_document_needs_a_form() -> None:
    with pytest.raises(ValueError):
        fit_rule_per_document([[CalibrationRecord("invoice", "invoice", 0.9)], []])
