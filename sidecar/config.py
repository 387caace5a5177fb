"""One typed settings object: a TOML file plus DOCTRIAGE_* environment overrides.

Precedence (highest first): constructor arguments, environment variables
(`DOCTRIAGE_SERVER__ADDRESS=0.0.0.0:50051`, nested with `__`), the TOML file
named by `DOCTRIAGE_CONFIG` (default: none), the release's deployment file
(`<models.root>/deployment.toml`: which versions serve, the split, the cascade,
the fallback, the bands, the acceptance-rule file), then the defaults below,
each one safe for production.

Relative paths are taken from `data_dir`, the directory the release lives in
(models/, config/, and var/ for the runtime state unless `state.dir` and
`review.path` point elsewhere). `doctriage-sidecar serve` requires it.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

MiB = 1024 * 1024
# The release's deployment file, beside its models (models.root).
DEPLOYMENT_FILE = "deployment.toml"
DEPLOYMENT_SECTIONS = ("models", "traffic", "decision")
# The confidence bands when nothing else says (sidecar/decision/decide.py reads these too).
DEFAULT_ACCEPT = 0.85
DEFAULT_REVIEW_BELOW = 0.60
# Where pages are normalized and models run (models.device; sidecar/pipeline/normalizer.py).
Device = Literal["auto", "cpu", "cuda"]


class _Section(BaseModel):
    """A settings section: a key it does not know is refused (a typo never passes silently), a key
    that moved is refused with where it went."""

    model_config = ConfigDict(extra="forbid")
    moved: ClassVar[dict[str, str]] = {}  # old key -> the message that says where it went

    @model_validator(mode="before")
    @classmethod
    def _refuse_moved(cls, data: Any) -> Any:
        for old, message in cls.moved.items():
            if isinstance(data, dict) and old in data:
                raise ValueError(message)
        return data


class ServerSettings(_Section):
    address: str = "127.0.0.1:50051"
    # Threads of the one executor that runs CPU work (validation, decode, inference).
    workers: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1), ge=1)
    # Requests run through the pipeline at once; the rest wait in one queue (sidecar/dataplane/admission.py).
    # Throughput saturates at ~2 per core and p95 passes 500 ms beyond ~4 per core
    # (bench/concurrency/results.md): 4 per core.
    max_concurrent_requests: int = Field(default_factory=lambda: 4 * (os.cpu_count() or 1), ge=1)
    # Requests waiting for a slot at most (they hold their bytes); beyond it RESOURCE_EXHAUSTED at once
    # with the expected wait as RetryInfo. Default 4 x max_concurrent_requests.
    max_queued_requests: int | None = Field(default=None, ge=0)
    # Refuse at once a request whose expected queueing delay exceeds this (0 = no bound but the queue's
    # length). A request whose expected wait does not fit its deadline is refused at once regardless.
    queue_delay_target_s: float = Field(default=0.0, ge=0)

    @property
    def queue_limit(self) -> int:
        return 4 * self.max_concurrent_requests if self.max_queued_requests is None else self.max_queued_requests

    # SIGTERM: seconds in-flight requests get to finish.
    grace_period_s: float = Field(default=10.0, ge=0)
    # Deadline applied when the caller sends none.
    default_deadline_s: float = Field(default=30.0, gt=0)


# What a validation finding does: refuse the document, or accept it with a flag on the response.
FindingPolicy = Literal["refuse", "flag"]


class ValidationSettings(_Section):
    max_bytes: int = Field(default=10 * MiB, ge=1)
    # Refuse images whose declared pixel count exceeds this before decoding anything.
    max_pixels: int = Field(default=100_000_000, ge=1)
    # Refuse PDFs whose page count estimate exceeds this (TOO_LARGE).
    max_pages: int = Field(default=2_000, ge=1)
    # The request's metadata (what business rules read): at most this many entries, and this many
    # bytes of keys and values together; beyond either, INVALID_ARGUMENT / INVALID_REQUEST.
    max_metadata_entries: int = Field(default=64, ge=0)
    max_metadata_bytes: int = Field(default=16 * 1024, ge=0)
    # /Encrypt. "flag": read it when it opens without a password (owner-password-only PDFs, how banks
    # issue statements; clamd decrypts those too); one that needs a password is refused ENCRYPTED at decode.
    encrypted: FindingPolicy = "flag"
    # What runs by itself when a reader opens the PDF: /OpenAction and document or page actions that
    # script, launch or submit, document-level JavaScript, /Launch, /RichMedia (pdf_actions.py).
    active_content: FindingPolicy = "refuse"
    # What only a fillable form runs for its fields (format, keystroke, validate and calculate scripts,
    # click actions, XFA): government and tax forms carry them. Classified and flagged FORM_SCRIPT.
    form_scripts: FindingPolicy = "flag"
    # Attachments: Factur-X/ZUGFeRD e-invoices embed their XML, IRS forms a small stream. Never opened
    # here; clamd unpacks and scans them (a signature inside a compressed attachment is found).
    embedded_file: FindingPolicy = "flag"
    trailing_data: FindingPolicy = "flag"  # bytes after the end marker (common in phone JPEGs)
    polyglot: FindingPolicy = "refuse"  # the bytes are also another format (PDF header in an image, ZIP tail)
    # The declared MIME type or the file name's extension names another type than the content (a JPEG
    # saved as .png). "flag": validated and classified as what the content is, flagged TYPE_MISMATCH.
    type_mismatch: FindingPolicy = "flag"


class ScannerSettings(_Section):
    """The clamd malware scanner (INSTREAM over a unix or TCP socket)."""

    enabled: bool = True
    # "unix:/path/to/clamd.sock" or "tcp:host:port".
    address: str = "unix:var/clamd/clamd.sock"  # a relative unix path is taken from data_dir
    # False (default): scanner down refuses requests (UNAVAILABLE). True: they pass, flagged SCAN_SKIPPED.
    fail_open: bool = False
    connect_timeout_s: float = Field(default=1.0, gt=0)
    # Per document: sending the bytes and waiting for the verdict.
    scan_timeout_s: float = Field(default=10.0, gt=0)
    # Must not exceed clamd's StreamMaxLength (deploy/clamav/clamd.conf.in sets 12M).
    stream_max_bytes: int = Field(default=12 * MiB, ge=1)
    chunk_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * MiB)
    # Scans in flight at once, each on an IDSESSION connection kept for reuse (clamd MaxThreads is 4).
    pool_size: int = Field(default=4, ge=1)
    # True (default): clamd scans while the executor validates and decodes the document, so the
    # round trip hides behind the decode; an infected document is still refused as MALWARE and never
    # classified. False: nothing decodes a document before clamd cleared it (validation's structural
    # parse excepted), at the cost of the round trip on every request.
    overlap_decode: bool = True


class ModelSettings(_Section):
    root: Path = Path("models")
    # The model served, and the version served when the split names none (the deployment file says).
    name: str = ""
    default_version: str = ""
    # onnxruntime intra-op threads per session; 1 keeps a serial caller fast (no spinning).
    intra_op_threads: int = Field(default=1, ge=1)
    # Where pages are normalized and models run, chosen once at start-up and reported by GetStatus:
    # "auto" = the GPU when one is usable (CuPy normalizes; ONNX Runtime's CUDA provider runs the
    # models when the onnxruntime-gpu build offers it), else the CPU (numpy, CPU provider);
    # "cuda" = the GPU or the sidecar does not start; "cpu" = never the GPU.
    device: Device = "auto"


class PreprocessSettings(_Section):
    # PDF page 1: refuse pages with more objects than this before rendering (MALFORMED).
    pdf_max_objects: int = Field(default=100_000, ge=1)
    # PDF page 1: abandon a render that takes longer (MALFORMED); it holds the process-wide PDFium lock.
    pdf_render_timeout_s: float = Field(default=1.0, gt=0)

    moved = {"device": "preprocess.device is gone: models.device (auto | cpu | cuda) sets both"}


class OcrSettings(_Section):
    enabled: bool = True
    # tessdata directory; None = $TESSDATA_PREFIX, then /usr/share/tesseract-ocr/5/tessdata.
    tessdata: Path | None = None
    languages: str = "eng"  # tesseract syntax, e.g. "eng+deu"
    # PyTessBaseAPI instances (one per executor worker), created once at startup.
    workers: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1), ge=1)
    # Per page; a page that takes longer yields no text (timed_out) rather than a stuck worker.
    page_timeout_s: float = Field(default=5.0, gt=0)
    # Longest side of the page image handed to tesseract (~250 dpi for A4).
    max_side: int = Field(default=3000, ge=256)
    # Pages whose longest side is shorter are upscaled to it first (0 = never): tesseract wants letters
    # ~20 px high, and a 400 px card scan or a 640 px phone photo has 5-8 px letters.
    min_side: int = Field(default=1400, ge=0)
    # A landscape page read with a mean confidence below this (0-100) goes through tesseract's
    # orientation detection and is read again upright when it was sideways (0 = never).
    reorient_below: float = Field(default=50.0, ge=0, le=100)
    # A page read with a mean confidence below this (0-100) is read again with local (Sauvola)
    # thresholds instead of tesseract's one global (Otsu) threshold, which blanks out phone photos
    # with uneven light and shadows; the read with more confident words is kept (0 = never).
    rebinarize_below: float = Field(default=50.0, ge=0, le=100)
    # Second OCR engine for pages tesseract still reads poorly after the passes above (phone photos:
    # skewed, crumpled, dim): PP-OCR through rapidocr, models bundled in its wheel (no download).
    # "none" = tesseract alone. Without rapidocr or its model files, tesseract alone (logged once).
    fallback: Literal["none", "rapidocr"] = "rapidocr"
    # A page read with a tesseract mean word confidence below this (0-100) is read again by the
    # fallback (0 = never); its text is kept when its mean line score is >= 0.90, else the read with
    # more characters (bench/ocr/README.md: confidence < 65 caught 10 of 12 failed photos, 1 needless).
    fallback_below: float = Field(default=65.0, ge=0, le=100)
    # Longest side of the page the fallback reads (detection cost grows with it: p50 1.3 s, p95 2.3 s
    # per photo at 960 on a loaded 2-core machine; 1280: +3 % characters, p95 3.1 s).
    fallback_max_side: int = Field(default=960, ge=256)
    cache_entries: int = Field(default=1024, ge=0)


class DecisionSettings(_Section):
    accept: float = Field(default=DEFAULT_ACCEPT, ge=0, le=1)
    review_below: float = Field(default=DEFAULT_REVIEW_BELOW, ge=0, le=1)
    # The acceptance-rule file: risk-controlled acceptance rules per model version, written by
    # `doctriage-admin calibrate` and `make models` (proven on real labelled documents, with
    # provenance). Rules installed through Admin.SetThresholds (persisted runtime state) win over
    # it; "" or none = the bands alone decide. The deployment file names the release's.
    acceptance_rule_file: Path | None = None

    @field_validator("acceptance_rule_file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value in ("", "none", "None") else value

    moved = {"rule_file": "decision.rule_file is now decision.acceptance_rule_file (one name per kind of rule)"}


class BatchingSettings(_Section):
    """Dynamic batcher per loaded model version (bench/batching/README.md: why these defaults)."""

    enabled: bool = True
    max_batch_size: int = Field(default=8, ge=1)
    # Longest a request waits for companions once the first of a batch arrived. 0: never wait,
    # batch only what queued while the previous batch ran (no latency added at low load).
    max_delay_s: float = Field(default=0.0, ge=0)
    # Requests waiting per version; beyond it callers get RESOURCE_EXHAUSTED at once.
    max_queue: int = Field(default=64, ge=1)


class TrafficSettings(_Section):
    """Initial A/B split; Admin.SetTrafficSplit changes it live (persisted under state.dir). Empty
    weights: every request to models.default_version."""

    weights: dict[str, float] = Field(default_factory=dict)
    shadow_version: str = ""
    shadow_share: float = Field(default=0.0, ge=0, le=1)
    # The cascade: an answer of another version that would go to human review is asked again of this
    # version of the same model (one that reads the page's text, OCR included); its answer and decision
    # are returned, with reason ESCALATED_FROM_<version>. "" = no cascade.
    escalate_to: str = ""
    # Fallback model tried when the routed version fails or its breaker is open ("" = none).
    fallback_name: str = ""
    fallback_version: str = ""


class CacheSettings(_Section):
    enabled: bool = True
    max_bytes: int = Field(default=32 * MiB, ge=0)
    ttl_s: float = Field(default=3600.0, gt=0)


class ReviewSettings(_Section):
    # SQLite database (WAL) of the human review queue and the feedback table.
    path: Path = Path("var/review.sqlite3")
    lease_s: float = Field(default=600.0, gt=0)
    max_page_size: int = Field(default=500, ge=1)
    # How long a write waits for a lock another process holds (a review tool, a backup) before the
    # request is answered UNAVAILABLE / REVIEW_QUEUE_UNAVAILABLE. Short: the wait holds a CPU worker.
    busy_timeout_s: float = Field(default=5.0, gt=0)


class BusinessRulesSettings(_Section):
    # Declarative business rules per label (TOML).
    path: Path = Path("config/rules.toml")


class BreakerSettings(_Section):
    """Circuit breaker around each model version."""

    # Consecutive failures (errors, timeouts, over-budget calls) that open it.
    failure_threshold: int = Field(default=5, ge=1)
    # Seconds open before one probe call is let through (HALF_OPEN).
    reset_timeout_s: float = Field(default=10.0, gt=0)
    # One inference call slower than this counts as a failure.
    latency_budget_s: float = Field(default=2.0, gt=0)
    # A call still running after this is abandoned (a failure; the request falls back).
    call_timeout_s: float = Field(default=5.0, gt=0)


class StateSettings(_Section):
    # Runtime changes made through Admin (thresholds, traffic split, loaded models) persist here.
    dir: Path = Path("var")


class ApiKey(_Section):
    """One client key: stored hashed, never in clear (`python -m sidecar hash-key` prints the entry)."""

    id: str = Field(min_length=1, max_length=64)  # logged (audit lines); the key itself never is
    # "sha256:<hex>" of the key, or "scrypt:<salt hex>:<hash hex>" (n=2**14, r=8, p=1, 32 bytes).
    hash: str = Field(min_length=8)
    roles: list[Literal["classify", "review", "admin"]] = ["classify"]
    # Per-key rate limit override (requests or stream messages per second); None = the default.
    rate_per_s: float | None = Field(default=None, gt=0)
    burst: int | None = Field(default=None, ge=1)


class AuthSettings(_Section):
    # On by default: turning it off must be explicit, and the server logs a warning when it is.
    enabled: bool = True
    keys: list[ApiKey] = []
    # TLS when both are set; mutual TLS when client_ca_file is set too (client certificates required).
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    client_ca_file: Path | None = None


class RateLimitSettings(_Section):
    enabled: bool = True
    # Token bucket per client key (per peer address when auth is off).
    rate_per_s: float = Field(default=100.0, gt=0)
    burst: int = Field(default=200, ge=1)


class MetricsSettings(_Section):
    enabled: bool = True
    # Prometheus exporter (HTTP, /metrics); port 0 = ephemeral (tests).
    address: str = "127.0.0.1"
    port: int = Field(default=9464, ge=0, le=65535)


class CostSettings(_Section):
    currency: str = "USD"
    # Price of one CPU second / one GPU second (e.g. on-demand instance price / vCPUs / 3600).
    cpu_second_price: float = Field(default=0.0000125, ge=0)
    gpu_second_price: float = Field(default=0.0007, ge=0)
    daily_budget: float = Field(default=10.0, ge=0)


class DriftSettings(_Section):
    enabled: bool = True
    # Share of documents whose drift features (thumbnail statistics, ~1.5 ms of CPU a page) are
    # computed: every 1/rate-th, counted per process (bench/RESULTS.md). The confidence window sees
    # every document. 1 = all.
    sample_rate: float = Field(default=0.25, gt=0, le=1)
    # Observations per window (sliding for KL/PSI; tumbling for the previous-window mean confidence).
    window_size: int = Field(default=1000, ge=10)
    # Smoothing added to every bin before KL divergence and PSI.
    epsilon: float = Field(default=1e-4, gt=0)


class LoggingSettings(_Section):
    level: str = "INFO"
    json_logs: bool = True


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DOCTRIAGE_", env_nested_delimiter="__", extra="forbid", toml_file=None
    )

    # Where the release lives (models/, config/, var/): relative paths below are taken from here.
    # `doctriage-sidecar serve` requires it (--data-dir, DOCTRIAGE_DATA_DIR or the settings file);
    # in-process users (tests, training, tools) get the working directory.
    data_dir: Path = Field(default_factory=Path.cwd)
    server: ServerSettings = ServerSettings()
    validation: ValidationSettings = ValidationSettings()
    scanner: ScannerSettings = ScannerSettings()
    models: ModelSettings = ModelSettings()
    decision: DecisionSettings = DecisionSettings()
    preprocess: PreprocessSettings = PreprocessSettings()
    ocr: OcrSettings = OcrSettings()
    logging: LoggingSettings = LoggingSettings()
    auth: AuthSettings = AuthSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    metrics: MetricsSettings = MetricsSettings()
    cost: CostSettings = CostSettings()
    drift: DriftSettings = DriftSettings()
    batching: BatchingSettings = BatchingSettings()
    traffic: TrafficSettings = TrafficSettings()
    cache: CacheSettings = CacheSettings()
    review: ReviewSettings = ReviewSettings()
    business_rules: BusinessRulesSettings = BusinessRulesSettings()
    breaker: BreakerSettings = BreakerSettings()
    state: StateSettings = StateSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = os.environ.get("DOCTRIAGE_CONFIG")
        if path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(path)))
        return tuple(sources)

    # Per section, the keys whose value came from the deployment file (GetStatus reports origins).
    _deployed: dict[str, frozenset[str]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "rules" in data:
            raise ValueError("the [rules] section is now [business_rules] (one name per kind of rule)")
        return data

    @model_validator(mode="after")
    def _release_and_paths(self) -> Settings:
        given = "data_dir" in self.model_fields_set
        self.data_dir = self.data_dir.absolute()
        if not given:  # the assignment above is not the caller's: `serve` checks that one was given
            self.__pydantic_fields_set__.discard("data_dir")
        self.models.root = self._at(self.models.root)
        self._apply_deployment(self.models.root / DEPLOYMENT_FILE)
        self.business_rules.path = self._at(self.business_rules.path)
        self.state.dir = self._at(self.state.dir)
        self.review.path = self._at(self.review.path)
        if self.decision.acceptance_rule_file is not None:
            self.decision.acceptance_rule_file = self._at(self.decision.acceptance_rule_file)
        kind, _, where = self.scanner.address.partition(":")
        if kind == "unix" and not Path(where).is_absolute():
            self.scanner.address = f"unix:{self._at(Path(where))}"
        return self

    def _at(self, path: Path) -> Path:
        return path if path.is_absolute() else self.data_dir / path

    def _apply_deployment(self, path: Path) -> None:
        """The release's facts, for every key no other source set."""
        if not path.is_file():
            return
        data = tomllib.loads(path.read_text())
        unknown = set(data) - set(DEPLOYMENT_SECTIONS)
        if unknown:
            raise ValueError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}; known: {DEPLOYMENT_SECTIONS}")
        for section, values in data.items():
            current: BaseModel = getattr(self, section)
            unknown = set(values) - set(type(current).model_fields)
            if unknown:
                raise ValueError(f"{path}: [{section}] has unknown key(s) {', '.join(sorted(unknown))}")
            taken = {k: v for k, v in values.items() if k not in current.model_fields_set}
            merged = {**current.model_dump(exclude_unset=True), **taken}
            updated = type(current).model_validate(merged)
            updated.__pydantic_fields_set__ = set(current.model_fields_set)  # what the deployment set is not "set"
            setattr(self, section, updated)
            self._deployed[section] = frozenset(taken)

    def deployed(self, section: str, key: str) -> bool:
        """Whether the value of `section.key` came from the deployment file."""
        return key in self._deployed.get(section, frozenset())

    def digest(self) -> str:
        """SHA-256 of the effective configuration (reported by Admin.GetStatus)."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
