"""Classify a labelled folder in-process (no server): the calibration data of `doctriage calibrate
--offline` and of bench/realdocs.

The same stages as the data plane, called directly: validate → decode → normalize → infer (the
manifest's calibration and OOD score) → text (PDF text layer, else OCR when a model or a rule needs
it) → business rules of the predicted label. An optional second model gives the agreement signal.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from doctriage.evaluation import labelled_files

from sidecar.config import Settings
from sidecar.domain import Document, Page, Prediction
from sidecar.errors import DocTriageError
from sidecar.models.runtime import OnnxModel
from sidecar.pipeline.decode import decode_document
from sidecar.pipeline.infer import infer_batch
from sidecar.pipeline.normalize import InputSpec, normalize_page
from sidecar.pipeline.rules import DocumentFacts, RuleBook
from sidecar.pipeline.validate import validate_document
from sidecar.risk.ltt import CalibrationRecord
from sidecar.risk.rule import OUT_OF_SCOPE_LABEL


@dataclass(frozen=True, slots=True)
class LabelledPrediction:
    path: str
    true_label: str
    prediction: Prediction | None  # None when the document was refused
    second_label: str | None = None
    rules_passed: bool | None = None
    error: str = ""

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
    ) -> None:
        self.settings = settings or Settings()
        self.model = OnnxModel(model_dir, device="cpu")
        self.second = OnnxModel(second_model_dir, device="cpu") if second_model_dir else None
        self.rules = RuleBook.load(self.settings.rules.path) if rules else RuleBook({})
        self._ocr_wanted = ocr and self.settings.ocr.enabled
        self._ocr: Any = None

    def close(self) -> None:
        if self._ocr is not None:
            self._ocr.close()

    def _text(self, content: bytes, inspection: Any, page: Page) -> str | None:
        from sidecar.pipeline.ocr import needs_ocr

        if not needs_ocr(page) or not self._ocr_wanted:
            return page.text
        if self._ocr is None:
            try:
                from sidecar.pipeline.ocr import OcrEngine

                self._ocr = OcrEngine.from_settings(self.settings.ocr)
            except Exception:  # noqa: BLE001 - no tesseract: text-needing models and rules see no text
                self._ocr_wanted = False
                return page.text
        result = self._ocr.extract_text(content, inspection)
        return str(result.text) if result.text else None

    def _page(self, spec: InputSpec, content: bytes, inspection: Any, pages: dict[InputSpec, Page]) -> Page:
        """The page decoded for `spec`, once per document (models and rules share it)."""
        if spec not in pages:
            pages[spec] = decode_document(
                content,
                inspection,
                (spec.height, spec.width),
                self.settings.validation.max_pixels,
                mode=spec.decode_mode,  # type: ignore[arg-type]
            )
        return pages[spec]

    def _predict(
        self, model: OnnxModel, content: bytes, inspection: Any, text: list[str | None], pages: dict[InputSpec, Page]
    ) -> Prediction:
        spec = model.manifest.input_spec
        page = self._page(spec, content, inspection, pages)
        tensor = normalize_page(page, spec)[None]
        feats = None
        if model.text_dim:
            if not text:
                text.append(self._text(content, inspection, page))
            feats = model.text_features(text[0])[None]
        return infer_batch(model, tensor, feats)[0]

    def classify(self, content: bytes, filename: str, true_label: str) -> LabelledPrediction:
        try:
            inspection = validate_document(Document(content, filename), self.settings.validation)
            text: list[str | None] = []  # fetched at most once, shared by both models and the rules
            pages: dict[InputSpec, Page] = {}
            prediction = self._predict(self.model, content, inspection, text, pages)
            second = self._predict(self.second, content, inspection, text, pages).label if self.second else None
        except DocTriageError as exc:
            return LabelledPrediction(filename, true_label, None, error=f"{type(exc).__name__}: {exc}")
        rules_passed = None
        if self.rules.has_rules(prediction.label):
            page = self._page(self.model.manifest.input_spec, content, inspection, pages)
            if self.rules.needs_text(prediction.label) and not text:
                text.append(self._text(content, inspection, page))
            w, h = page.source_width, page.source_height
            facts = DocumentFacts(text[0] if text else page.text, page.page_count, h / w if w and h else None)
            findings = self.rules.evaluate(prediction.label, facts)
            rules_passed = all(f.passed for f in findings) if findings else None
        return LabelledPrediction(filename, true_label, prediction, second, rules_passed)

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


def default_models_root() -> Path:
    return Path(os.environ.get("DOCTRIAGE_MODELS_ROOT", Path(__file__).resolve().parents[2] / "models"))
