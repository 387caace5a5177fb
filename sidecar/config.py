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

from sidecar.cpus import available_cpus

MiB = 1024 * 1024
# The release's deployment file, beside its models (models.root).
DEPLOYMENT_FILE = "deployment.toml"
DEPLOYMENT_SECTIONS = ("models", "traffic", "decision")
# The confidence bands when nothing else says (sidecar/decision/decide.py reads these too).
DEFAULT_ACCEPT = 0.85
DEFAULT_REVIEW_BELOW = 0.60
# Where pages are normalized and models run (models.device; sidecar/pipeline/normalizer.py).
Device = Literal["auto", "cpu", "cuda"]


def _cores() -> int:
    """the CPUs this process may use (affinity, capped by a container's CPU limit: sidecar/cpus.py)"""
    return available_cpus()


def _four_per_core() -> int:
    """4 x the CPUs this process may use (affinity, capped by a container's CPU limit)"""
    return 4 * available_cpus()


class _Section(BaseModel):
    """A settings section: a key it does not know is refused (a typo never passes silently), a key
    that moved is refused with where it went. The docstring under each key is its description
    (docs/CONFIGURATION.md is generated from them: `make config-reference`)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)
    moved: ClassVar[dict[str, str]] = {}  # old key -> the message that says where it went

    @model_validator(mode="before")
    @classmethod
    def _refuse_moved(cls, data: Any) -> Any:
        for old, message in cls.moved.items():
            if isinstance(data, dict) and old in data:
                raise ValueError(message)
        return data


class ServerSettings(_Section):
    """The gRPC server: where it listens, how much work it takes on at once, how it stops."""

    address: str = "127.0.0.1:50051"
    """host:port the gRPC server listens on (port 0: an ephemeral one, logged in the `serving` line)."""
    health_address: str = ""
    """A second listener, always plaintext, that serves grpc.health.v1 only (e.g. "0.0.0.0:50052"): for
    probes that speak no TLS (kubelet's gRPC probes, the image's HEALTHCHECK) when auth.tls_* makes
    `address` TLS-only. Empty: health is served on `address` alone."""
    workers: int = Field(default_factory=_cores, ge=1)
    """Threads of the one executor that runs CPU work (validation, decode, inference)."""
    max_concurrent_requests: int = Field(default_factory=_four_per_core, ge=1)
    """Requests run through the pipeline at once; the rest wait in one queue (sidecar/dataplane/admission.py).
    Throughput saturates at ~2 per core and p95 passes 500 ms beyond ~4 per core
    (bench/concurrency/results.md): 4 per core."""
    max_queued_requests: int | None = Field(default=None, ge=0)
    """Requests waiting for a slot at most (they hold their bytes); beyond it RESOURCE_EXHAUSTED at once
    with the expected wait as RetryInfo. Unset: 4 x max_concurrent_requests."""
    queue_delay_target_s: float = Field(default=0.0, ge=0)
    """Refuse at once a request whose expected queueing delay exceeds this (0 = no bound but the queue's
    length). A request whose expected wait does not fit its deadline is refused at once regardless."""

    @property
    def queue_limit(self) -> int:
        return 4 * self.max_concurrent_requests if self.max_queued_requests is None else self.max_queued_requests

    grace_period_s: float = Field(default=10.0, ge=0)
    """SIGTERM: seconds in-flight requests get to finish."""
    default_deadline_s: float = Field(default=30.0, gt=0)
    """Deadline applied when the caller sends none."""


# What a validation finding does: refuse the document, or accept it with a flag on the response.
FindingPolicy = Literal["refuse", "flag"]


class ValidationSettings(_Section):
    """What a document may be (docs/validation.md). Each finding policy is "refuse" (INVALID_ARGUMENT
    with the finding's reason) or "flag" (classified, the finding in the response's flags)."""

    max_bytes: int = Field(default=10 * MiB, ge=1)
    """Larger documents are refused TOO_LARGE (gRPC's own message limit is twice this plus 1 MiB)."""
    max_pixels: int = Field(default=100_000_000, ge=1)
    """Refuse images whose declared pixel count exceeds this before decoding anything (DECOMPRESSION_BOMB)."""
    max_pages: int = Field(default=2_000, ge=1)
    """Refuse PDFs whose page count estimate exceeds this (TOO_LARGE)."""
    max_metadata_entries: int = Field(default=64, ge=0)
    """The request's metadata (what business rules read): at most this many entries; beyond,
    INVALID_ARGUMENT / INVALID_REQUEST."""
    max_metadata_bytes: int = Field(default=16 * 1024, ge=0)
    """The request's metadata: at most this many bytes of keys and values together; beyond,
    INVALID_ARGUMENT / INVALID_REQUEST."""
    encrypted: FindingPolicy = "flag"
    """/Encrypt. "flag": read it when it opens without a password (owner-password-only PDFs, how banks
    issue statements; clamd decrypts those too); one that needs a password is refused ENCRYPTED at decode."""
    active_content: FindingPolicy = "refuse"
    """What runs by itself when a reader opens the PDF: /OpenAction and document or page actions that
    script, launch or submit, document-level JavaScript, /Launch, /RichMedia (pdf_actions.py)."""
    form_scripts: FindingPolicy = "flag"
    """What only a fillable form runs for its fields (format, keystroke, validate and calculate scripts,
    click actions, XFA): government and tax forms carry them. Classified and flagged FORM_SCRIPT."""
    embedded_file: FindingPolicy = "flag"
    """Attachments: Factur-X/ZUGFeRD e-invoices embed their XML, IRS forms a small stream. Never opened
    here; clamd unpacks and scans them (a signature inside a compressed attachment is found)."""
    trailing_data: FindingPolicy = "flag"
    """Bytes after the end marker (common in phone JPEGs)."""
    polyglot: FindingPolicy = "refuse"
    """The bytes are also another format (PDF header in an image, ZIP tail)."""
    type_mismatch: FindingPolicy = "flag"
    """The declared MIME type or the file name's extension names another type than the content (a JPEG
    saved as .png). "flag": validated and classified as what the content is, flagged TYPE_MISMATCH."""


class ScannerSettings(_Section):
    """The clamd malware scanner (INSTREAM over a unix or TCP socket)."""

    enabled: bool = True
    """Scan every document with clamd before it is classified (off: responses are flagged SCAN_SKIPPED)."""
    address: str = "unix:var/clamd/clamd.sock"
    """"unix:/path/to/clamd.sock" or "tcp:host:port"; a relative unix path is taken from data_dir."""
    fail_open: bool = False
    """False: scanner down refuses requests (UNAVAILABLE, SCANNER_UNAVAILABLE). True: they pass, flagged
    SCAN_SKIPPED."""
    connect_timeout_s: float = Field(default=1.0, gt=0)
    """Seconds to connect to clamd (twice this for the health probe's PING)."""
    scan_timeout_s: float = Field(default=10.0, gt=0)
    """Per document: sending the bytes and waiting for the verdict."""
    stream_max_bytes: int = Field(default=12 * MiB, ge=1)
    """Must not exceed clamd's StreamMaxLength (deploy/clamav/clamd.conf.in sets 12M)."""
    chunk_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * MiB)
    """Bytes per INSTREAM chunk sent to clamd."""
    pool_size: int = Field(default=4, ge=1)
    """Scans in flight at once, each on an IDSESSION connection kept for reuse (clamd MaxThreads is 4)."""
    overlap_decode: bool = True
    """True (default): clamd scans while the executor validates and decodes the document, so the
    round trip hides behind the decode; an infected document is still refused as MALWARE and never
    classified. False: nothing decodes a document before clamd cleared it (validation's structural
    parse excepted), at the cost of the round trip on every request."""


class ModelSettings(_Section):
    """The models served: where they are, which one, and where they run."""

    root: Path = Path("models")
    """The release's models (`<root>/<name>/<version>/`) and its deployment file (`<root>/deployment.toml`)."""
    name: str = ""
    """The model served (the deployment file names it)."""
    default_version: str = ""
    """The version served when the traffic split names none (the deployment file names it)."""
    intra_op_threads: int = Field(default=1, ge=1)
    """onnxruntime intra-op threads per session; 1 keeps a serial caller fast (no spinning)."""
    device: Device = "auto"
    """Where pages are normalized and models run, chosen once at start-up and reported by GetStatus:
    "auto" = the GPU when one is usable (CuPy normalizes; ONNX Runtime's CUDA provider runs the
    models when the onnxruntime-gpu build offers it), else the CPU (numpy, CPU provider);
    "cuda" = the GPU or the sidecar does not start; "cpu" = never the GPU."""


class PreprocessSettings(_Section):
    """Rendering a PDF's first page (docs/preprocessing.md)."""

    pdf_max_objects: int = Field(default=100_000, ge=1)
    """PDF page 1: refuse pages with more objects than this before rendering (MALFORMED)."""
    pdf_render_timeout_s: float = Field(default=1.0, gt=0)
    """PDF page 1: abandon a render that takes longer (MALFORMED); it holds the process-wide PDFium lock."""

    moved = {"device": "preprocess.device is gone: models.device (auto | cpu | cuda) sets both"}


class OcrSettings(_Section):
    """Reading the text of pages without a text layer: tesseract, then PP-OCR for what it reads poorly;
    only when a stage needs text (docs/preprocessing.md)."""

    enabled: bool = True
    """Off: pages without a text layer have no text (business rules and text models see none)."""
    tessdata: Path | None = None
    """tessdata directory; unset = $TESSDATA_PREFIX, then /usr/share/tesseract-ocr/5/tessdata."""
    languages: str = "eng"
    """tesseract languages, in its syntax, e.g. "eng+deu"."""
    workers: int = Field(default_factory=_cores, ge=1)
    """PyTessBaseAPI instances (one per executor worker), created once at startup."""
    page_timeout_s: float = Field(default=5.0, gt=0)
    """Per page; a page that takes longer yields no text (timed_out) rather than a stuck worker."""
    max_side: int = Field(default=3000, ge=256)
    """Longest side of the page image handed to tesseract (~250 dpi for A4)."""
    min_side: int = Field(default=1400, ge=0)
    """Pages whose longest side is shorter are upscaled to it first (0 = never): tesseract wants letters
    ~20 px high, and a 400 px card scan or a 640 px phone photo has 5-8 px letters."""
    reorient_below: float = Field(default=50.0, ge=0, le=100)
    """A landscape page read with a mean confidence below this (0-100) goes through tesseract's
    orientation detection and is read again upright when it was sideways (0 = never)."""
    rebinarize_below: float = Field(default=50.0, ge=0, le=100)
    """A page read with a mean confidence below this (0-100) is read again with local (Sauvola)
    thresholds instead of tesseract's one global (Otsu) threshold, which blanks out phone photos
    with uneven light and shadows; the read with more confident words is kept (0 = never)."""
    fallback: Literal["none", "rapidocr"] = "rapidocr"
    """Second OCR engine for pages tesseract still reads poorly after the passes above (phone photos:
    skewed, crumpled, dim): PP-OCR through rapidocr, models bundled in its wheel (no download).
    "none" = tesseract alone. Without rapidocr or its model files, tesseract alone (logged once)."""
    fallback_below: float = Field(default=65.0, ge=0, le=100)
    """A page read with a tesseract mean word confidence below this (0-100) is read again by the
    fallback (0 = never); its text is kept when its mean line score is >= 0.90, else the read with
    more characters (bench/ocr/README.md: confidence < 65 caught 10 of 12 failed photos, 1 needless)."""
    fallback_max_side: int = Field(default=960, ge=256)
    """Longest side of the page the fallback reads (detection cost grows with it: p50 1.3 s, p95 2.3 s
    per photo at 960 on a loaded 2-core machine; 1280: +3 % characters, p95 3.1 s)."""
    cache_entries: int = Field(default=1024, ge=0)
    """OCR results kept in memory (least recently used out), so a page read again is not re-read
    (0 = none)."""


class DecisionSettings(_Section):
    """The confidence bands and the acceptance-rule file (Admin.SetThresholds changes them live)."""

    accept: float = Field(default=DEFAULT_ACCEPT, ge=0, le=1)
    """Calibrated confidence >= this: ACCEPTED (when no acceptance rule decides)."""
    review_below: float = Field(default=DEFAULT_REVIEW_BELOW, ge=0, le=1)
    """Calibrated confidence < this: HUMAN_REVIEW; between the two, the label's business rules decide."""
    acceptance_rule_file: Path | None = None
    """The acceptance-rule file: risk-controlled acceptance rules per model version, written by
    `doctriage-admin calibrate` and `make models` (proven on real labelled documents, with
    provenance). Rules installed through Admin.SetThresholds (persisted runtime state) win over
    it; "" or none = the bands alone decide. The deployment file names the release's."""

    @field_validator("acceptance_rule_file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value in ("", "none", "None") else value

    moved = {"rule_file": "decision.rule_file is now decision.acceptance_rule_file (one name per kind of rule)"}


class BatchingSettings(_Section):
    """Dynamic batcher per loaded model version (bench/batching/README.md: why these defaults)."""

    enabled: bool = True
    """Off: every page runs through the model alone."""
    max_batch_size: int = Field(default=8, ge=1)
    """Pages run through a model version in one call at most."""
    max_delay_s: float = Field(default=0.0, ge=0)
    """Longest a request waits for companions once the first of a batch arrived. 0: never wait,
    batch only what queued while the previous batch ran (no latency added at low load)."""
    max_queue: int = Field(default=64, ge=1)
    """Requests waiting per version; beyond it callers get RESOURCE_EXHAUSTED at once."""


class TrafficSettings(_Section):
    """Initial A/B split; Admin.SetTrafficSplit changes it live (persisted under state.dir). Empty
    weights: every request to models.default_version."""

    weights: dict[str, float] = Field(default_factory=dict)
    """Share of requests per version of models.name, e.g. { "2.3" = 0.9, "2.4" = 0.1 } (sticky per
    routing key)."""
    shadow_version: str = ""
    """Also run this version on shadow_share of requests; its answers are recorded, never returned."""
    shadow_share: float = Field(default=0.0, ge=0, le=1)
    """Share of requests (0..1) copied to shadow_version."""
    escalate_to: str = ""
    """The cascade: an answer of another version that would go to human review is asked again of this
    version of the same model (one that reads the page's text, OCR included); its answer and decision
    are returned, with reason ESCALATED_FROM_<version>. "" = no cascade."""
    fallback_name: str = ""
    """Fallback model tried when the routed version fails or its breaker is open ("" = none)."""
    fallback_version: str = ""
    """The fallback model's version."""


class CacheSettings(_Section):
    """Answers kept by (document digest, model version, preprocessing version): the same document again
    is answered from here (source CACHE), and the latest answer for the same bytes is a fallback when
    the models fail."""

    enabled: bool = True
    """Off: every document runs through the model."""
    max_bytes: int = Field(default=32 * MiB, ge=0)
    """Memory the cached answers may take (least recently used out)."""
    ttl_s: float = Field(default=3600.0, gt=0)
    """Seconds an answer is served from the cache."""


class ReviewSettings(_Section):
    """The human review queue (Admin ListReviews, ClaimReview, ResolveReview)."""

    path: Path = Path("var/review.sqlite3")
    """SQLite database (WAL) of the human review queue and the feedback table."""
    lease_s: float = Field(default=600.0, gt=0)
    """Seconds a claim holds an item when the reviewer asks for no lease of its own; then it is pending
    again."""
    max_page_size: int = Field(default=500, ge=1)
    """Items one ListReviews page returns at most (50 when the caller asks for none)."""
    busy_timeout_s: float = Field(default=5.0, gt=0)
    """How long a write waits for a lock another process holds (a review tool, a backup) before the
    request is answered UNAVAILABLE / REVIEW_QUEUE_UNAVAILABLE. Short: the review writes queued behind it
    (on the review desk's one thread) wait as long."""


class BusinessRulesSettings(_Section):
    """The per-label business rules (sidecar/pipeline/rules.py)."""

    path: Path = Path("config/rules.toml")
    """Declarative business rules per label (TOML)."""


class BreakerSettings(_Section):
    """Circuit breaker around each model version."""

    failure_threshold: int = Field(default=5, ge=1)
    """Consecutive failures (errors, timeouts, over-budget calls) that open it."""
    reset_timeout_s: float = Field(default=10.0, gt=0)
    """Seconds open before one probe call is let through (HALF_OPEN)."""
    latency_budget_s: float = Field(default=2.0, gt=0)
    """One inference call slower than this counts as a failure."""
    call_timeout_s: float = Field(default=5.0, gt=0)
    """A call still running after this is abandoned (a failure; the request falls back)."""


class StateSettings(_Section):
    """The runtime state: what was changed through Admin, kept across restarts."""

    dir: Path = Path("var")
    """Runtime changes made through Admin (thresholds, traffic split, loaded models) persist here
    (runtime-state.json)."""


class ApiKey(_Section):
    """One client key: stored hashed, never in clear (`python -m sidecar hash-key` prints the entry)."""

    id: str = Field(min_length=1, max_length=64)
    """The key's name, logged (audit lines); the key itself never is."""
    hash: str = Field(min_length=8)
    """"sha256:<hex>" of the key, or "scrypt:<salt hex>:<hash hex>" (n=2**14, r=8, p=1, 32 bytes)."""
    roles: list[Literal["classify", "review", "admin"]] = ["classify"]
    """What the key may call: "classify" the Classifier, "review" the review queue RPCs, "admin" the
    other Admin RPCs."""
    rate_per_s: float | None = Field(default=None, gt=0)
    """Per-key rate limit override (requests or stream messages per second); unset = rate_limit.rate_per_s."""
    burst: int | None = Field(default=None, ge=1)
    """Per-key burst override; unset = rate_limit.burst."""


class AuthSettings(_Section):
    """API keys with roles, TLS and mutual TLS (docs/operations.md)."""

    enabled: bool = True
    """On by default: turning it off must be explicit, and the server logs a warning when it is."""
    keys: list[ApiKey] = []
    """The client keys, hashed (`python -m sidecar hash-key` prints an entry); each one's fields are
    below (auth.keys[].…)."""
    tls_cert_file: Path | None = None
    """PEM server certificate: TLS when it and tls_key_file are set (the port then serves TLS only)."""
    tls_key_file: Path | None = None
    """PEM private key of tls_cert_file."""
    client_ca_file: Path | None = None
    """PEM CA: mutual TLS, client certificates from this CA required (the API key still is)."""


class RateLimitSettings(_Section):
    """A token bucket per client key (per peer address when auth is off): RESOURCE_EXHAUSTED /
    RATE_LIMITED when empty."""

    enabled: bool = True
    """Off: no rate limit."""
    rate_per_s: float = Field(default=100.0, gt=0)
    """Requests (or stream messages) per second each bucket refills with."""
    burst: int = Field(default=200, ge=1)
    """Requests a full bucket holds."""


class MetricsSettings(_Section):
    """The Prometheus exporter (HTTP, /metrics; sidecar/observability/metrics.py)."""

    enabled: bool = True
    """Off: no exporter is started."""
    address: str = "127.0.0.1"
    """Address the exporter listens on."""
    port: int = Field(default=9464, ge=0, le=65535)
    """Its port; 0 = ephemeral (tests)."""


class CostSettings(_Section):
    """The cost of each prediction, from the CPU and GPU seconds measured for it."""

    currency: str = "USD"
    """The currency of the prices below (the cost metrics are in it)."""
    cpu_second_price: float = Field(default=0.0000125, ge=0)
    """Price of one CPU second (e.g. on-demand instance price / vCPUs / 3600)."""
    gpu_second_price: float = Field(default=0.0007, ge=0)
    """Price of one GPU second."""
    daily_budget: float = Field(default=10.0, ge=0)
    """Exported as doctriage_cost_budget_daily; an alert fires when a day's cost passes 120 % of it."""


class DriftSettings(_Section):
    """Input and confidence drift against the manifest's reference distributions (KL, PSI; Admin.GetDrift)."""

    enabled: bool = True
    """Off: nothing is measured."""
    sample_rate: float = Field(default=0.25, gt=0, le=1)
    """Share of documents whose drift features (thumbnail statistics, ~1.5 ms of CPU a page) are
    computed: every 1/rate-th, counted per process (bench/RESULTS.md). The confidence window sees
    every document. 1 = all."""
    window_size: int = Field(default=1000, ge=10)
    """Observations per window (sliding for KL/PSI; tumbling for the previous-window mean confidence)."""
    epsilon: float = Field(default=1e-4, gt=0)
    """Smoothing added to every bin before KL divergence and PSI."""


class LoggingSettings(_Section):
    """The sidecar's log (stderr, structlog)."""

    level: str = "INFO"
    """Python log level name of the sidecar's own lines (third-party libraries: WARNING and up)."""
    json_logs: bool = True
    """One JSON object per line; false: human-readable console lines."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DOCTRIAGE_",
        env_nested_delimiter="__",
        extra="forbid",
        toml_file=None,
        use_attribute_docstrings=True,
    )

    data_dir: Path = Field(default_factory=Path.cwd)
    """Where the release lives (models/, config/, var/): relative paths below are taken from here.
    `doctriage-sidecar serve` requires it (--data-dir, DOCTRIAGE_DATA_DIR or the settings file);
    in-process users (tests, training, tools) get the working directory."""
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

    def missing_from_data_dir(self) -> list[str]:
        """What `serve` needs of the data directory and does not find (empty: nothing). The sidecar
        reads the release from there only, never from the source checkout or the installed package."""
        if not self.data_dir.is_dir():
            return [f"the data directory {self.data_dir} does not exist"]
        missing = []
        root = self.models.root
        if not root.is_dir():
            missing.append(f"no models directory {root} (models.root; the release's models/)")
        elif not self.models.name:
            missing.append(f"no model to serve: {root / DEPLOYMENT_FILE} is absent and models.name is not set")
        elif not (root / self.models.name).is_dir():
            missing.append(f"no model {self.models.name!r} under {root}")
        if not self.business_rules.path.is_file():
            missing.append(
                f"no business-rules file {self.business_rules.path} (business_rules.path; the release's config/)"
            )
        rule_file = self.decision.acceptance_rule_file
        if rule_file is not None and not rule_file.is_file():
            missing.append(
                f'no acceptance-rule file {rule_file} (decision.acceptance_rule_file; "" for the bands alone)'
            )
        return missing

    def deployed(self, section: str, key: str) -> bool:
        """Whether the value of `section.key` came from the deployment file."""
        return key in self._deployed.get(section, frozenset())

    def digest(self) -> str:
        """SHA-256 of the effective configuration (reported by Admin.GetStatus)."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
