"""Stage: decide whether a prediction can be trusted automatically.

(Foundation version: confidence bands and the OOD flag. Business rules, per-label
thresholds and the review queue arrive with the inference-engine issue; until then
the middle band goes to review, the safe side.)
"""

from __future__ import annotations

from dataclasses import dataclass

from sidecar.domain import Decision, DecisionKind, Prediction

OTHER_LABEL = "other"


@dataclass(frozen=True, slots=True)
class Thresholds:
    accept: float = 0.85
    review_below: float = 0.60


def decide(prediction: Prediction, thresholds: Thresholds) -> Decision:
    if prediction.is_ood:
        return Decision(DecisionKind.HUMAN_REVIEW, ("OUT_OF_DISTRIBUTION",))
    if prediction.label == OTHER_LABEL:
        return Decision(DecisionKind.HUMAN_REVIEW, ("OUT_OF_SCOPE",))
    if prediction.confidence >= thresholds.accept:
        return Decision(DecisionKind.ACCEPTED, ("HIGH_CONFIDENCE",))
    if prediction.confidence < thresholds.review_below:
        return Decision(DecisionKind.HUMAN_REVIEW, ("LOW_CONFIDENCE",))
    return Decision(DecisionKind.HUMAN_REVIEW, ("MEDIUM_CONFIDENCE_NO_RULES",))
