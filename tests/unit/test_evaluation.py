"""`doctriage-admin eval` metrics: definitions checked on hand-made results."""

from __future__ import annotations

from pathlib import Path

import pytest

from sidecar.tools.evaluation import Result, evaluate, format_report, reliability_diagram, wilson_interval

RESULTS: list[Result] = [
    ("invoice", "invoice", 0.95, "ACCEPTED", {}),
    ("invoice", "receipt", 0.90, "ACCEPTED", {}),  # silent failure
    ("receipt", "receipt", 0.70, "HUMAN_REVIEW", {}),
    ("other", "invoice", 0.88, "ACCEPTED", {}),  # out-of-scope accepted: silent failure
    ("other", "other", 0.99, "HUMAN_REVIEW", {}),
    ("letter", "letter", 0.65, "ACCEPTED_AFTER_RULES", {}),
    ("letter", "invoice", 0.40, "REJECTED", {}),
    ("payslip", "payslip", 0.99, "ACCEPTED", {}),
]


def test_headline_metrics() -> None:
    r = evaluate(RESULTS)
    assert r["documents"] == 8
    assert r["accuracy"] == pytest.approx(5 / 8)
    assert r["auto_accept_coverage"] == pytest.approx(5 / 8)
    # of the 6 documents of a known type, 4 were accepted (the accepted `other` is not among them)
    assert r["in_scope_documents"] == 6 and r["in_scope_coverage"] == pytest.approx(4 / 6)
    assert r["silent_failure_rate"] == pytest.approx(2 / 8)
    assert r["accepted_accuracy"] == pytest.approx(3 / 5)
    assert r["review_rate"] == pytest.approx(2 / 8)
    assert r["rejected_rate"] == pytest.approx(1 / 8)
    assert r["other_documents"] == 2
    assert r["other_accepted_rate"] == pytest.approx(0.5)
    assert r["decisions"] == {"ACCEPTED": 4, "HUMAN_REVIEW": 2, "ACCEPTED_AFTER_RULES": 1, "REJECTED": 1}
    lo, hi = r["accuracy_ci95"]
    assert lo < 5 / 8 < hi


def test_per_class_and_confusion_matrix() -> None:
    r = evaluate(RESULTS)
    assert r["labels"] == ["invoice", "receipt", "payslip", "letter", "other"]  # canonical order
    inv = r["per_class"]["invoice"]
    assert inv["precision"] == pytest.approx(1 / 3) and inv["recall"] == pytest.approx(1 / 2) and inv["support"] == 2
    m = r["confusion_matrix"]
    i = r["labels"].index
    assert m[i("invoice")][i("receipt")] == 1
    assert m[i("other")][i("invoice")] == 1
    assert sum(map(sum, m)) == 8


def test_explicit_labels_keep_empty_classes() -> None:
    r = evaluate(RESULTS[:1], labels=["invoice", "tax_form"])
    assert r["per_class"]["tax_form"] == {"precision": 0.0, "recall": 0.0, "support": 0, "predicted": 0}
    assert r["confusion_matrix"] == [[1, 0], [0, 0]]


def test_ece() -> None:
    calibrated: list[Result] = [("a", "a" if i % 5 else "b", 0.8, "ACCEPTED", {}) for i in range(100)]
    assert evaluate(calibrated)["ece"] == pytest.approx(0.0, abs=1e-9)
    over: list[Result] = [("a", "a" if i % 2 else "b", 1.0, "ACCEPTED", {}) for i in range(100)]
    assert evaluate(over)["ece"] == pytest.approx(0.5)
    assert sum(b["count"] for b in evaluate(over)["reliability"]) == 100


def test_empty_input() -> None:
    r = evaluate([])
    assert r["documents"] == 0 and r["accuracy"] == 0.0 and r["other_accepted_rate"] == 0.0


def test_wilson_interval() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    lo, hi = wilson_interval(80, 87)
    assert 0.83 < lo < 0.86 and 0.95 < hi < 0.97
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)


def test_reliability_diagram_writes_a_png(tmp_path: Path) -> None:
    pytest.importorskip("PIL")
    path = reliability_diagram(RESULTS, tmp_path / "sub" / "rel.png", title="test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "accuracy" in format_report(evaluate(RESULTS))
