"""The analysis core (sidecar/pipeline/analysis.py) on real files: each stage at most once, the facts
the business rules see (request metadata included), and the stages' settings applied."""

from __future__ import annotations

import time

import numpy as np
import pytest

from harness.documents import jpeg, pdf, pdf_vector_heavy
from sidecar.config import Settings, ValidationSettings
from sidecar.domain import Document, InputSpec
from sidecar.errors import InvalidDocument, Reason
from sidecar.pipeline.analysis import Stages
from sidecar.pipeline.rules import RuleBook

RULES = RuleBook.from_dict(
    {
        "labels": {
            "invoice": {"require": ["amount"], "min_pages": 1, "metadata": [{"key": "channel", "one_of": ["web"]}]},
            "letter": {"max_pages": 1},
        }
    }
)


def stages(**sections: object) -> Stages:
    return Stages(Settings(ocr={"enabled": False}, **sections), RULES)  # type: ignore[arg-type]


def test_each_stage_runs_once_and_a_decode_serves_every_spec_of_its_size() -> None:
    analysis = stages().analyse(Document(pdf(), "a.pdf"))
    a, b = InputSpec(), InputSpec(autocontrast=False, crop_page=True)
    first = analysis.tensor(a)
    decoded = dict(analysis.timings)
    assert {"validate", "decode", "normalize"} <= set(decoded)
    assert analysis.tensor(a) is first  # memoized: nothing ran again
    assert analysis.timings == decoded
    second = analysis.tensor(b)
    assert len(analysis.pages) == 1 and len(analysis.tensors) == 2  # one decode, two normalizations
    assert analysis.timings["decode"] == decoded["decode"] and analysis.timings["normalize"] > decoded["normalize"]
    assert first.shape == second.shape and not np.array_equal(first, second)
    analysis.tensor(InputSpec(height=128, width=96))
    assert len(analysis.pages) == 2  # another size decodes again


def test_text_comes_from_the_pdf_text_layer_without_ocr() -> None:
    analysis = stages().analyse(Document(pdf(), "a.pdf"))
    text = analysis.read_text()
    assert text is not None and "Amount due: 1250.00 EUR" in text
    assert analysis.text_known and "ocr" not in analysis.timings
    assert analysis.read_text() is text


def test_an_image_without_ocr_has_no_text_and_rules_that_need_it_fail() -> None:
    analysis = stages().analyse(Document(jpeg(), "a.jpg", metadata={"channel": "web"}))
    assert analysis.findings("invoice", fetch_text=False) is None  # not free: the page was never decoded
    findings = analysis.findings("invoice", fetch_text=True)
    assert findings is not None and [(f.rule, f.passed) for f in findings] == [("invoice.text", False)]
    assert analysis.read_text() is None and analysis.text_known


def test_findings_see_the_request_metadata_and_the_page() -> None:
    for channel, passed in (("web", True), ("fax", False)):
        analysis = stages().analyse(Document(pdf(pages=2), "a.pdf", metadata={"channel": channel}))
        analysis.tensor(InputSpec())
        findings = analysis.findings("invoice", fetch_text=False)  # the text layer is free once decoded
        assert findings is not None
        by_rule = {f.rule: f.passed for f in findings}
        assert by_rule == {"invoice.amount": True, "invoice.pages": True, "invoice.metadata.channel": passed}
        letter = analysis.findings("letter", fetch_text=False)
        assert letter is not None and [(f.rule, f.passed) for f in letter] == [("letter.pages", False)]
    assert stages().analyse(Document(pdf(), "a.pdf")).findings("receipt", fetch_text=True) is None  # no rules


def test_validation_uses_the_stages_settings_and_refuses_with_a_reason() -> None:
    content = jpeg()
    small = stages(validation=ValidationSettings(max_bytes=len(content) - 1))
    with pytest.raises(InvalidDocument) as refused:
        small.analyse(Document(content, "a.jpg")).tensor(InputSpec())
    assert refused.value.reason is Reason.TOO_LARGE
    assert stages().analyse(Document(content, "a.jpg")).validate().size == len(content)


def test_the_pdf_limits_apply_and_a_passed_deadline_bounds_the_render() -> None:
    heavy = pdf_vector_heavy()  # 200 000 vector paths: far more than the 10 ms left past a deadline
    with pytest.raises(InvalidDocument) as refused:
        stages().analyse(Document(heavy, "a.pdf")).tensor(InputSpec())
    assert refused.value.metadata["cause"] == "complexity"  # over the default 100 000 objects
    lenient = stages(preprocess={"pdf_max_objects": 1_000_000, "pdf_render_timeout_s": 60.0})
    with pytest.raises(InvalidDocument) as refused:
        lenient.analyse(Document(heavy, "a.pdf", deadline=time.monotonic() - 1)).tensor(InputSpec())
    assert refused.value.reason is Reason.MALFORMED and refused.value.metadata["cause"] == "render_time"


def test_a_fork_shares_what_is_known_but_not_the_timings() -> None:
    analysis = stages().analyse(Document(pdf(), "a.pdf"))
    tensor = analysis.tensor(InputSpec())
    analysis.read_text()
    fork = analysis.fork()
    assert fork.tensor(InputSpec()) is tensor and fork.text == analysis.text and fork.timings == {}
    fork.tensor(InputSpec(height=64, width=48))
    assert len(fork.pages) == 2 and len(analysis.pages) == 1
