"""The work every system of bench/compare does for one document, the sidecar's own stages without the
sidecar around them: validate (decode needs its inspection) → decode the first page → normalize to the
model's input spec (sidecar.pipeline.analysis: Stages, Analysis) → the model in ONNX Runtime, calibrated
(sidecar.models.runtime.OnnxModel, sidecar.models.infer.infer_batch). No OCR, no business rules, no
decision, no scan: the image-only model (doc-classifier 2.3, the release's default version) needs none.

Thread-safe: ONNX Runtime sessions and Stages are; each call builds its own Analysis."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.paths import ROOT
from sidecar.config import Settings
from sidecar.domain import Document, Prediction
from sidecar.models.infer import infer_batch
from sidecar.models.runtime import OnnxModel
from sidecar.pipeline.analysis import Stages
from sidecar.pipeline.rules import RuleBook

MODEL = ("doc-classifier", "2.3")


class Work:
    def __init__(self) -> None:
        self.settings = Settings(data_dir=ROOT)
        self.stages = Stages(self.settings, RuleBook({}), ocr=False)
        name, version = MODEL
        # One intra-op thread per session, as the sidecar runs it (models.intra_op_threads).
        self.model = OnnxModel(
            self.settings.models.root / name / version,
            device="cpu",
            intra_op_threads=self.settings.models.intra_op_threads,
        )

    def tensor(self, content: bytes, filename: str = "") -> Any:
        return self.stages.analyse(Document(content, filename)).tensor(self.model.input_spec)

    def classify(self, content: bytes, filename: str = "") -> Prediction:
        return infer_batch(self.model, self.tensor(content, filename)[None])[0]

    def classify_batch(self, contents: list[bytes]) -> list[Prediction]:
        """Several documents, the model run once on their stacked tensors (what a batching server does)."""
        return infer_batch(self.model, np.stack([self.tensor(c) for c in contents]))


def answer(p: Prediction) -> dict[str, Any]:
    """What the HTTP servers return: label, confidence and every label's score."""
    return {"label": p.label, "confidence": p.confidence, "scores": p.scores, "model_version": p.model_version}
