"""The engine's risk monitor: audit sampling of accepted documents, the running audit estimate and
its metrics, and the records recalibration learns from.

The data plane holds one `RiskMonitor` and calls three hooks:
- `on_decision(accepted)` once per decided document → True when that accepted document must also
  be queued for review with audit=True;
- `on_resolved(audit, predicted_label, true_label)` when a reviewer resolves an item;
- `set_rule(rule, audit_rate)` when Admin.SetThresholds installs a rule (the estimate restarts:
  it describes the rule in force; returns True when it did);
- `restore(audited=, wrong=, accepted=, decided=)` at start-up: the estimate as persisted (the data
  plane rebuilds it from the review store, keyed by `rule_key` of the rule in force);
- `maybe_recalibrate(rule, feedback)` after resolutions: every `every` resolved items, once enough
  have accumulated, Learn-then-Test runs again on a uniform sample of the resolved documents
  (sidecar.risk.recalibrate) and returns the new rule when it differs (the caller installs it
  through its validated, persisted, audit-logged path).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Mapping

from sidecar.observability import metrics as m
from sidecar.risk.audit import DEFAULT_AUDIT_RATE, AuditEstimate, AuditEstimator, AuditSampler
from sidecar.risk.ltt import CalibrationRecord
from sidecar.risk.recalibrate import Recalibration, ResolvedItem, min_records, recalibrate
from sidecar.risk.rule import OUT_OF_SCOPE_LABEL, AcceptanceRule

# Review reasons that mean the engine would never have accepted the document, whatever the rule.
NEVER_ACCEPTED_REASONS = frozenset({"OUT_OF_DISTRIBUTION", "OUT_OF_SCOPE", "DEGRADED", "RULES_FAILED"})


class RiskMonitor:
    def __init__(
        self, audit_rate: float = DEFAULT_AUDIT_RATE, seed: int | None = None, recalibrate_every: int = 50
    ) -> None:
        self._lock = threading.Lock()
        self.recalibrate_every = recalibrate_every
        self._resolved_since = 0
        self._seed = seed
        self.rule: AcceptanceRule | None = None
        self.sampler = AuditSampler(audit_rate, seed)
        self.estimator = AuditEstimator()

    @property
    def audit_rate(self) -> float:
        return self.sampler.rate

    def set_rule(self, rule: AcceptanceRule | None, audit_rate: float | None = None) -> bool:
        """Install `rule`; True when it differs from the one in force (the estimate restarted)."""
        with self._lock:
            changed = rule != self.rule
            self.rule = rule
            if audit_rate is not None:
                self.sampler.rate = audit_rate
            if rule is not None:
                self.estimator.alpha, self.estimator.delta = rule.alpha, rule.delta
                m.RISK_TARGET.set(rule.alpha)
            if changed:
                self.estimator.reset()
        self.publish()
        return changed

    def on_decision(self, accepted: bool, digest: str | None = None) -> bool:
        self.estimator.record_decision(accepted)
        if accepted and self.sampler.should_audit(digest):
            m.AUDIT_SAMPLED.inc()
            return True
        return False

    def on_resolved(self, audit: bool, predicted_label: str, true_label: str) -> None:
        with self._lock:
            self._resolved_since += 1
        if not audit:
            return
        self.estimator.record_audit(predicted_label, true_label)
        m.AUDIT_RESOLVED.labels(outcome="correct" if predicted_label == true_label else "wrong").inc()
        self.publish()

    def restore(self, *, audited: int, wrong: int, accepted: int, decided: int) -> None:
        """The running estimate as persisted (after a restart): replaces the current counts, exports them."""
        with self._lock:
            self.estimator.reset()
            self.estimator.add_counts(audited=audited, wrong=wrong, accepted=accepted, decided=decided)
        self.publish()

    def maybe_recalibrate(
        self, rule: AcceptanceRule | None, feedback: Callable[[], Iterable[Mapping[str, object]]]
    ) -> Recalibration | None:
        """A changed rule when one is due and the reviewed documents prove it; else None.

        review_rate: the share of not-accepted documents that reviewers resolved, from the counts
        since the rule took effect (1.0 until there are counts): the sample reweighting needs it.
        """
        if rule is None or self.recalibrate_every <= 0:
            return None
        with self._lock:
            if self._resolved_since < self.recalibrate_every:
                return None
            self._resolved_since = 0
        mine = rule.model_version
        items = resolved_items(row for row in feedback() if not mine or row.get("model_version") == mine)
        if len(items) < min_records(rule.alpha, rule.delta):
            return None
        counts = self.estimator.counts()
        not_accepted = counts["decided"] - counts["accepted"]
        reviewed = sum(1 for i in items if not i.audit)
        review_rate = min(1.0, reviewed / not_accepted) if not_accepted > 0 else 1.0
        result = recalibrate(
            rule, items, audit_rate=max(self.audit_rate, 1e-6), review_rate=max(review_rate, 1e-6), seed=self._seed
        )
        return result if result.changed else None

    def estimate(self) -> AuditEstimate:
        return self.estimator.estimate()

    def publish(self) -> None:
        e = self.estimator.estimate()
        if e.audited == 0:
            return  # nothing to say yet: absent gauges rather than a misleading 0 or 1
        g = m.AUDIT_SILENT_FAILURE_RATE
        g.labels(bound="estimate").set(e.silent_failure_rate)
        g.labels(bound="lower").set(e.silent_failure_lower)
        g.labels(bound="upper").set(e.silent_failure_upper)
        g.labels(bound="upper_one_sided").set(e.one_sided_upper)


def rule_key(rule: AcceptanceRule | None) -> str:
    """A fingerprint of the rule a running estimate belongs to ("" = no rule)."""
    if rule is None:
        return ""
    return hashlib.sha256(json.dumps(rule.to_dict(), sort_keys=True).encode()).hexdigest()


def resolved_items(feedback: Iterable[Mapping[str, object]]) -> list[ResolvedItem]:
    """Review-store feedback rows → what `recalibrate` learns from.

    Rows carry the prediction as served (label, confidence, reason); a document the engine would
    never have accepted (OOD, out of scope, degraded, failed rules) is recorded as never accepted.
    """
    out = []
    for row in feedback:
        label = str(row.get("predicted_label", ""))
        reason = str(row.get("reason", ""))
        never = not label or any(r in NEVER_ACCEPTED_REASONS for r in reason.replace(",", " ").split())
        record = CalibrationRecord(
            str(row.get("true_label", "")),
            OUT_OF_SCOPE_LABEL if never else label,
            0.0 if never else float(row.get("confidence", 0.0)),  # type: ignore[arg-type]
        )
        out.append(ResolvedItem(record, audit=bool(row.get("audit"))))
    return out
