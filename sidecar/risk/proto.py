"""AcceptanceRule ⇄ doctriage.v1.AcceptanceRule (the Admin servicer's edge)."""

from __future__ import annotations

from doctriage.v1 import admin_pb2

from sidecar.risk.rule import AcceptanceRule

_SCALARS = (
    "proven",
    "confidence_threshold",
    "require_agreement",
    "require_rules",
    "alpha",
    "delta",
    "n",
    "silent_failures",
    "accepted",
    "risk_upper",
    "coverage",
    "method",
    "hypotheses",
    "model_version",
    "created",
    "data_digest",
    "note",
    "second_model",
)


def rule_to_proto(rule: AcceptanceRule) -> admin_pb2.AcceptanceRule:
    d = rule.to_dict()
    msg = admin_pb2.AcceptanceRule(
        per_label=d["per_label"], excluded_labels=d["excluded_labels"], **{k: d[k] for k in _SCALARS}
    )
    if d["ood_threshold"] is not None:
        msg.ood_threshold = d["ood_threshold"]
    return msg


def rule_from_proto(msg: admin_pb2.AcceptanceRule) -> AcceptanceRule:
    """Validated; raises ValueError on a bad rule."""
    raw: dict[str, object] = {k: getattr(msg, k) for k in _SCALARS}
    raw["per_label"] = dict(msg.per_label)
    raw["excluded_labels"] = list(msg.excluded_labels) or ["other"]
    raw["ood_threshold"] = msg.ood_threshold if msg.HasField("ood_threshold") else None
    return AcceptanceRule.from_dict(raw)
