"""Domain objects passed between pipeline stages (never protobuf messages)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


class DocKind(StrEnum):
    PDF = "pdf"
    JPEG = "jpeg"
    PNG = "png"


class DecisionKind(StrEnum):
    ACCEPTED = "ACCEPTED"
    ACCEPTED_AFTER_RULES = "ACCEPTED_AFTER_RULES"
    HUMAN_REVIEW = "HUMAN_REVIEW"
    REJECTED = "REJECTED"


class Source(StrEnum):
    MODEL = "MODEL"
    CACHE = "CACHE"
    FALLBACK_MODEL = "FALLBACK_MODEL"
    RULES = "RULES"
    DEGRADED = "DEGRADED"


# The tensor contract between the pipeline (sidecar/pipeline/normalize.py implements it) and the models
# (each manifest names the version and the InputSpec its model was trained with).
PREPROCESSING_VERSION = "1"
# Versions this module implements; the registry refuses a manifest naming any other.
SUPPORTED_PREPROCESSING_VERSIONS = frozenset({"1"})


@dataclass(frozen=True, slots=True)
class InputSpec:
    height: int = 256
    width: int = 192
    mean: float = 0.5
    std: float = 0.5
    # Stretch the 1st..99th percentile of grey levels to the full range (lighting, faded scans).
    autocontrast: bool = True
    # 1 = grey (v1); 3 = RGB, decoded with decode_document(..., mode="RGB").
    channels: int = 1
    # Straighten pages photographed or scanned at a small angle (±5°) before fitting.
    deskew: bool = False
    # Cut the sheet out of a photo's background (the bright paper against a darker table, hand or
    # floor) before fitting, so a page photographed from afar fills the tensor (page_box).
    crop_page: bool = False

    def __post_init__(self) -> None:
        if self.height < 1 or self.width < 1 or self.std <= 0 or self.channels not in (1, 3):
            raise ValueError(f"invalid input spec: {self}")

    @property
    def decode_mode(self) -> str:
        """The `mode` to pass to decode_document for this spec."""
        return "RGB" if self.channels == 3 else "L"

    @classmethod
    def from_manifest(cls, spec: dict[str, object]) -> InputSpec:
        known = {k: spec[k] for k in cls.__dataclass_fields__ if k in spec}
        return cls(**known)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Document:
    """One document as the caller sent it."""

    content: bytes
    filename: str = ""
    declared_mime: str = ""
    routing_key: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    client_ref: str = ""
    request_id: str = ""
    # time.monotonic() by which the answer is useless; None = no deadline.
    deadline: float | None = None

    def time_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()


@dataclass(frozen=True, slots=True)
class Inspection:
    """What validation learned about the bytes, before anything was decoded."""

    kind: DocKind
    digest: str  # hex SHA-256 of the content
    size: int
    width: int = 0  # pixels; 0 when unknown (PDF)
    height: int = 0
    page_count: int = 1
    # Non-refusing findings (e.g. TRAILING_DATA, ENCRYPTED when policy only flags).
    flags: tuple[str, ...] = ()


@dataclass(slots=True)
class Page:
    """The first page decoded at (about) model resolution."""

    image: npt.NDArray[np.uint8]  # HxW (grey) or HxWx3 (RGB)
    source_width: int  # size of the page before any downscale, in pixels
    source_height: int
    page_count: int = 1
    text: str | None = None  # PDF text layer (or OCR) when known


@dataclass(frozen=True, slots=True)
class Prediction:
    label: str
    confidence: float  # calibrated probability of `label`
    scores: dict[str, float]  # every label, calibrated
    model_name: str
    model_version: str
    source: Source = Source.MODEL
    ood_score: float = 0.0
    is_ood: bool = False


@dataclass(frozen=True, slots=True)
class RuleFinding:
    rule: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    kind: DecisionKind
    reasons: tuple[str, ...] = ()
    findings: tuple[RuleFinding, ...] = ()
    review_id: str = ""


@dataclass(slots=True)
class ClassifyResult:
    """Everything the servicer needs to answer one document."""

    request_id: str
    client_ref: str
    inspection: Inspection
    prediction: Prediction
    decision: Decision
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    flags: tuple[str, ...] = ()
    estimated_cost: float = 0.0
