"""What training measures and reports: each set's metrics through the sidecar's own `decide()` and
`sidecar.tools.evaluation.evaluate`, the held-out synthetic test groups (clean, degraded, unseen types),
the image encoder's latency, and a quality report's headline figures for the log."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from doctriage_train import LABELS
from doctriage_train.config import THRESHOLDS, Scored
from doctriage_train.dataset import Dataset
from doctriage_train.generator import UNSEEN_GENRES
from sidecar.decision.decide import decide
from sidecar.domain import Prediction
from sidecar.models.calibration import calibrate, ood_score
from sidecar.tools.evaluation import Result, evaluate


def decisions(
    probs: npt.NDArray[np.float64], ood: npt.NDArray[np.float64], cuts: npt.NDArray[np.float64]
) -> list[tuple[int, float, str]]:
    """(predicted index, confidence, decision name) per row, through the sidecar's own decide();
    `cuts`: each row's OOD threshold."""
    out = []
    for row, score, cut in zip(probs, ood, cuts, strict=True):
        best = int(np.argmax(row))
        pred = Prediction(
            label=LABELS[best],
            confidence=float(row[best]),
            scores={},
            model_name="",
            model_version="",
            ood_score=float(score),
            is_ood=bool(score > cut),
        )
        out.append((best, float(row[best]), decide(pred, THRESHOLDS).kind.value))
    return out


def metrics(
    y: npt.NDArray[np.int64],
    scored: Scored,
    calibration: dict[str, Any],
    ood: dict[str, Any],
    ood_cuts: npt.NDArray[np.float64] | None = None,
) -> dict[str, Any]:
    """`ood_cuts`: per-row OOD thresholds (cross-validated ones) instead of the manifest's."""
    probs = calibrate(scored.logits, calibration)
    scores = ood_score(scored.logits, scored.embedding, ood)
    cuts = ood_cuts if ood_cuts is not None else np.full(len(scores), float(ood["threshold"]))
    dec = decisions(probs, scores, cuts)
    results: list[Result] = [(LABELS[t], LABELS[p], c, d, {}) for t, (p, c, d) in zip(y.tolist(), dec, strict=True)]
    rep = evaluate(results, labels=LABELS)
    keep = (
        "documents",
        "accuracy",
        "accuracy_ci95",
        "auto_accept_coverage",
        "in_scope_coverage",
        "silent_failure_rate",
        "review_rate",
        "other_documents",
        "other_accepted_rate",
        "ece",
        "accepted_accuracy",
    )
    out = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in rep.items() if k in keep}
    out["accuracy_ci95"] = [round(v, 4) for v in rep["accuracy_ci95"]]
    out["ood_flagged_rate"] = round(float((scores > cuts).mean()), 4) if len(scores) else 0.0
    out["per_class_recall"] = {k: round(float(v["recall"]), 3) for k, v in rep["per_class"].items()}
    out["confusion_matrix"] = rep["confusion_matrix"]
    return out


def _groups(ds: Dataset, idx: npt.NDArray[np.intp]) -> dict[str, npt.NDArray[np.intp]]:
    unseen = np.isin(ds.genre[idx], UNSEEN_GENRES)
    clean = (ds.variant[idx] == "pdf") & ~unseen
    return {
        "clean": idx[clean],
        "degraded": idx[(ds.variant[idx] != "pdf") & ~unseen],
        "unseen_types": idx[unseen],
        "all": idx,
    }


def image_groups(
    ds: Dataset, te: npt.NDArray[np.intp], scored: Scored, calibration: dict[str, Any], ood: Any
) -> dict[str, Any]:
    """An image model's test groups (clean, degraded, unseen types, all)."""
    return {
        g: metrics(ds.y[i], Scored(scored.logits[i], scored.embedding[i]), calibration, ood)
        for g, i in _groups(ds, te).items()
    }


def v24_groups(
    ds: Dataset, te: npt.NDArray[np.intp], f_all: Scored, f_none: Scored, calibration: dict[str, Any], ood: Any
) -> dict[str, Any]:
    """v2.4's test groups: every page with its text (text layer or OCR read-back) as served, and the
    photos/scans once more without any text."""
    groups = _groups(ds, te)
    has_ocr = np.array([bool(o) for o in ds.ocr])
    deg = groups["degraded"]

    def m(s: Scored, i: npt.NDArray[np.intp]) -> dict[str, Any]:
        return metrics(ds.y[i], Scored(s.logits[i], s.embedding[i]), calibration, ood)

    return {
        "clean": m(f_all, groups["clean"]),
        "degraded": m(f_all, deg),
        "degraded_with_ocr": m(f_all, deg[has_ocr[deg]]),
        "degraded_image_only": m(f_none, deg),
        "unseen_types": m(f_all, groups["unseen_types"]),
        "all": m(f_all, te),
    }


def encoder_latency_ms(encoder: Any, repeats: int = 20) -> dict[str, float | str]:
    """The image encoder's CPU ms per page at batch 1 (median and best), as serving runs it."""
    from sidecar.models.image_encoder import reference_pages

    page = reference_pages()[1][1:2]
    for _ in range(2):
        encoder.encode(page)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        encoder.encode(page)
        times.append((time.perf_counter() - t) * 1000)
    return {
        "batch1_ms_per_doc": round(float(np.median(times)), 2),
        "batch1_ms_per_doc_min": round(float(np.min(times)), 2),
        "note": "ONNX Runtime CPU, as configured for training (models.intra_op_threads in serving)",
    }


def headline(quality: dict[str, Any]) -> dict[str, Any]:
    """The figures of a quality report the training log prints."""
    keys: Sequence[str] = (
        "accuracy",
        "ece",
        "auto_accept_coverage",
        "in_scope_coverage",
        "silent_failure_rate",
        "other_accepted_rate",
    )
    out: dict[str, Any] = {}
    for group, m in quality.get("synthetic_test_heldout_layouts", {}).items():
        out[group] = {k: m[k] for k in keys}
    if "real_docs" in quality:
        out["real_docs"] = {k: quality["real_docs"][k] for k in keys}
    return out
