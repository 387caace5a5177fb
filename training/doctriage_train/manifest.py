"""Each version's manifest (sidecar.models.manifest.Manifest): what every version shares (labels, image
input, outputs, bands, data and training provenance), then what its training measured (calibration, OOD
cut, drift reference, quality, the exported graph's size, parity and digest)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from doctriage_train import LABELS
from doctriage_train.config import THRESHOLDS, TrainConfig
from doctriage_train.dataset import SPEC, DataConfig, Dataset
from sidecar.domain import PREPROCESSING_VERSION
from sidecar.models.calibration import DRIFT_DEFINITIONS, DRIFT_FEATURES, histogram
from sidecar.models.manifest import (
    Calibration,
    CreatedBy,
    DecisionDefaults,
    DriftReference,
    ImageInput,
    Inputs,
    Manifest,
    Ood,
    Outputs,
    OutputSpec,
)

DRIFT_EDGES: dict[str, list[float]] = {
    "brightness": [float(v) for v in np.linspace(0, 256, 17)],
    "contrast": [float(v) for v in np.linspace(0, 128, 17)],
    "sharpness": [0, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000, 1e7],
    "aspect": [0.2, 0.5, 0.7, 0.9, 1.1, 1.3, 1.5, 1.7, 2.0, 3.0, 10.0],
    "text_length": [0, 1, 50, 200, 500, 1000, 2000, 4000, 8000, 1e7],
    "confidence": [float(v) for v in np.linspace(0, 1, 21)],
}


def drift_reference(ds: Dataset, idx: npt.NDArray[np.intp], confidence: npt.NDArray[np.float64]) -> dict[str, Any]:
    features: dict[str, Any] = {}
    for j, name in enumerate(DRIFT_FEATURES):
        features[name] = {**histogram(ds.drift[idx, j], DRIFT_EDGES[name]), "definition": DRIFT_DEFINITIONS[name]}
    features["confidence"] = {
        **histogram(confidence, DRIFT_EDGES["confidence"]),
        "definition": DRIFT_DEFINITIONS["confidence"],
    }
    return {
        "computed_on": f"synthetic validation split (n={len(idx)}), clean and degraded; "
        "features by sidecar.pipeline.features.tracked_tuple",
        "features": features,
    }


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def base_manifest(
    name: str, version: str, embed_dim: int, cfg: TrainConfig, data_cfg: DataConfig, ds: Dataset
) -> Manifest:
    return Manifest(
        name=name,
        version=version,
        labels=tuple(LABELS),
        inputs=Inputs(
            image=ImageInput(
                height=SPEC.height,
                width=SPEC.width,
                mean=SPEC.mean,
                std=SPEC.std,
                autocontrast=SPEC.autocontrast,
                crop_page=SPEC.crop_page,
                preprocessing_version=PREPROCESSING_VERSION,
                dtype="float32",
                shape=("N", 1, SPEC.height, SPEC.width),
            ),
        ),
        outputs=Outputs(
            logits=OutputSpec(shape=("N", len(LABELS)), note="raw, uncalibrated: apply `calibration`"),
            embedding=OutputSpec(shape=("N", embed_dim), note="penultimate features, used by `ood`"),
        ),
        needs_text=False,
        decision_defaults=DecisionDefaults(accept=THRESHOLDS.accept, review_below=THRESHOLDS.review_below),
        training_data_digest=ds.digest,
        training_data_config=dict(data_cfg.__dict__),
        created_by=CreatedBy(
            script=f"python -m doctriage_train all --seed {cfg.seed}  (make models)",
            seed=cfg.seed,
            torch=torch.__version__,
            train_config=dict(cfg.__dict__),
        ),
    )


def trained(
    base: Manifest,
    calibration: dict[str, Any],
    ood: dict[str, Any],
    drift: dict[str, Any],
    quality: dict[str, Any],
    parameters: int,
    parity: float,
    onnx: Path,
) -> Manifest:
    """`base` with what training measured: the fitted calibration and OOD cut, the drift reference,
    the quality report, and the exported graph's size, parity and digest."""
    return replace(
        base,
        calibration=Calibration.from_dict(calibration),
        ood=Ood.from_dict(ood),
        drift_reference=DriftReference.from_dict(drift),
        quality=quality,
        parameters=parameters,
        onnx_parity_max_abs=parity,
        model_sha256=sha256(onnx),
    )
