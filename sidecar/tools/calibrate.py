"""`doctriage-admin calibrate DIR`: prove an acceptance rule on labelled documents and install it.

DIR holds one folder per label (`other` = out of scope; `id_card` counts as identity_document).
Every file is classified, through a running sidecar (default, doctriage.Client) or in-process
(`--offline`, the models under --models-root), then Learn-then-Test picks the loosest rule whose
silent-failure rate (wrong AND automatically accepted, over all documents) is proven ≤ α with
probability ≥ 1 − δ (sidecar.risk). The rule and its provenance go to a JSON thresholds file;
`--apply` also sends it live through Admin.SetThresholds (doctriage.AdminClient).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from doctriage import AdminClient, Classification, Client
from doctriage.v1 import admin_pb2

from sidecar.risk import AcceptanceRule, CalibrationRecord, deferring, fit_rule
from sidecar.risk.rulefile import read_config, write_config
from sidecar.server.convert import rule_to_proto
from sidecar.tools.evaluation import labelled_files

DEFAULT_OUTPUT = "config/acceptance-rule.json"
NEVER_ACCEPTED = "other"  # how a refused / OOD / degraded answer is recorded: the engine never accepts it


@dataclass(frozen=True, slots=True)
class Sample:
    path: str
    true_label: str
    model_version: str
    record: CalibrationRecord
    error: str = ""


def record_from_answer(true_label: str, answer: Classification) -> CalibrationRecord:
    """A server answer as the rule sees it; answers the engine never accepts are recorded as such."""
    reasons = set(answer.decision_reasons)
    if (
        answer.error is not None
        or answer.decision == "REJECTED"
        or answer.source == "DEGRADED"
        or "OUT_OF_DISTRIBUTION" in reasons
    ):
        return CalibrationRecord(true_label, NEVER_ACCEPTED, 0.0)
    rules = True if "RULES_PASSED" in reasons else False if "RULES_FAILED" in reasons else None
    return CalibrationRecord(true_label, answer.label, answer.confidence, answer.ood_score, None, rules)


def collect_online(root: Path, client: Client) -> list[Sample]:
    files = labelled_files(root)
    truth = {str(path): label for label, path in files}
    samples = []
    for answer in client.classify_many([str(p) for _, p in files]):
        label = truth[answer.client_ref]
        error = "" if answer.error is None else f"{answer.error.reason or answer.error.code}"
        samples.append(Sample(answer.client_ref, label, answer.model_version, record_from_answer(label, answer), error))
    samples.sort(key=lambda s: s.path)
    return samples


def collect_offline(
    root: Path, models_root: Path, name: str, version: str | None, second: str | None, ocr: bool = True
) -> tuple[list[Sample], float | None]:
    """Samples and the model's OOD threshold (from its manifest)."""
    from sidecar.tools.offline import OfflineClassifier, find_model, find_named_model

    model_dir = find_model(models_root, name, version)
    if model_dir is None:
        raise SystemExit(f"no model {name}/{version or '*'} under {models_root}")
    second_dir = None
    if second:
        second_dir = find_named_model(models_root, second, name)
        if second_dir is None:
            raise SystemExit(f"no second model {second} under {models_root}")
    classifier = OfflineClassifier(model_dir, second_dir, ocr=ocr)
    try:
        results = list(classifier.classify_folder(root))
    finally:
        classifier.close()
    ood = classifier.model.manifest.ood
    threshold = float(ood.threshold) if ood is not None else None
    version_of = classifier.model.manifest.version
    return [Sample(r.path, r.true_label, version_of, r.record(), r.error) for r in results], threshold


def fit_rules(
    samples: list[Sample],
    alpha: float,
    delta: float,
    *,
    ood_threshold: float | None = None,
    gate_options: tuple[tuple[bool, bool], ...] = ((False, False),),
    per_label_min: int | None = None,
    second_model: str = "",
) -> dict[str, AcceptanceRule]:
    """One rule per model version that answered (A/B traffic may mix versions)."""
    by_version: dict[str, list[CalibrationRecord]] = {}
    for s in samples:
        by_version.setdefault(s.model_version, []).append(s.record)
    if "" in by_version and len(by_version) > 1:  # refused documents carry no version: count them everywhere
        refused = by_version.pop("")
        for records in by_version.values():
            records.extend(refused)
    return {
        version: fit_rule(
            records,
            alpha,
            delta,
            ood_threshold=ood_threshold,
            gate_options=gate_options,
            per_label_min=per_label_min,
            model_version=version,
            second_model=second_model,
        )
        for version, records in sorted(by_version.items())
    }


def apply_live(admin: AdminClient, rules: dict[str, AcceptanceRule], audit_rate: float) -> list[admin_pb2.Thresholds]:
    """Attach each rule to its version's current thresholds (bands kept) and set them."""
    applied = []
    for version, rule in rules.items():
        current = admin.get_thresholds(version)
        wanted = admin_pb2.Thresholds()
        wanted.CopyFrom(current)
        wanted.model_version = version
        wanted.provenance = rule.provenance()
        wanted.rule.CopyFrom(rule_to_proto(rule))
        wanted.audit_rate = audit_rate
        applied.append(admin.set_thresholds(wanted))
    return applied


def _qualified(model: str | None, default_name: str) -> str:
    if not model:
        return ""
    return model if "/" in model else f"{default_name}/{model}"


def _summary(samples: list[Sample]) -> dict[str, Any]:
    return {
        "files": len(samples),
        "refused": sum(1 for s in samples if s.error),
        "per_label": dict(sorted(Counter(s.true_label for s in samples).items())),
        "accuracy_of_answers": round(sum(s.record.label == s.true_label for s in samples) / len(samples), 4)
        if samples
        else 0.0,
    }


def command(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    if root.is_file() and root.suffix == ".json":  # a rule written earlier: install it as it is
        if not args.apply:
            print("doctriage-admin calibrate: a thresholds file is only read with --apply", file=sys.stderr)
            return 2
        saved, audit_rate = read_config(root)
        with AdminClient(args.address, timeout=args.timeout, api_key=args.api_key) as admin:
            for t in apply_live(admin, saved, audit_rate):
                print(f"applied to {t.model_version or '*'}: {t.provenance}")
        return 0
    if not root.is_dir():
        print(f"doctriage-admin calibrate: {root} is not a directory", file=sys.stderr)
        return 2
    gates: tuple[tuple[bool, bool], ...] = ((args.require_agreement, args.require_rules),)
    if args.search_gates:
        gates = (
            ((False, False), (True, False), (False, True), (True, True))
            if args.second_model
            else (
                (False, False),
                (False, True),
            )
        )
    ood_threshold: float | None = None
    if args.offline:
        samples, ood_threshold = collect_offline(
            root, Path(args.models_root), args.model, args.version, args.second_model, ocr=not args.no_ocr
        )
        mode = "offline"
        model_name = args.model
    else:
        if args.require_agreement or args.second_model:
            print(
                "doctriage-admin calibrate: agreement needs --offline (answers carry no second opinion)",
                file=sys.stderr,
            )
            return 2
        with Client(args.address, timeout=args.timeout, api_key=args.api_key) as client:
            samples = collect_online(root, client)
        mode = "server"
        model_name = args.model
    if args.no_ood:
        ood_threshold = None
    if not samples:
        print(f"doctriage-admin calibrate: no documents under {root}", file=sys.stderr)
        return 2
    rules = fit_rules(
        samples,
        args.alpha,
        args.delta,
        ood_threshold=ood_threshold,
        gate_options=gates,
        per_label_min=args.per_label_min,
        second_model=_qualified(args.second_model, args.model),
    )
    if args.defer_to:
        to = _qualified(args.defer_to, args.model)
        rules = {version: deferring(rule, to) for version, rule in rules.items()}
    source = {"mode": mode, "model": model_name, "dir": root.name, **_summary(samples)}
    out = Path(args.output)
    write_config(out, rules, args.audit_rate, source)
    for version, rule in rules.items():
        print(f"{version or '*'}: {rule.describe()}")
    print(f"wrote {out}")
    if args.records:
        Path(args.records).write_text(
            "".join(
                json.dumps({"path": s.path, "version": s.model_version, **s.record.as_dict()}) + "\n" for s in samples
            )
        )
    if args.apply:
        with AdminClient(args.address, timeout=args.timeout, api_key=args.api_key) as admin:
            for t in apply_live(admin, rules, args.audit_rate):
                print(f"applied to {t.model_version or '*'}: {t.provenance}")
    if args.json:
        print(json.dumps({v or "*": r.to_dict() for v, r in rules.items()}, sort_keys=True))
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("calibrate", help="prove a risk-controlled acceptance rule on a labelled folder")
    p.add_argument("dir", help="one folder per label (other = out of scope); or a written rule file with --apply")
    p.add_argument("--alpha", type=float, default=0.01, help="target silent-failure rate (default 0.01)")
    p.add_argument("--delta", type=float, default=0.10, help="allowed probability that alpha is exceeded")
    p.add_argument("--output", "-o", default=DEFAULT_OUTPUT, help=f"thresholds file to write ({DEFAULT_OUTPUT})")
    p.add_argument("--apply", action="store_true", help="also send the rule live through Admin.SetThresholds")
    p.add_argument("--audit-rate", type=float, default=0.01, help="share of accepted documents audited (0.01)")
    p.add_argument("--offline", action="store_true", help="run the models in-process instead of a sidecar")
    p.add_argument("--models-root", default="models", help="model registry for --offline")
    p.add_argument("--model", default="doc-classifier", help="model name for --offline")
    p.add_argument("--version", default=None, help="model version for --offline (default: the highest)")
    p.add_argument("--second-model", default=None, help="NAME/VERSION of an independent model (--offline)")
    p.add_argument("--require-agreement", action="store_true", help="accept only when the second model agrees")
    p.add_argument("--require-rules", action="store_true", help="accept only when the label's rules pass")
    p.add_argument("--search-gates", action="store_true", help="also try agreement/rules gates (δ is split)")
    p.add_argument("--per-label-min", type=int, default=None, help="own threshold for labels with >= N docs")
    p.add_argument("--no-ood", action="store_true", help="no OOD gate in the rule (the engine's still applies)")
    p.add_argument("--no-ocr", action="store_true", help="--offline: no OCR for pages without a text layer")
    p.add_argument(
        "--defer-to",
        default=None,
        metavar="VERSION",
        help="write a rule that accepts nothing: this version's answers escalate to VERSION, whose rule decides",
    )
    p.add_argument("--records", default=None, help="also write the per-document records (JSON lines) here")
    p.add_argument("--json", action="store_true", help="print the rules as JSON")
    p.set_defaults(func=command)
