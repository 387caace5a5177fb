"""Stage: run a model version on a normalized batch and calibrate its answer."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sidecar.domain import Prediction, Source
from sidecar.models.calibration import calibrate, ood_score
from sidecar.models.runtime import OnnxModel


def infer_batch(
    model: OnnxModel,
    images: npt.NDArray[np.float32],
    text: npt.NDArray[np.float32] | None = None,
    source: Source = Source.MODEL,
) -> list[Prediction]:
    """[N,1,H,W] tensors (and [N,D] text features for text models) → one Prediction each."""
    out = model.run(images, text)
    manifest = model.manifest
    probs = calibrate(out.logits, manifest.calibration)
    scores = ood_score(out.logits, out.embedding, manifest.ood)
    threshold = manifest.ood.threshold if manifest.ood is not None else float("inf")
    predictions = []
    for row, ood in zip(probs, scores, strict=True):
        best = int(np.argmax(row))
        predictions.append(
            Prediction(
                label=manifest.labels[best],
                confidence=float(row[best]),
                scores={label: float(p) for label, p in zip(manifest.labels, row, strict=True)},
                model_name=manifest.name,
                model_version=manifest.version,
                source=source,
                ood_score=float(ood),
                is_ood=bool(ood > threshold),
            )
        )
    return predictions
