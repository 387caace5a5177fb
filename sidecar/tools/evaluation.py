"""Evaluation of classified documents against their true labels (the numbers `doctriage-admin eval`
reports; training reports the same).

Pure Python (Pillow only for the reliability diagram). A result is
(true_label, predicted_label, confidence, decision, scores): decision is the sidecar's decision name
(ACCEPTED, ACCEPTED_AFTER_RULES, HUMAN_REVIEW, REJECTED); scores maps label → probability (may be empty).

Definitions (N = all documents):
- accuracy: predicted == true, over N (`other` documents predicted `other` are correct).
- auto_accept_coverage: decision ACCEPTED or ACCEPTED_AFTER_RULES, over N.
- in_scope_coverage: the same over the documents of a known type (true label not `other`): the share of
  the work a human is spared, since an out-of-scope document should never be accepted.
- silent_failure_rate: wrong AND automatically accepted, over N.
- review_rate: HUMAN_REVIEW over N; rejected_rate: REJECTED over N.
- other_accepted_rate: among true `other` documents, the share automatically accepted (always wrong:
  an out-of-scope document must never be accepted as a known type).
- ece: expected calibration error of `confidence` against correctness, equal-width bins.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

Result = tuple[str, str, float, str, Mapping[str, float]]

AUTO_DECISIONS = frozenset({"ACCEPTED", "ACCEPTED_AFTER_RULES"})
CANONICAL_LABELS = (
    "invoice",
    "receipt",
    "bank_statement",
    "payslip",
    "identity_document",
    "utility_bill",
    "tax_form",
    "letter",
    "other",
)
OTHER = "other"
# Folder names that mean a model label (the real-docs set says id_card for identity documents).
LABEL_ALIASES = {"id_card": "identity_document", "identity": "identity_document", "out_of_scope": "other"}
DOCUMENT_SUFFIXES = frozenset({".pdf", ".jpg", ".jpeg", ".png"})


def labelled_files(root: Path) -> list[tuple[str, Path]]:
    """(label, file) for every document under root/<label>/, sorted; labels as the models name them."""
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        label = LABEL_ALIASES.get(folder.name, folder.name)
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix.lower() in DOCUMENT_SUFFIXES:
                out.append((label, path))
    return out


def wilson_interval(successes: int, total: int, z: float = 1.959964) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion (sound for small samples)."""
    if total == 0:
        return (0.0, 1.0)
    p = successes / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def _labels(results: Sequence[Result], labels: Sequence[str] | None) -> list[str]:
    if labels is not None:
        return list(labels)
    seen = {r[0] for r in results} | {r[1] for r in results}
    ordered = [label for label in CANONICAL_LABELS if label in seen]
    return ordered + sorted(seen - set(ordered))


def reliability_bins(results: Sequence[Result], bins: int = 15) -> list[dict[str, float]]:
    """Per equal-width confidence bin: count, mean confidence, accuracy."""
    out = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        members = [r for r in results if (lo <= r[2] < hi) or (b == bins - 1 and r[2] >= hi)]
        n = len(members)
        out.append(
            {
                "lower": lo,
                "upper": hi,
                "count": n,
                "confidence": sum(r[2] for r in members) / n if n else 0.0,
                "accuracy": sum(r[0] == r[1] for r in members) / n if n else 0.0,
            }
        )
    return out


def expected_calibration_error(results: Sequence[Result], bins: int = 15) -> float:
    n = len(results)
    if n == 0:
        return 0.0
    return sum(b["count"] / n * abs(b["accuracy"] - b["confidence"]) for b in reliability_bins(results, bins))


def evaluate(results: Sequence[Result], labels: Sequence[str] | None = None, bins: int = 15) -> dict[str, Any]:
    """Every metric of one evaluation run, as a JSON-ready dict."""
    n = len(results)
    names = _labels(results, labels)
    correct = sum(1 for r in results if r[0] == r[1])
    auto = [r for r in results if r[3] in AUTO_DECISIONS]
    silent = sum(1 for r in auto if r[0] != r[1])
    others = [r for r in results if r[0] == OTHER]
    others_accepted = sum(1 for r in others if r[3] in AUTO_DECISIONS)
    in_scope = n - len(others)
    index = {label: i for i, label in enumerate(names)}
    matrix = [[0] * len(names) for _ in names]
    for r in results:
        if r[0] in index and r[1] in index:
            matrix[index[r[0]]][index[r[1]]] += 1
    per_class: dict[str, dict[str, float | int]] = {}
    for label in names:
        tp = sum(1 for r in results if r[0] == label and r[1] == label)
        predicted = sum(1 for r in results if r[1] == label)
        support = sum(1 for r in results if r[0] == label)
        per_class[label] = {
            "precision": tp / predicted if predicted else 0.0,
            "recall": tp / support if support else 0.0,
            "support": support,
            "predicted": predicted,
        }
    decisions: dict[str, int] = {}
    for r in results:
        decisions[r[3]] = decisions.get(r[3], 0) + 1
    acc_lo, acc_hi = wilson_interval(correct, n)
    sf_lo, sf_hi = wilson_interval(silent, n)
    return {
        "documents": n,
        "accuracy": correct / n if n else 0.0,
        "accuracy_ci95": [acc_lo, acc_hi],
        "auto_accept_coverage": len(auto) / n if n else 0.0,
        "in_scope_documents": in_scope,
        "in_scope_coverage": (len(auto) - others_accepted) / in_scope if in_scope else 0.0,
        "silent_failure_rate": silent / n if n else 0.0,
        "silent_failure_rate_ci95": [sf_lo, sf_hi],
        "accepted_accuracy": (len(auto) - silent) / len(auto) if auto else 0.0,
        "review_rate": decisions.get("HUMAN_REVIEW", 0) / n if n else 0.0,
        "rejected_rate": decisions.get("REJECTED", 0) / n if n else 0.0,
        "other_documents": len(others),
        "other_accepted_rate": others_accepted / len(others) if others else 0.0,
        "decisions": decisions,
        "per_class": per_class,
        "labels": names,
        "confusion_matrix": matrix,
        "ece": expected_calibration_error(results, bins),
        "reliability": reliability_bins(results, bins),
    }


def reliability_diagram(results: Sequence[Result], path: str | Path, bins: int = 10, title: str = "") -> Path:
    """Write a reliability diagram (accuracy against confidence per bin, with counts) as a PNG."""
    from PIL import Image, ImageDraw

    size, pad = 480, 50
    img = Image.new("RGB", (size + 2 * pad, size + 2 * pad + 20), "white")
    draw = ImageDraw.Draw(img)
    x0, y0, x1, y1 = pad, pad, pad + size, pad + size
    draw.rectangle([x0, y0, x1, y1], outline="black")
    draw.line([x0, y1, x1, y0], fill=(150, 150, 150), width=1)  # perfect calibration
    data = reliability_bins(results, bins)
    total = max(1, len(results))
    bar = size / bins
    for i, b in enumerate(data):
        if not b["count"]:
            continue
        left = x0 + i * bar
        top = y1 - b["accuracy"] * size
        draw.rectangle([left + 2, top, left + bar - 2, y1], fill=(70, 120, 200), outline=(30, 60, 120))
        conf_y = y1 - b["confidence"] * size
        draw.line([left + 2, conf_y, left + bar - 2, conf_y], fill=(220, 60, 60), width=2)
        share = b["count"] / total
        draw.rectangle([left + 2, y1 + 4, left + 2 + (bar - 4) * min(1.0, share * 3), y1 + 10], fill=(120, 120, 120))
    for t in range(0, 11, 2):
        v = t / 10
        draw.text((x0 - 30, y1 - v * size - 5), f"{v:.1f}", fill="black")
        draw.text((x0 + v * size - 8, y1 + 14), f"{v:.1f}", fill="black")
    ece = expected_calibration_error(results, bins)
    draw.text((x0, 15), f"{title} reliability (n={len(results)}, ECE={ece:.3f})".strip(), fill="black")
    draw.text(
        (x0, y1 + 30), "confidence (bars: accuracy; red: mean confidence; grey: share of documents)", fill="black"
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    img.save(out, format="PNG")
    return out


def format_report(report: Mapping[str, Any]) -> str:
    """A short human-readable summary of `evaluate`'s dict."""
    lo, hi = report["accuracy_ci95"]
    lines = [
        f"documents            {report['documents']}",
        f"accuracy             {report['accuracy']:.3f}  (95% CI {lo:.3f}-{hi:.3f})",
        f"auto-accept coverage {report['auto_accept_coverage']:.3f}  "
        f"(in-scope documents: {report['in_scope_coverage']:.3f} of {report['in_scope_documents']})",
        f"silent failures      {report['silent_failure_rate']:.3f}  (wrong and accepted, over all documents)",
        f"review rate          {report['review_rate']:.3f}",
        f"other accepted       {report['other_accepted_rate']:.3f}  (of {report['other_documents']} out-of-scope)",
        f"ECE                  {report['ece']:.3f}",
        "per class            precision recall support",
    ]
    for label, m in report["per_class"].items():
        lines.append(f"  {label:<18} {m['precision']:.3f}     {m['recall']:.3f}  {m['support']}")
    return "\n".join(lines)
