"""Learn-then-Test: choose the loosest acceptance rule whose silent-failure rate is proven ≤ α.

Silent failure = wrong AND automatically accepted, counted over ALL documents (the ones sent to
review count as no failure). For a fixed set of gates (scope, OOD cut, agreement, rules) the
confidence threshold λ runs down a grid fixed before the data is seen, strictest first. Each λ is
the null hypothesis H_λ: R(λ) > α, tested with the exact binomial p-value
p = P(Binomial(n, α) ≤ k(λ)), k(λ) = silent failures on the n calibration documents. Fixed-sequence
testing rejects while p ≤ δ and stops at the first λ it cannot reject, which controls the
family-wise error at δ (Angelopoulos, Bates, Candès, Jordan, Lei, "Learn then Test", 2021): with
probability ≥ 1 − δ over the calibration draw, every λ it keeps has R(λ) ≤ α, so the loosest of
them (the most coverage) may be picked. Several gate configurations split δ (Bonferroni); per-label
thresholds split α and δ across label groups (union bound: R = Σ_g R_g ≤ Σ_g α_g = α).

Assumption: calibration documents and future traffic are exchangeable draws from one
distribution. Nothing else (no calibration of the model, no monotonicity) is needed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from sidecar.risk.bounds import clopper_pearson_upper, risk_p_value
from sidecar.risk.rule import NEVER, OUT_OF_SCOPE_LABEL, AcceptanceRule, PredictionFeatures


def _make_grid() -> npt.NDArray[np.float64]:
    near_one = 1.0 - np.logspace(-5, -1, 81)
    rest = np.linspace(0.9, 0.0, 91)
    grid = np.unique(np.round(np.concatenate([[1.0], near_one, rest]), 8))
    return grid[::-1].copy()


_GRID = _make_grid()


@dataclass(frozen=True, slots=True)
class CalibrationRecord:
    """One labelled document as the deployed model saw it."""

    true_label: str
    label: str  # predicted
    confidence: float
    ood_score: float = 0.0
    second_label: str | None = None
    rules_passed: bool | None = None

    @property
    def features(self) -> PredictionFeatures:
        return PredictionFeatures(self.label, self.confidence, self.ood_score, self.second_label, self.rules_passed)

    @property
    def wrong(self) -> bool:
        return self.label != self.true_label

    def as_dict(self) -> dict[str, object]:
        return {
            "true_label": self.true_label,
            "label": self.label,
            "confidence": self.confidence,
            "ood_score": self.ood_score,
            "second_label": self.second_label,
            "rules_passed": self.rules_passed,
        }


def data_digest(records: Iterable[CalibrationRecord]) -> str:
    lines = sorted(
        f"{r.true_label}\t{r.label}\t{float(r.confidence)!r}\t{float(r.ood_score)!r}\t{r.second_label}\t{r.rules_passed}"
        for r in records
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Fit:
    threshold: float  # NEVER when nothing could be proven
    proven: bool
    tested: int


def _fixed_sequence(
    confidence: npt.NDArray[np.float64],
    loss_if_accepted: npt.NDArray[np.bool_],
    n: int,
    alpha: float,
    delta: float,
    grid: npt.NDArray[np.float64],
) -> _Fit:
    """Loosest λ of `grid` (strictest first) reached before the first unrejected null."""
    best = _Fit(NEVER, False, 0)
    cache: dict[int, float] = {}
    for i, lam in enumerate(grid):
        k = int(np.count_nonzero(loss_if_accepted & (confidence >= lam)))
        if k not in cache:
            cache[k] = risk_p_value(k, n, alpha)
        if cache[k] > delta:
            return replace(best, tested=i + 1)
        best = _Fit(float(lam), True, i + 1)
    return best


def fit_rule(
    records: Sequence[CalibrationRecord],
    alpha: float = 0.01,
    delta: float = 0.10,
    *,
    ood_threshold: float | None = None,
    gate_options: Sequence[tuple[bool, bool]] = ((False, False),),
    per_label_min: int | None = None,
    label_weights: Mapping[str, float] | None = None,
    excluded_labels: tuple[str, ...] = (OUT_OF_SCOPE_LABEL,),
    grid: npt.NDArray[np.float64] | None = None,
    model_version: str = "",
    second_model: str = "",
    now: datetime | None = None,
) -> AcceptanceRule:
    """The acceptance rule with the most calibration coverage among those proven at (α, δ).

    gate_options: (require_agreement, require_rules) configurations to choose from; δ is split
    evenly between them. per_label_min: labels predicted at least this often get their own λ
    (α split by `label_weights`, default the labels' calibration shares; δ split evenly); the
    others share the global λ. Returns a rule that accepts nothing when no λ can be proven.
    """
    if not 0.0 < alpha < 1.0 or not 0.0 < delta < 1.0:
        raise ValueError("alpha and delta must be in (0, 1)")
    if not gate_options:
        raise ValueError("gate_options must not be empty")
    lams = _GRID if grid is None else np.sort(np.asarray(grid, dtype=np.float64))[::-1]
    n = len(records)
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = data_digest(records)
    base = AcceptanceRule(
        proven=False,
        confidence_threshold=NEVER,
        ood_threshold=ood_threshold,
        excluded_labels=excluded_labels,
        alpha=alpha,
        delta=delta,
        n=n,
        model_version=model_version,
        second_model=second_model,
        created=stamp,
        data_digest=digest,
    )
    if n == 0:
        return replace(base, note="no calibration data")
    cols = RecordTable.of(records)
    conf, wrong, predicted = cols.confidence, cols.wrong, cols.label

    best: AcceptanceRule | None = None
    delta_gate = delta / len(gate_options)
    for require_agreement, require_rules in gate_options:
        gated = replace(base, require_agreement=require_agreement, require_rules=require_rules)
        passes = cols.gates(gated)  # every gate except the confidence threshold
        groups = _groups(predicted, passes, excluded_labels, per_label_min)
        weights = _alpha_shares(groups, predicted, label_weights)
        per_label: dict[str, float] = {}
        global_threshold, proven_any, tested = NEVER, False, 0
        for name, members in groups.items():
            in_group = np.isin(predicted, members) if members else np.zeros(n, dtype=np.bool_)
            if weights[name] <= 0.0:  # a group without documents gets no share of α: it accepts nothing
                fit = _Fit(NEVER, False, 0)
            else:
                fit = _fixed_sequence(
                    conf, wrong & passes & in_group, n, alpha * weights[name], delta_gate / len(groups), lams
                )
            tested += fit.tested
            proven_any |= fit.proven
            if name == _POOLED:
                global_threshold = fit.threshold
            else:
                per_label[name] = fit.threshold
        candidate = replace(
            base,
            proven=proven_any,
            confidence_threshold=global_threshold,
            per_label=per_label,
            require_agreement=require_agreement,
            require_rules=require_rules,
            hypotheses=tested,
        )
        candidate = _with_stats(candidate, records)
        if best is None or candidate.coverage > best.coverage:
            best = candidate
    assert best is not None
    if not best.proven:
        need = _min_n(alpha, delta / len(gate_options))
        best = replace(best, note=f"nothing provable: even zero failures need n >= {need} at this alpha and delta")
    return best


_POOLED = "*"


def _groups(
    predicted: npt.NDArray[np.object_],
    passes: npt.NDArray[np.bool_],
    excluded: tuple[str, ...],
    per_label_min: int | None,
) -> dict[str, list[str]]:
    labels = sorted({str(x) for x in predicted} - set(excluded))
    if per_label_min is None:
        return {_POOLED: labels}
    rich = [lab for lab in labels if int(np.count_nonzero((predicted == lab) & passes)) >= per_label_min]
    groups: dict[str, list[str]] = {lab: [lab] for lab in rich}
    groups[_POOLED] = [lab for lab in labels if lab not in rich]
    return groups


def _alpha_shares(
    groups: Mapping[str, list[str]], predicted: npt.NDArray[np.object_], label_weights: Mapping[str, float] | None
) -> dict[str, float]:
    if len(groups) == 1:
        return dict.fromkeys(groups, 1.0)
    raw: dict[str, float] = {}
    for name, members in groups.items():
        if label_weights is not None:
            raw[name] = sum(float(label_weights.get(m, 0.0)) for m in members)
        else:
            raw[name] = float(np.count_nonzero(np.isin(predicted, members))) if members else 0.0
    total = sum(raw.values())
    if total <= 0:
        return {name: 1.0 / len(groups) for name in groups}
    return {name: value / total for name, value in raw.items()}


@dataclass(frozen=True, slots=True)
class RecordTable:
    """The records as arrays, so a rule is checked on all of them at once (same logic as apply_rule)."""

    label: npt.NDArray[np.object_]
    confidence: npt.NDArray[np.float64]
    ood: npt.NDArray[np.float64]
    agree: npt.NDArray[np.bool_]  # second opinion present and equal
    rules_passed: npt.NDArray[np.bool_]
    wrong: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, records: Sequence[CalibrationRecord]) -> RecordTable:
        return cls(
            label=np.array([r.label for r in records], dtype=object),
            confidence=np.array([r.confidence for r in records], dtype=np.float64),
            ood=np.array([r.ood_score for r in records], dtype=np.float64),
            agree=np.array([r.second_label is not None and r.second_label == r.label for r in records], dtype=np.bool_),
            rules_passed=np.array([r.rules_passed is True for r in records], dtype=np.bool_),
            wrong=np.array([r.wrong for r in records], dtype=np.bool_),
        )

    def gates(self, rule: AcceptanceRule) -> npt.NDArray[np.bool_]:
        ok = ~np.isin(self.label, list(rule.excluded_labels))
        if rule.ood_threshold is not None:
            ok &= self.ood <= rule.ood_threshold
        if rule.require_agreement:
            ok &= self.agree
        if rule.require_rules:
            ok &= self.rules_passed
        return ok

    def accepted(self, rule: AcceptanceRule) -> npt.NDArray[np.bool_]:
        if not rule.proven:
            return np.zeros(len(self.label), dtype=np.bool_)
        thresholds = np.full(len(self.label), rule.confidence_threshold, dtype=np.float64)
        for label, value in rule.per_label.items():
            thresholds[self.label == label] = value
        return self.gates(rule) & (self.confidence >= thresholds)


def _with_stats(rule: AcceptanceRule, records: Sequence[CalibrationRecord]) -> AcceptanceRule:
    if not rule.proven:
        return rule
    cols = RecordTable.of(records)
    accepted = cols.accepted(rule)
    k = int(np.count_nonzero(accepted & cols.wrong))
    n = len(records)
    return replace(
        rule,
        silent_failures=k,
        accepted=int(np.count_nonzero(accepted)),
        coverage=float(np.count_nonzero(accepted)) / n,
        risk_upper=clopper_pearson_upper(k, n, rule.delta),
    )


def _min_n(alpha: float, delta: float) -> int:
    """Smallest n at which zero failures prove risk ≤ α: (1 − α)^n ≤ δ."""
    return int(np.ceil(np.log(delta) / np.log1p(-alpha)))


def evaluate(rule: AcceptanceRule, records: Sequence[CalibrationRecord] | RecordTable) -> dict[str, float]:
    """Silent-failure rate, coverage and accepted-error rate of `rule` on labelled records."""
    n = len(records.label) if isinstance(records, RecordTable) else len(records)
    if n == 0:
        return {
            "n": 0.0,
            "accepted": 0.0,
            "silent_failures": 0.0,
            "silent_failure_rate": 0.0,
            "coverage": 0.0,
            "accepted_error_rate": 0.0,
        }
    cols = records if isinstance(records, RecordTable) else RecordTable.of(records)
    accepted = cols.accepted(rule)
    k = int(np.count_nonzero(accepted & cols.wrong))
    m = int(np.count_nonzero(accepted))
    return {
        "n": float(n),
        "accepted": float(m),
        "silent_failures": float(k),
        "silent_failure_rate": k / n,
        "coverage": m / n,
        "accepted_error_rate": k / m if m else 0.0,
    }


def fit_rule_per_document(
    versions: Sequence[Sequence[CalibrationRecord]],
    alpha: float = 0.01,
    delta: float = 0.10,
    *,
    ood_threshold: float | None = None,
    gate_options: Sequence[tuple[bool, bool]] = ((False, False),),
    **kwargs: object,
) -> AcceptanceRule:
    """`fit_rule` with a document as the unit, when each document was seen in several forms (as
    published and as simulated photos of it): the forms of one document are not independent draws,
    so they must not count as several. A document is a silent failure at λ when ANY of its forms
    would be wrongly accepted at λ; that is exactly the loss of one representative record per
    document (the wrong, gated form with the highest confidence, else its first form), so the
    Learn-then-Test guarantee holds over documents with n = len(versions) — and bounds the
    silent-failure rate of every form, published or photographed, at once.

    The representative depends on the gates, so each gate option is fitted on its own
    representatives with its share of δ (Bonferroni, as fit_rule splits it); the option kept is
    the one that accepts most forms overall. The counts and coverage stored in the returned rule are
    those of the representative records (per document); evaluate() each form's records for theirs."""
    if not versions or any(not forms for forms in versions):
        raise ValueError("every document needs at least one form")
    best: AcceptanceRule | None = None
    best_cover = -1.0
    share = delta / len(gate_options)
    flat = [r for forms in versions for r in forms]
    for require_agreement, require_rules in gate_options:
        probe = AcceptanceRule(
            proven=True,
            confidence_threshold=0.0,
            ood_threshold=ood_threshold,
            require_agreement=require_agreement,
            require_rules=require_rules,
        )
        reps = []
        for forms in versions:
            table = RecordTable.of(forms)
            bad = table.gates(probe) & table.wrong
            reps.append(forms[int(np.argmax(np.where(bad, table.confidence, -1.0)))] if bad.any() else forms[0])
        rule = fit_rule(
            reps,
            alpha,
            share,
            ood_threshold=ood_threshold,
            gate_options=((require_agreement, require_rules),),
            **kwargs,  # type: ignore[arg-type]
        )
        rule = replace(rule, delta=delta)
        cover = evaluate(rule, flat)["coverage"]
        if best is None or cover > best_cover:
            best, best_cover = rule, cover
    assert best is not None
    return best
