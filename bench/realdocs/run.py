"""Risk-controlled acceptance on real documents: repeated calibrate/test splits of ../shared/real-docs.

python -m bench.realdocs.run [--splits 50] [--cal-fraction 0.7] [--models-root models]

Classifies every real document once, in-process (validate → decode → normalize → ONNX model with
its manifest's calibration and OOD score → text → business rules; sidecar.tools.offline), then for
each of `--splits` stratified random splits fits the Learn-then-Test rule on the calibration part
at each α (δ = 0.1) and measures it on the held-out part: achieved silent-failure rate (wrong AND
automatically accepted, over all test documents), the rule's bound, coverage (auto-accept rate),
per true label. Writes results.json, results.md and coverage.png next to this file: numbers only,
never the documents or their names.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from sidecar.risk import CalibrationRecord, clopper_pearson, evaluate, fit_rule
from sidecar.risk.ltt import RecordTable
from sidecar.risk.recalibrate import min_records
from sidecar.tools.offline import OfflineClassifier, find_model, find_named_model

ROOT = Path(__file__).resolve().parents[2]

REAL_DOCS = ROOT.parent / "shared" / "real-docs"
HERE = Path(__file__).resolve().parent
TABLE_ALPHAS = (0.01, 0.02, 0.05)
CURVE_ALPHAS = (0.01, 0.02, 0.05, 0.10, 0.15, 0.20)
DELTA = 0.10


def classify(models_root: Path, name: str, version: str | None, second: str | None) -> dict[str, Any]:
    model_dir = find_model(models_root, name, version)
    if model_dir is None:
        raise SystemExit(f"no model {name}/{version or '*'} under {models_root}")
    second_dir = find_named_model(models_root, second, name) if second else None
    clf = OfflineClassifier(model_dir, second_dir)
    started = time.perf_counter()
    try:
        results = list(clf.classify_folder(REAL_DOCS / "files"))
    finally:
        clf.close()
    ood = clf.model.manifest.ood
    return {
        "model": f"{clf.model.manifest.name}/{clf.model.manifest.version}",
        "model_sha256": hashlib.sha256((model_dir / "model.onnx").read_bytes()).hexdigest(),
        "second": f"{clf.second.manifest.name}/{clf.second.manifest.version}" if clf.second else None,
        "ood_threshold": ood.threshold if ood is not None else None,
        "records": [r.record() for r in results],
        "refused": sum(r.prediction is None for r in results),
        "seconds": time.perf_counter() - started,
    }


def stratified_split(
    records: list[CalibrationRecord], fraction: float, rng: np.random.Generator
) -> tuple[list[CalibrationRecord], list[CalibrationRecord]]:
    by_label: dict[str, list[CalibrationRecord]] = defaultdict(list)
    for r in records:
        by_label[r.true_label].append(r)
    cal: list[CalibrationRecord] = []
    test: list[CalibrationRecord] = []
    for label in sorted(by_label):
        group = by_label[label]
        order = rng.permutation(len(group))
        k = round(fraction * len(group))
        if len(group) >= 2:
            k = min(max(k, 1), len(group) - 1)  # both parts see every label that has two documents
        cal += [group[i] for i in order[:k]]
        test += [group[i] for i in order[k:]]
    return cal, test


def _interval(values: list[float]) -> list[float]:
    return [float(np.percentile(values, 5)), float(np.percentile(values, 95))]


def run_splits(
    data: dict[str, Any], splits: int, fraction: float, seed: int, gates: tuple[tuple[bool, bool], ...]
) -> dict[str, Any]:
    records: list[CalibrationRecord] = data["records"]
    labels = sorted({r.true_label for r in records})
    rng = np.random.default_rng(seed)
    draws = [stratified_split(records, fraction, rng) for _ in range(splits)]
    out: dict[str, Any] = {}
    for alpha in CURVE_ALPHAS:
        sf, cov, ub, proven, thr = [], [], [], 0, []
        k_total = n_total = 0
        per_label: dict[str, dict[str, int]] = {lab: {"test": 0, "accepted": 0, "wrong_accepted": 0} for lab in labels}
        for cal, test in draws:
            rule = fit_rule(
                cal,
                alpha,
                DELTA,
                ood_threshold=data["ood_threshold"],
                gate_options=gates,
                second_model=data["second"] or "",
            )
            seen = evaluate(rule, RecordTable.of(test))
            sf.append(seen["silent_failure_rate"])
            cov.append(seen["coverage"])
            ub.append(rule.risk_upper if rule.proven else 1.0)
            proven += rule.proven
            if rule.proven:
                thr.append(rule.confidence_threshold)
            k_total += int(seen["silent_failures"])
            n_total += int(seen["n"])
            for lab in labels:
                mine = [r for r in test if r.true_label == lab]
                m = evaluate(rule, mine) if mine else {"accepted": 0.0, "silent_failures": 0.0}
                per_label[lab]["test"] += len(mine)
                per_label[lab]["accepted"] += int(m["accepted"])
                per_label[lab]["wrong_accepted"] += int(m["silent_failures"])
        lo, hi = clopper_pearson(k_total, n_total, 0.95)
        out[f"{alpha:g}"] = {
            "alpha": alpha,
            "proven_share": proven / splits,
            "silent_failure_mean": float(np.mean(sf)),
            "silent_failure_interval_5_95": _interval(sf),
            "silent_failure_pooled": k_total / n_total if n_total else 0.0,
            "silent_failure_pooled_cp95": [lo, hi],
            "splits_over_alpha": float(np.mean([x > alpha for x in sf])),
            "coverage_mean": float(np.mean(cov)),
            "coverage_interval_5_95": _interval(cov),
            "bound_mean": float(np.mean(ub)),
            "threshold_median": float(np.median(thr)) if thr else None,
            "per_label": {
                lab: {
                    **v,
                    "coverage": v["accepted"] / v["test"] if v["test"] else 0.0,
                    "silent_failure": v["wrong_accepted"] / v["test"] if v["test"] else 0.0,
                }
                for lab, v in per_label.items()
            },
        }
    return out


def full_rules(data: dict[str, Any], gates: tuple[tuple[bool, bool], ...]) -> dict[str, Any]:
    """The rule fitted on every real document at each α (what `doctriage-admin calibrate` would install)."""
    out = {}
    for alpha in CURVE_ALPHAS:
        rule = fit_rule(
            data["records"],
            alpha,
            DELTA,
            ood_threshold=data["ood_threshold"],
            gate_options=gates,
            second_model=data["second"] or "",
        )
        rule = replace(rule, created="", model_version=data["model"].split("/")[-1])
        out[f"{alpha:g}"] = rule.to_dict()
    return out


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Risk-controlled acceptance on real documents",
        "",
        f"Generated by `python -m bench.realdocs.run` on {report['generated']}. Model: `{report['model']}`"
        + (f", second opinion `{report['second']}`" if report.get("second") else "")
        + f"; OOD cut from its manifest: {report['ood_threshold']}. "
        f"{report['documents']} real documents ({report['refused']} refused by validation, never accepted), "
        f"{report['splits']} stratified random splits, {report['cal_fraction']:.0%} calibrate / "
        f"{1 - report['cal_fraction']:.0%} test, δ = {DELTA}. Silent failure = wrong AND automatically "
        "accepted, over all test documents.",
        "",
        "Fewest calibration documents with which even zero failures prove α at δ = 0.1: "
        + ", ".join(f"α = {a:g}: {min_records(a, DELTA)}" for a in CURVE_ALPHAS)
        + f". Calibration sets here hold ~{report['calibration_size']} documents.",
        "",
        "| α | rule proven (share of splits) | achieved silent-failure, mean [5–95 %] | pooled, CP 95 % | "
        "splits above α | bound (CP upper on calibration) | coverage, mean [5–95 %] | median λ |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, r in report["splits_result"].items():
        sf_lo, sf_hi = r["silent_failure_interval_5_95"]
        cv_lo, cv_hi = r["coverage_interval_5_95"]
        p_lo, p_hi = r["silent_failure_pooled_cp95"]
        thr = "—" if r["threshold_median"] is None else f"{r['threshold_median']:.3f}"
        lines.append(
            f"| {float(key):.0%} | {r['proven_share']:.0%} | {r['silent_failure_mean']:.2%} [{sf_lo:.1%}–{sf_hi:.1%}]"
            f" | {r['silent_failure_pooled']:.2%} [{p_lo:.2%}–{p_hi:.2%}] | {r['splits_over_alpha']:.0%}"
            f" | {r['bound_mean']:.3f} | {r['coverage_mean']:.1%} [{cv_lo:.1%}–{cv_hi:.1%}] | {thr} |"
        )
    lines += [
        "",
        "Reading the table: the guarantee is about the rule's true silent-failure rate R (the rate on"
        " endless traffic like these documents), P(R > α) ≤ δ. The pooled column estimates the average R"
        " over splits (all test documents of all splits; splits overlap, so its interval is optimistic)."
        " 'Splits above α' counts test sets of ~26 documents whose *observed* rate exceeds α; with so few"
        " documents the observed rate scatters widely around R (binomial noise), so that share can exceed δ"
        " while R ≤ α. The bound column is the Clopper–Pearson (1 − δ) upper limit of the chosen rule's rate"
        " on its calibration part (≤ α by construction when a rule is proven; 1 when none is)."
        " OCR and PDF rendering run under time limits, so on a loaded machine a document's text (an input"
        " of v2.4) or render can differ between runs: the numbers can move by about one document.",
    ]
    lines += ["", "Per true label (test documents pooled over all splits): coverage / silent-failure.", ""]
    labels = sorted(next(iter(report["splits_result"].values()))["per_label"])
    lines.append("| α | " + " | ".join(labels) + " |")
    lines.append("|---|" + "---|" * len(labels))
    for key in (f"{a:g}" for a in TABLE_ALPHAS):
        r = report["splits_result"][key]
        cells = [
            f"{r['per_label'][lab]['coverage']:.0%} / {r['per_label'][lab]['silent_failure']:.1%}"
            f" (n={r['per_label'][lab]['test'] // report['splits']})"
            for lab in labels
        ]
        lines.append(f"| {float(key):.0%} | " + " | ".join(cells) + " |")
    lines += ["", "Rule fitted on all real documents (what `doctriage-admin calibrate` installs):", ""]
    for key, rule in report["full_data_rules"].items():
        state = (
            f"λ = {rule['confidence_threshold']:.4f}, coverage {rule['coverage']:.1%}, "
            f"{rule['silent_failures']} silent failures, CP upper {rule['risk_upper']:.3f}"
            if rule["proven"]
            else f"{rule['note']}: everything to review"
        )
        lines.append(f"- α = {float(key):.0%}: {state}")
    lines.append("")
    return "\n".join(lines)


def plot(report: dict[str, Any], path: Path) -> None:
    """Coverage (and achieved silent-failure) against α, drawn with Pillow (no plotting dependency)."""
    from PIL import Image, ImageDraw

    w, h, left, right, top, bottom = 720, 440, 70, 20, 40, 60
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    res = report["splits_result"]
    alphas = [float(k) for k in res]
    xmax, ymax = max(alphas) * 1.05, 1.0

    def xy(x: float, y: float) -> tuple[float, float]:
        return left + x / xmax * (w - left - right), h - bottom - y / ymax * (h - top - bottom)

    d.rectangle([left, top, w - right, h - bottom], outline="black")
    for y in (0.0, 0.25, 0.5, 0.75, 1.0):
        px, py = xy(0, y)
        d.line([px, py, w - right, py], fill=(225, 225, 225))
        d.text((left - 40, py - 6), f"{y:.0%}", fill="black")
    for a in alphas:
        px, py = xy(a, 0)
        d.line([px, py, px, py + 5], fill="black")
        d.text((px - 10, py + 8), f"{a:.0%}", fill="black")
    d.line([xy(0, 0), xy(xmax, xmax)], fill=(180, 180, 180))  # y = α: where silent failure may reach
    for key, colour in (("coverage", (31, 119, 180)), ("silent_failure", (214, 39, 40))):
        pts = [xy(float(k), r[f"{key}_mean"]) for k, r in res.items()]
        for lo_k, r in res.items():
            lo, hi = r[f"{key}_interval_5_95"]
            px, _ = xy(float(lo_k), 0)
            d.line([px, xy(0, lo)[1], px, xy(0, hi)[1]], fill=colour, width=1)
        d.line(pts, fill=colour, width=3)
        for px, py in pts:
            d.ellipse([px - 4, py - 4, px + 4, py + 4], fill=colour)
    d.text(
        (left, 12),
        f"Real documents: coverage (blue) and silent-failure (red) vs alpha, {report['model']}",
        fill="black",
    )
    d.text((w // 2 - 90, h - 22), "target silent-failure rate alpha (delta = 0.1)", fill="black")
    d.text((w - right - 150, top + 6), "grey: silent-failure = alpha", fill=(120, 120, 120))
    img.save(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--splits", type=int, default=50)
    parser.add_argument("--cal-fraction", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--models-root", default=str(ROOT / "models"))
    parser.add_argument("--model", default="doc-classifier")
    parser.add_argument("--version", default=None, help="default: the highest committed version")
    parser.add_argument("--second-model", default=None, help="NAME/VERSION: agreement gate searched too")
    parser.add_argument("--out", default=str(HERE))
    args = parser.parse_args()
    if not REAL_DOCS.is_dir():
        print(f"{REAL_DOCS} is absent: nothing to measure", file=sys.stderr)
        return 0
    data = classify(Path(args.models_root), args.model, args.version, args.second_model)
    gates: tuple[tuple[bool, bool], ...] = ((False, False), (True, False)) if data["second"] else ((False, False),)
    records = data["records"]
    report = {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "model": data["model"],
        "model_sha256": data["model_sha256"],
        "second": data["second"],
        "ood_threshold": data["ood_threshold"],
        "documents": len(records),
        "refused": data["refused"],
        "classify_seconds": round(data["seconds"], 1),
        "accuracy": sum(r.label == r.true_label for r in records) / len(records),
        "splits": args.splits,
        "cal_fraction": args.cal_fraction,
        "calibration_size": round(args.cal_fraction * len(records)),
        "delta": DELTA,
        "splits_result": run_splits(data, args.splits, args.cal_fraction, args.seed, gates),
        "full_data_rules": full_rules(data, gates),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    (out / "results.md").write_text(markdown(report))
    plot(report, out / "coverage.png")
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
