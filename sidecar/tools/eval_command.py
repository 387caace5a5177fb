"""`doctriage-admin eval DIR`: classify a labelled folder through a running sidecar and report.

DIR holds one folder per label (`other` = out of scope; `id_card` counts as identity_document).
Every file goes through the sidecar exactly as production traffic does (one ClassifyStream),
and the report says how many answers were accepted automatically and how many of those were
wrong (silent failures, over all documents), the share of in-scope documents (true label not
`other`) accepted, with accuracy, review rate, per-class precision
and recall, the confusion matrix, ECE and a reliability diagram. Documents the sidecar refuses
count as not accepted, with the predicted label `refused`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from doctriage import Classification, Client

from sidecar.tools.evaluation import Result, evaluate, format_report, labelled_files, reliability_diagram

REFUSED = "refused"


def collect(root: Path, client: Client) -> list[dict[str, Any]]:
    """One row per file: the truth and what the sidecar answered."""
    files = labelled_files(root)
    truth = {str(path): label for label, path in files}
    rows = []
    for answer in client.classify_many([str(path) for _, path in files]):
        rows.append(_row(answer, truth[answer.client_ref]))
    return sorted(rows, key=lambda r: str(r["path"]))


def _row(answer: Classification, true_label: str) -> dict[str, Any]:
    error = answer.error
    return {
        "path": answer.client_ref,
        "true_label": true_label,
        "label": REFUSED if error is not None else answer.label,
        "confidence": 0.0 if error is not None else answer.confidence,
        "decision": "REJECTED" if error is not None else answer.decision,
        "decision_reasons": list(answer.decision_reasons),
        "rules_failed": [f.rule for f in answer.rule_findings if not f.passed],
        "flags": list(answer.flags),
        "scores": answer.scores,
        "model": f"{answer.model_name}/{answer.model_version}" if answer.model_name else "",
        "source": answer.source,
        "error": None if error is None else (error.reason or error.code),
    }


def results_of(rows: list[dict[str, Any]]) -> list[Result]:
    return [(r["true_label"], r["label"], r["confidence"], r["decision"], r["scores"]) for r in rows]


def report(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole report, and the same numbers per model that answered (A/B traffic mixes versions)."""
    summary = evaluate(results_of(rows))
    models = sorted({r["model"] for r in rows if r["model"]})
    summary["by_model"] = {
        m: {k: v for k, v in evaluate(results_of([r for r in rows if r["model"] == m])).items() if k != "reliability"}
        for m in models
    }
    summary["documents_detail"] = rows
    return summary


def run(args: argparse.Namespace) -> int:
    root = Path(args.directory)
    if not root.is_dir():
        print(f"doctriage-admin eval: {root} is not a directory", file=sys.stderr)
        return 2
    with Client(args.address, timeout=args.timeout, api_key=args.api_key) as client:
        rows = collect(root, client)
    if not rows:
        print(f"doctriage-admin eval: no PDF, JPEG or PNG under {root}/<label>/", file=sys.stderr)
        return 2
    summary = report(rows)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    diagram = reliability_diagram(results_of(rows), args.diagram or out.with_suffix(".png"), title=root.name)
    print(format_report(summary))
    print(f"report: {out}\nreliability diagram: {diagram}")
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "eval", help="classify a labelled folder (DIR/<label>/*) and report accuracy and silent failures"
    )
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--out", default="eval-report.json", help="JSON report (default: eval-report.json)")
    p.add_argument("--diagram", help="reliability diagram PNG (default: the report's name with .png)")
    p.set_defaults(func=run)
