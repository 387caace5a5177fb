"""v2.4's acceptance rule (Learn-then-Test, sidecar.risk.ltt), proven on the out-of-fold scores of the
real documents and their simulated photos, and written to the acceptance-rule file (`prove_rule`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from doctriage_train import LABELS
from doctriage_train.config import Scored
from sidecar.models.calibration import calibrate, ood_score


def _records(docs: Any, scored: Scored, calibration: dict[str, Any], ood: dict[str, Any]) -> list[Any]:
    """Each document's CalibrationRecord as the sidecar would decide on it: calibrated confidence,
    OOD score, and the business rules of the predicted label on the text serving reads."""
    from sidecar.config import Settings
    from sidecar.pipeline.rules import DocumentFacts, RuleBook
    from sidecar.risk.ltt import CalibrationRecord

    book = RuleBook.load(Settings().business_rules.path)
    probs = calibrate(scored.logits, calibration)
    scores = ood_score(scored.logits, scored.embedding, ood)
    out = []
    for i, text in enumerate(docs.served_text()):
        best = int(np.argmax(probs[i]))
        label = LABELS[best]
        passed = None
        if book.has_rules(label):
            facts = DocumentFacts(text or None, docs.page_count[i], docs.aspect[i])
            findings = book.evaluate(label, facts)
            passed = all(f.passed for f in findings) if findings else None
        out.append(
            CalibrationRecord(LABELS[int(docs.y[i])], label, float(probs[i, best]), float(scores[i]), None, passed)
        )
    return out


# The α values tried for v2.4's acceptance rule, smallest first; the smallest one proven is shipped.
RULE_ALPHAS = (0.005, 0.01, 0.02, 0.03, 0.05)
RULE_DELTA = 0.10


def prove_rule(
    real: Any,
    real_oof: Scored,
    photos: Any,
    photo_oof: Scored | None,
    calibration: dict[str, Any],
    ood: dict[str, Any],
    rule_file: Path,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """v2.4's acceptance rule (Learn-then-Test) from the out-of-fold scores, one document one draw
    (ltt.fit_rule_per_document: a document fails when it, or any simulated photo of it, would be
    wrongly accepted), for each α of RULE_ALPHAS; the smallest α proven is written to `rule_file`
    (the other versions' rules there are kept). Returns what each α gives on the documents as
    published and on the photos."""
    from sidecar.risk.ltt import evaluate, fit_rule_per_document
    from sidecar.risk.rulefile import write_config

    clean = _records(real, real_oof, calibration, ood)
    shots = _records(photos, photo_oof, calibration, ood) if photos is not None and photo_oof is not None else []
    versions: list[list[Any]] = [[r] for r in clean]
    for j, rec in enumerate(shots):
        versions[int(photos.origin[j])].append(rec)
    in_scope = [r for r in clean if r.true_label != "other"]
    shots_in = [r for r in shots if r.true_label != "other"]
    tried: dict[str, Any] = {}
    chosen = None
    for alpha in RULE_ALPHAS:
        rule = fit_rule_per_document(
            versions,
            alpha,
            RULE_DELTA,
            ood_threshold=float(ood["threshold"]),
            gate_options=((False, False), (False, True)),
            model_version="2.4",
        )
        row: dict[str, Any] = {"proven": rule.proven, "rule": rule.describe()}
        for name, recs, scope in (("clean", clean, in_scope), ("photos", shots, shots_in)):
            if not recs:
                continue
            ev = evaluate(rule, recs)
            row[name] = {
                "documents": len(recs),
                "accepted": int(ev["accepted"]),
                "wrong_and_accepted": int(ev["silent_failures"]),
                "silent_failure_rate": round(ev["silent_failure_rate"], 4),
                "coverage": round(ev["coverage"], 4),
                "in_scope_coverage": round(evaluate(rule, scope)["coverage"], 4) if scope else 0.0,
                "other_accepted": int(evaluate(rule, [r for r in recs if r.true_label == "other"])["accepted"]),
            }
        tried[f"{alpha:g}"] = row
        log(f"  rule at alpha {alpha:g}: {json.dumps(row)}")
        if chosen is None and rule.proven:
            chosen = (alpha, rule)
    summary: dict[str, Any] = {
        "delta": RULE_DELTA,
        "unit": "document (as published or any simulated photo)",
        "by_alpha": tried,
    }
    if chosen is not None:
        alpha, rule = chosen
        source = {
            "mode": "crossfit",
            "model": "doc-classifier",
            "dir": "../shared/real-train + ../shared/real-docs",
            "files": len(clean),
            "photos": len(shots),
            "folds": "by source repository (make models)",
        }
        write_config(rule_file, {"2.4": rule}, 0.01, source)
        summary["shipped_alpha"] = alpha
        log(f"  shipped rule: {rule.describe()}")
    return summary
