from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ModelState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_STATE_UNSPECIFIED: _ClassVar[ModelState]
    LOADING: _ClassVar[ModelState]
    READY: _ClassVar[ModelState]
    FAILED: _ClassVar[ModelState]
    UNLOADED: _ClassVar[ModelState]

class ReviewStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REVIEW_STATUS_UNSPECIFIED: _ClassVar[ReviewStatus]
    PENDING: _ClassVar[ReviewStatus]
    CLAIMED: _ClassVar[ReviewStatus]
    RESOLVED: _ClassVar[ReviewStatus]
MODEL_STATE_UNSPECIFIED: ModelState
LOADING: ModelState
READY: ModelState
FAILED: ModelState
UNLOADED: ModelState
REVIEW_STATUS_UNSPECIFIED: ReviewStatus
PENDING: ReviewStatus
CLAIMED: ReviewStatus
RESOLVED: ReviewStatus

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("name", "version", "state", "provider", "preprocessing_version", "labels", "error", "path")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PREPROCESSING_VERSION_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    state: ModelState
    provider: str
    preprocessing_version: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    error: str
    path: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., state: _Optional[_Union[ModelState, str]] = ..., provider: _Optional[str] = ..., preprocessing_version: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., error: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class GetStatusResponse(_message.Message):
    __slots__ = ("version", "uptime_seconds", "models", "device", "config_digest", "serving", "scanner_available", "hotpath", "normalizer", "thresholds_origins", "traffic_split_origin")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    CONFIG_DIGEST_FIELD_NUMBER: _ClassVar[int]
    SERVING_FIELD_NUMBER: _ClassVar[int]
    SCANNER_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    HOTPATH_FIELD_NUMBER: _ClassVar[int]
    NORMALIZER_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_ORIGINS_FIELD_NUMBER: _ClassVar[int]
    TRAFFIC_SPLIT_ORIGIN_FIELD_NUMBER: _ClassVar[int]
    version: str
    uptime_seconds: float
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    device: str
    config_digest: str
    serving: bool
    scanner_available: bool
    hotpath: str
    normalizer: str
    thresholds_origins: _containers.RepeatedCompositeFieldContainer[ThresholdsOrigin]
    traffic_split_origin: str
    def __init__(self, version: _Optional[str] = ..., uptime_seconds: _Optional[float] = ..., models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ..., device: _Optional[str] = ..., config_digest: _Optional[str] = ..., serving: _Optional[bool] = ..., scanner_available: _Optional[bool] = ..., hotpath: _Optional[str] = ..., normalizer: _Optional[str] = ..., thresholds_origins: _Optional[_Iterable[_Union[ThresholdsOrigin, _Mapping]]] = ..., traffic_split_origin: _Optional[str] = ...) -> None: ...

class ThresholdsOrigin(_message.Message):
    __slots__ = ("model_version", "bands", "rule")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    BANDS_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    model_version: str
    bands: str
    rule: str
    def __init__(self, model_version: _Optional[str] = ..., bands: _Optional[str] = ..., rule: _Optional[str] = ...) -> None: ...

class LabelThresholds(_message.Message):
    __slots__ = ("accept", "review_below")
    ACCEPT_FIELD_NUMBER: _ClassVar[int]
    REVIEW_BELOW_FIELD_NUMBER: _ClassVar[int]
    accept: float
    review_below: float
    def __init__(self, accept: _Optional[float] = ..., review_below: _Optional[float] = ...) -> None: ...

class Thresholds(_message.Message):
    __slots__ = ("default", "per_label", "model_version", "provenance", "rule", "audit_rate")
    class PerLabelEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: LabelThresholds
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[LabelThresholds, _Mapping]] = ...) -> None: ...
    DEFAULT_FIELD_NUMBER: _ClassVar[int]
    PER_LABEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    AUDIT_RATE_FIELD_NUMBER: _ClassVar[int]
    default: LabelThresholds
    per_label: _containers.MessageMap[str, LabelThresholds]
    model_version: str
    provenance: str
    rule: AcceptanceRule
    audit_rate: float
    def __init__(self, default: _Optional[_Union[LabelThresholds, _Mapping]] = ..., per_label: _Optional[_Mapping[str, LabelThresholds]] = ..., model_version: _Optional[str] = ..., provenance: _Optional[str] = ..., rule: _Optional[_Union[AcceptanceRule, _Mapping]] = ..., audit_rate: _Optional[float] = ...) -> None: ...

class AcceptanceRule(_message.Message):
    __slots__ = ("proven", "confidence_threshold", "per_label", "ood_threshold", "require_agreement", "require_rules", "excluded_labels", "alpha", "delta", "n", "silent_failures", "accepted", "risk_upper", "coverage", "method", "hypotheses", "model_version", "created", "data_digest", "note", "second_model")
    class PerLabelEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    PROVEN_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    PER_LABEL_FIELD_NUMBER: _ClassVar[int]
    OOD_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_RULES_FIELD_NUMBER: _ClassVar[int]
    EXCLUDED_LABELS_FIELD_NUMBER: _ClassVar[int]
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    SILENT_FAILURES_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    RISK_UPPER_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    HYPOTHESES_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    DATA_DIGEST_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    SECOND_MODEL_FIELD_NUMBER: _ClassVar[int]
    proven: bool
    confidence_threshold: float
    per_label: _containers.ScalarMap[str, float]
    ood_threshold: float
    require_agreement: bool
    require_rules: bool
    excluded_labels: _containers.RepeatedScalarFieldContainer[str]
    alpha: float
    delta: float
    n: int
    silent_failures: int
    accepted: int
    risk_upper: float
    coverage: float
    method: str
    hypotheses: int
    model_version: str
    created: str
    data_digest: str
    note: str
    second_model: str
    def __init__(self, proven: _Optional[bool] = ..., confidence_threshold: _Optional[float] = ..., per_label: _Optional[_Mapping[str, float]] = ..., ood_threshold: _Optional[float] = ..., require_agreement: _Optional[bool] = ..., require_rules: _Optional[bool] = ..., excluded_labels: _Optional[_Iterable[str]] = ..., alpha: _Optional[float] = ..., delta: _Optional[float] = ..., n: _Optional[int] = ..., silent_failures: _Optional[int] = ..., accepted: _Optional[int] = ..., risk_upper: _Optional[float] = ..., coverage: _Optional[float] = ..., method: _Optional[str] = ..., hypotheses: _Optional[int] = ..., model_version: _Optional[str] = ..., created: _Optional[str] = ..., data_digest: _Optional[str] = ..., note: _Optional[str] = ..., second_model: _Optional[str] = ...) -> None: ...

class GetThresholdsRequest(_message.Message):
    __slots__ = ("model_version",)
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    model_version: str
    def __init__(self, model_version: _Optional[str] = ...) -> None: ...

class SetThresholdsRequest(_message.Message):
    __slots__ = ("thresholds",)
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    thresholds: Thresholds
    def __init__(self, thresholds: _Optional[_Union[Thresholds, _Mapping]] = ...) -> None: ...

class VersionWeight(_message.Message):
    __slots__ = ("version", "weight")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    version: str
    weight: float
    def __init__(self, version: _Optional[str] = ..., weight: _Optional[float] = ...) -> None: ...

class TrafficSplit(_message.Message):
    __slots__ = ("model_name", "weights", "shadow_version", "shadow_share")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    SHADOW_VERSION_FIELD_NUMBER: _ClassVar[int]
    SHADOW_SHARE_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    weights: _containers.RepeatedCompositeFieldContainer[VersionWeight]
    shadow_version: str
    shadow_share: float
    def __init__(self, model_name: _Optional[str] = ..., weights: _Optional[_Iterable[_Union[VersionWeight, _Mapping]]] = ..., shadow_version: _Optional[str] = ..., shadow_share: _Optional[float] = ...) -> None: ...

class GetTrafficSplitRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SetTrafficSplitRequest(_message.Message):
    __slots__ = ("split",)
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    split: TrafficSplit
    def __init__(self, split: _Optional[_Union[TrafficSplit, _Mapping]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    def __init__(self, models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ...) -> None: ...

class LoadModelRequest(_message.Message):
    __slots__ = ("name", "version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class UnloadModelRequest(_message.Message):
    __slots__ = ("name", "version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class ReviewItem(_message.Message):
    __slots__ = ("id", "digest", "predicted_label", "confidence", "reason", "status", "claimed_by", "true_label", "created_at", "model_version", "audit", "content_type", "content")
    ID_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_LABEL_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CLAIMED_BY_FIELD_NUMBER: _ClassVar[int]
    TRUE_LABEL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    AUDIT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    id: str
    digest: str
    predicted_label: str
    confidence: float
    reason: str
    status: ReviewStatus
    claimed_by: str
    true_label: str
    created_at: float
    model_version: str
    audit: bool
    content_type: str
    content: bytes
    def __init__(self, id: _Optional[str] = ..., digest: _Optional[str] = ..., predicted_label: _Optional[str] = ..., confidence: _Optional[float] = ..., reason: _Optional[str] = ..., status: _Optional[_Union[ReviewStatus, str]] = ..., claimed_by: _Optional[str] = ..., true_label: _Optional[str] = ..., created_at: _Optional[float] = ..., model_version: _Optional[str] = ..., audit: _Optional[bool] = ..., content_type: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...

class ListReviewsRequest(_message.Message):
    __slots__ = ("status", "label", "page_size", "page_token")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    status: ReviewStatus
    label: str
    page_size: int
    page_token: str
    def __init__(self, status: _Optional[_Union[ReviewStatus, str]] = ..., label: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListReviewsResponse(_message.Message):
    __slots__ = ("items", "next_page_token", "total")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ReviewItem]
    next_page_token: str
    total: int
    def __init__(self, items: _Optional[_Iterable[_Union[ReviewItem, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total: _Optional[int] = ...) -> None: ...

class ClaimReviewRequest(_message.Message):
    __slots__ = ("id", "reviewer", "lease_seconds")
    ID_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_FIELD_NUMBER: _ClassVar[int]
    LEASE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    reviewer: str
    lease_seconds: float
    def __init__(self, id: _Optional[str] = ..., reviewer: _Optional[str] = ..., lease_seconds: _Optional[float] = ...) -> None: ...

class ResolveReviewRequest(_message.Message):
    __slots__ = ("id", "true_label", "reviewer")
    ID_FIELD_NUMBER: _ClassVar[int]
    TRUE_LABEL_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_FIELD_NUMBER: _ClassVar[int]
    id: str
    true_label: str
    reviewer: str
    def __init__(self, id: _Optional[str] = ..., true_label: _Optional[str] = ..., reviewer: _Optional[str] = ...) -> None: ...

class GetStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Stats(_message.Message):
    __slots__ = ("requests", "by_decision", "by_label", "errors_by_reason", "fallbacks_by_reason", "cache_hits", "cache_misses", "review_queue_depth", "latency_p50_seconds", "latency_p95_seconds", "latency_p99_seconds", "cost_today")
    class ByDecisionEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ByLabelEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ErrorsByReasonEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class FallbacksByReasonEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    BY_DECISION_FIELD_NUMBER: _ClassVar[int]
    BY_LABEL_FIELD_NUMBER: _ClassVar[int]
    ERRORS_BY_REASON_FIELD_NUMBER: _ClassVar[int]
    FALLBACKS_BY_REASON_FIELD_NUMBER: _ClassVar[int]
    CACHE_HITS_FIELD_NUMBER: _ClassVar[int]
    CACHE_MISSES_FIELD_NUMBER: _ClassVar[int]
    REVIEW_QUEUE_DEPTH_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P95_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P99_SECONDS_FIELD_NUMBER: _ClassVar[int]
    COST_TODAY_FIELD_NUMBER: _ClassVar[int]
    requests: int
    by_decision: _containers.ScalarMap[str, int]
    by_label: _containers.ScalarMap[str, int]
    errors_by_reason: _containers.ScalarMap[str, int]
    fallbacks_by_reason: _containers.ScalarMap[str, int]
    cache_hits: int
    cache_misses: int
    review_queue_depth: int
    latency_p50_seconds: float
    latency_p95_seconds: float
    latency_p99_seconds: float
    cost_today: float
    def __init__(self, requests: _Optional[int] = ..., by_decision: _Optional[_Mapping[str, int]] = ..., by_label: _Optional[_Mapping[str, int]] = ..., errors_by_reason: _Optional[_Mapping[str, int]] = ..., fallbacks_by_reason: _Optional[_Mapping[str, int]] = ..., cache_hits: _Optional[int] = ..., cache_misses: _Optional[int] = ..., review_queue_depth: _Optional[int] = ..., latency_p50_seconds: _Optional[float] = ..., latency_p95_seconds: _Optional[float] = ..., latency_p99_seconds: _Optional[float] = ..., cost_today: _Optional[float] = ...) -> None: ...

class GetDriftRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class FeatureDrift(_message.Message):
    __slots__ = ("feature", "kl_divergence", "psi", "window_count")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    KL_DIVERGENCE_FIELD_NUMBER: _ClassVar[int]
    PSI_FIELD_NUMBER: _ClassVar[int]
    WINDOW_COUNT_FIELD_NUMBER: _ClassVar[int]
    feature: str
    kl_divergence: float
    psi: float
    window_count: int
    def __init__(self, feature: _Optional[str] = ..., kl_divergence: _Optional[float] = ..., psi: _Optional[float] = ..., window_count: _Optional[int] = ...) -> None: ...

class DriftReport(_message.Message):
    __slots__ = ("features", "mean_confidence", "reference_mean_confidence", "previous_window_mean_confidence", "model_version")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    MEAN_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_MEAN_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_WINDOW_MEAN_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedCompositeFieldContainer[FeatureDrift]
    mean_confidence: float
    reference_mean_confidence: float
    previous_window_mean_confidence: float
    model_version: str
    def __init__(self, features: _Optional[_Iterable[_Union[FeatureDrift, _Mapping]]] = ..., mean_confidence: _Optional[float] = ..., reference_mean_confidence: _Optional[float] = ..., previous_window_mean_confidence: _Optional[float] = ..., model_version: _Optional[str] = ...) -> None: ...
