"""The analysis core: one document through the stages, synchronously, each stage at most once.

Serving (sidecar/dataplane/plane.py: each call in its CPU executor, under the request's deadline), offline
calibration (sidecar/tools/offline.py: `doctriage-admin calibrate --offline`, bench/realdocs) and training
(training/doctriage_train: the real documents `make models` learns from and proves the acceptance
rule on) all read a document through `Analysis`, so that the rule is proven on the path it guards:

    validate → decode (once per decode size) → normalize (once per input spec)
      → text (the PDF text layer, else OCR; once) → a model's inputs (tensor, text row)
      → business-rule facts and findings of a label → drift features

What differs between the three is configuration, not code: the settings (`Stages`), the request's
deadline and metadata (`Document`), and, for training only, an inspection given instead of validation
(training learns from the page of a document serving would refuse; calibration counts such a document
as never accepted). Model runs are not here: serving batches them (sidecar/inference/engine.py), offline
runs them directly (sidecar/models/infer.py); both take their inputs from `Analysis.model_inputs`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
import structlog

from sidecar.config import Settings
from sidecar.domain import Document, InputSpec, Inspection, Page, RuleFinding
from sidecar.pipeline.decode import decode_document
from sidecar.pipeline.normalizer import NUMPY, Normalizer, choose_normalizer
from sidecar.pipeline.rules import DocumentFacts, RuleBook
from sidecar.pipeline.validate import validate_document

if TYPE_CHECKING:
    from sidecar.pipeline.ocr import OcrEngine, OcrResult

log = structlog.get_logger(__name__)
T = TypeVar("T")


class ModelReader(Protocol):
    """What the analysis needs to know of a model to build its inputs (sidecar.models.runtime.OnnxModel
    is one; the pipeline does not import the models)."""

    @property
    def input_spec(self) -> InputSpec: ...

    @property
    def text_dim(self) -> int: ...  # 0: it reads no text

    @property
    def text_is_cheap(self) -> bool: ...  # its text row is hashing only (no executor hop worth it)

    def text_features(self, text: str | None) -> npt.NDArray[np.float32]: ...


class Stages:
    """What the stages need beyond the document: the settings, the business rules, the normalizer
    (serving's is chosen at start-up from `models.device`: sidecar/pipeline/normalizer.py; numpy
    unless given) and the OCR pool (created on first need, then shared by every document). One per
    server, calibration run or training process; thread-safe."""

    def __init__(
        self,
        settings: Settings,
        rules: RuleBook | None = None,
        *,
        ocr: bool = True,
        normalizer: Normalizer = NUMPY,
    ) -> None:
        self.settings = settings
        self.normalizer = normalizer
        self.rules = RuleBook.load(settings.business_rules.path) if rules is None else rules
        self._ocr_wanted = ocr and settings.ocr.enabled
        self._ocr: OcrEngine | None = None
        self._ocr_lock = threading.Lock()
        self._ocr_failed = False

    @classmethod
    def for_serving(cls, settings: Settings) -> Stages:
        """The server's stages: the normalizer chosen once, now, from `models.device` (GPU or numpy;
        DeviceUnavailableError when "cuda" cannot be had)."""
        return cls(settings, normalizer=choose_normalizer(settings.models.device))

    def analyse(self, doc: Document, inspection: Inspection | None = None) -> Analysis:
        return Analysis(doc, self, inspection)

    def ocr_engine(self) -> OcrEngine | None:
        """The OCR pool, created on first need (tesseract start-up costs ~100 ms a worker); None when
        OCR is off or cannot start (text-needing models and rules then see "no text")."""
        if not self._ocr_wanted or self._ocr_failed:
            return None
        with self._ocr_lock:
            if self._ocr is None and not self._ocr_failed:
                try:
                    from sidecar.pipeline.ocr import OcrEngine

                    self._ocr = OcrEngine.from_settings(self.settings.ocr)
                except Exception as exc:  # noqa: BLE001 - no OCR: text-needing stages see "no text"
                    self._ocr_failed = True
                    log.error("ocr_unavailable", error=f"{type(exc).__name__}: {exc}")
        return self._ocr

    def close(self) -> None:
        if self._ocr is not None:
            self._ocr.close()


class Analysis:
    """What one document has learned so far. Every method runs its stage at most once and records the
    seconds it took in `timings` (validate, decode, normalize, ocr_init, ocr, text_embedding, rules)."""

    def __init__(self, doc: Document, stages: Stages, inspection: Inspection | None = None) -> None:
        self.doc = doc
        self.stages = stages
        self.timings: dict[str, float] = {}
        self.inspection = inspection
        self.pages: dict[tuple[int, int, str], Page] = {}  # by decode size and colour mode
        self.tensors: dict[InputSpec, npt.NDArray[np.float32]] = {}
        self.text: str | None = None
        self.text_known = False
        self.ocr: OcrResult | None = None

    def fork(self) -> Analysis:
        """A copy that shares what is known but keeps its own timings (a shadow model's run)."""
        other = Analysis(self.doc, self.stages, self.inspection)
        other.pages, other.tensors = dict(self.pages), dict(self.tensors)
        other.text, other.text_known, other.ocr = self.text, self.text_known, self.ocr
        return other

    @contextmanager
    def _timed(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - started

    def _timed_call(self, name: str, fn: Callable[..., T], *args: Any) -> T:
        with self._timed(name):
            return fn(*args)

    @property
    def page(self) -> Page | None:
        """The first page decoded (its text layer, source size and page count do not depend on the size)."""
        return next(iter(self.pages.values()), None)

    # -- stages -------------------------------------------------------------------

    def validate(self) -> Inspection:
        if self.inspection is None:
            self.inspection = self._timed_call("validate", validate_document, self.doc, self.stages.settings.validation)
        return self.inspection

    def decode(self, spec: InputSpec) -> Page:
        """The first page at `spec`'s size and colour mode (PDF object and render-time limits, within the
        request's time left); InvalidDocument propagates."""
        key = (spec.height, spec.width, spec.decode_mode)
        page = self.pages.get(key)
        if page is None:
            inspection = self.validate()
            settings = self.stages.settings
            limit = settings.preprocess.pdf_render_timeout_s
            left = self.doc.time_left()
            with self._timed("decode"):
                page = decode_document(
                    self.doc.content,
                    inspection,
                    (spec.height, spec.width),
                    settings.validation.max_pixels,
                    mode=spec.decode_mode,  # type: ignore[arg-type]
                    pdf_max_objects=settings.preprocess.pdf_max_objects,
                    pdf_time_limit_s=limit if left is None else max(0.01, min(limit, left)),
                )
            self.pages[key] = page
        return page

    def tensor(self, spec: InputSpec) -> npt.NDArray[np.float32]:
        """The page normalized to `spec` ([C,H,W] float32), decoded first if it must be."""
        tensor = self.tensors.get(spec)
        if tensor is None:
            page = self.decode(spec)
            normalize = self.stages.normalizer.normalize
            tensor = self.tensors[spec] = self._timed_call("normalize", normalize, page, spec)
        return tensor

    def text_is_free(self) -> bool:
        """True when `read_text` would neither decode nor OCR (the text is known, or the page decoded
        so far carries a usable text layer): a caller may run it without a worker thread."""
        if self.text_known:
            return True
        from sidecar.pipeline.ocr import needs_ocr

        page = self.page
        return page is not None and not needs_ocr(page)

    def read_text(self) -> str | None:
        """The page's text: its PDF text layer, else OCR within the request's time left (None: no text)."""
        if self.text_known:
            return self.text
        page = self.page or self.decode(InputSpec())
        from sidecar.pipeline.ocr import needs_ocr

        if not needs_ocr(page):
            self.text, self.text_known = page.text, True
            return self.text
        engine = self._timed_call("ocr_init", self.stages.ocr_engine)
        if engine is None:
            self.text_known = True
            return None
        inspection = self.validate()
        left = self.doc.time_left()
        result = self._timed_call("ocr", lambda: engine.extract_text(self.doc.content, inspection, timeout_s=left))
        self.ocr, self.text, self.text_known = result, result.text or None, True
        return self.text

    def text_features(self, model: ModelReader) -> npt.NDArray[np.float32] | None:
        """One row of `model`'s text input (None for an image-only model)."""
        if not model.text_dim:
            return None
        text = self.read_text()
        if model.text_is_cheap:
            return model.text_features(text)  # hashing only: microseconds
        return self._timed_call("text_embedding", model.text_features, text)

    def model_inputs(self, model: ModelReader) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32] | None]:
        """What `model` reads from this document: its image tensor and, for a text model, its text row."""
        return self.tensor(model.input_spec), self.text_features(model)

    def facts(self, text: str | None) -> DocumentFacts:
        """What the business rules look at, with `text` (None: no text) and the request's metadata."""
        inspection = self.validate()
        page = self.page
        width = page.source_width if page else inspection.width
        height = page.source_height if page else inspection.height
        return DocumentFacts(
            text=text,
            page_count=page.page_count if page else inspection.page_count,
            aspect=height / width if width and height else None,
            metadata=dict(self.doc.metadata),
        )

    def findings(self, label: str, *, fetch_text: bool) -> tuple[RuleFinding, ...] | None:
        """The business-rule findings of `label`; None when it has no rules or they were not evaluated.

        `fetch_text`: the rules decide this answer, so text is read, with OCR if it must (serving: the
        middle band, or a rule that requires them; calibration: always). Otherwise they run only when
        they are free: the page is decoded and its text is known (its own text layer, or the OCR a text
        model already ran), or they need no text."""
        rules = self.stages.rules
        if not label or not rules.has_rules(label):
            return None
        needs_text = rules.needs_text(label)
        page = self.page
        if fetch_text:
            text = self.read_text() if needs_text else None
        elif page is not None and self.text_known and (self.text or not needs_text):
            text = self.text
        elif page is not None and (not needs_text or page.text):
            text = page.text
        else:
            return None
        return self._timed_call("rules", rules.evaluate, label, self.facts(text))

    def drift_features(self) -> Any:
        """The drift monitor's features of this document (sidecar/observability/drift.py); None when the
        page was never decoded or they cannot be computed (they never fail a request)."""
        if self.page is None or self.inspection is None:
            return None
        try:
            from sidecar.pipeline.features import compute_features

            return compute_features(self.inspection, self.page, self.ocr)
        except Exception as exc:  # noqa: BLE001 - drift features never fail a request
            log.warning("features_failed", error=type(exc).__name__)
            return None
