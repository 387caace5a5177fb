import pytest

from sidecar.domain import DecisionKind, Prediction
from sidecar.pipeline.decide import Thresholds, decide


def prediction(label: str = "invoice", confidence: float = 0.9, is_ood: bool = False) -> Prediction:
    return Prediction(label, confidence, {label: confidence}, "m", "1", is_ood=is_ood)


@pytest.mark.parametrize(
    ("confidence", "kind", "reason"),
    [
        (0.95, DecisionKind.ACCEPTED, "HIGH_CONFIDENCE"),
        (0.85, DecisionKind.ACCEPTED, "HIGH_CONFIDENCE"),
        (0.84, DecisionKind.HUMAN_REVIEW, "MEDIUM_CONFIDENCE_NO_RULES"),
        (0.60, DecisionKind.HUMAN_REVIEW, "MEDIUM_CONFIDENCE_NO_RULES"),
        (0.59, DecisionKind.HUMAN_REVIEW, "LOW_CONFIDENCE"),
    ],
)
def test_confidence_bands(confidence: float, kind: DecisionKind, reason: str) -> None:
    decision = decide(prediction(confidence=confidence), Thresholds())
    assert (decision.kind, decision.reasons) == (kind, (reason,))


def test_out_of_distribution_and_other_go_to_review_even_when_confident() -> None:
    assert decide(prediction(is_ood=True, confidence=0.99), Thresholds()).reasons == ("OUT_OF_DISTRIBUTION",)
    assert decide(prediction(label="other", confidence=0.99), Thresholds()).kind is DecisionKind.HUMAN_REVIEW
