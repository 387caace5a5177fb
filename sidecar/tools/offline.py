"""Classify a labelled folder in-process (no server): the calibration data of `doctriage-admin
calibrate --offline` and of bench/realdocs.

The serving path without the server: each document goes through the analysis core
(sidecar/pipeline/analysis.py) that the data plane runs, with the same settings: validate → decode →
normalize → text (PDF text layer, else OCR, when a model or a rule needs it) → each model's inputs →
`infer_batch` (the manifest's calibration and OOD score) → business rules of the predicted label. An
optional second model gives the agreement signal. tests/integration/test_analysis_parity.py checks that
the server answers every real document with the same decision inputs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sidecar.config import Settings
from sidecar.domain import Document, Prediction, RuleFinding
from sidecar.errors import DocTriageError
from sidecar.models.infer import infer_batch
from sidecar.models.runtime import OnnxModel
from sidecar.pipeline.analysis import Analysis, Stages
from sidecar.pipeline.rules import RuleBook
from sidecar.risk.ltt import CalibrationRecord
from sidecar.risk.rule import OUT_OF_SCOPE_LABEL
from sidecar.tools.evaluation import labelled_files


@dataclass(frozen=True, slots=True)
class LabelledPrediction:
    path: str
    true_label: str
    prediction: Prediction | None  # None when the document was refused
    second_label: str | None = None
    rules_passed: bool | None = None
    error: str = ""
    reason: str = ""  # the refusal's reason code (sidecar/errors.py), when refused
    findings: tuple[RuleFinding, ...] | None = None  # None: the label has no rules

    def record(self) -> CalibrationRecord:
        p = self.prediction
        if p is None:  # refused documents are never accepted: recorded as out of scope
            return CalibrationRecord(self.true_label, OUT_OF_SCOPE_LABEL, 0.0)
        return CalibrationRecord(
            self.true_label, p.label, p.confidence, p.ood_score, self.second_label, self.rules_passed
        )


class OfflineClassifier:
    """Models loaded once; `classify` takes one document's bytes."""

    def __init__(
        self,
        model_dir: Path,
        second_model_dir: Path | None = None,
        settings: Settings | None = None,
        *,
        ocr: bool = True,
        rules: bool = True,
        stages: Stages | None = None,
    ) -> None:
        """`stages`: a running data plane's (its settings, rules and OCR pool) instead of new ones."""
        self.settings = stages.settings if stages else settings or Settings()
        self.model = OnnxModel(model_dir, device="cpu")
        self.second = OnnxModel(second_model_dir, device="cpu") if second_model_dir else None
        self._own_stages = stages is None
        self.stages = stages or Stages(self.settings, None if rules else RuleBook({}), ocr=ocr)

    def close(self) -> None:
        if self._own_stages:
            self.stages.close()

    @staticmethod
    def _predict(model: OnnxModel, analysis: Analysis) -> Prediction:
        tensor, text = analysis.model_inputs(model)
        return infer_batch(model, tensor[None], None if text is None else text[None])[0]

    def classify(
        self, content: bytes, filename: str, true_label: str, metadata: dict[str, str] | None = None
    ) -> LabelledPrediction:
        analysis = self.stages.analyse(Document(content, filename, metadata=dict(metadata or {})))
        try:
            analysis.validate()
            prediction = self._predict(self.model, analysis)
            second = self._predict(self.second, analysis).label if self.second else None
            # Calibration evaluates the rules of every answer (text read if they need it): the rule it
            # proves may require them, and serving then reads the text for every answer it could accept.
            findings = analysis.findings(prediction.label, fetch_text=True)
        except DocTriageError as exc:
            reason = str(getattr(exc, "reason", ""))
            return LabelledPrediction(filename, true_label, None, error=f"{type(exc).__name__}: {exc}", reason=reason)
        rules_passed = all(f.passed for f in findings) if findings else None
        return LabelledPrediction(filename, true_label, prediction, second, rules_passed, findings=findings)

    def classify_folder(self, root: Path) -> Iterator[LabelledPrediction]:
        for label, path in labelled_files(root):
            yield self.classify(path.read_bytes(), str(path), label)


def find_named_model(models_root: Path, spec: str, default_name: str) -> Path | None:
    """`NAME/VERSION`, `NAME/` or a bare `VERSION` of `default_name` (e.g. a --second-model option)."""
    name, _, version = spec.rpartition("/")
    return find_model(models_root, name or default_name, version or None)


def find_model(models_root: Path, name: str, version: str | None = None) -> Path | None:
    """models/<name>/<version>/ (the highest version when none is given), if it has a manifest."""
    base = models_root / name
    if version is not None:
        d = base / version
        return d if (d / "manifest.json").is_file() else None
    if not base.is_dir():
        return None
    versions = [d for d in base.iterdir() if (d / "manifest.json").is_file()]

    def key(d: Path) -> tuple[int, ...]:
        return tuple(int(x) if x.isdigit() else -1 for x in d.name.split("."))

    return max(versions, key=key) if versions else None


def records_of(results: Sequence[LabelledPrediction]) -> list[CalibrationRecord]:
    return [r.record() for r in results]
