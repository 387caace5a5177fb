from google.rpc import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Decision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_UNSPECIFIED: _ClassVar[Decision]
    ACCEPTED: _ClassVar[Decision]
    ACCEPTED_AFTER_RULES: _ClassVar[Decision]
    HUMAN_REVIEW: _ClassVar[Decision]
    REJECTED: _ClassVar[Decision]

class Source(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SOURCE_UNSPECIFIED: _ClassVar[Source]
    MODEL: _ClassVar[Source]
    CACHE: _ClassVar[Source]
    FALLBACK_MODEL: _ClassVar[Source]
    RULES: _ClassVar[Source]
    DEGRADED: _ClassVar[Source]
DECISION_UNSPECIFIED: Decision
ACCEPTED: Decision
ACCEPTED_AFTER_RULES: Decision
HUMAN_REVIEW: Decision
REJECTED: Decision
SOURCE_UNSPECIFIED: Source
MODEL: Source
CACHE: Source
FALLBACK_MODEL: Source
RULES: Source
DEGRADED: Source

class ClassifyRequest(_message.Message):
    __slots__ = ("content", "filename", "mime_type", "routing_key", "metadata", "client_ref")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    ROUTING_KEY_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REF_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    filename: str
    mime_type: str
    routing_key: str
    metadata: _containers.ScalarMap[str, str]
    client_ref: str
    def __init__(self, content: _Optional[bytes] = ..., filename: _Optional[str] = ..., mime_type: _Optional[str] = ..., routing_key: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., client_ref: _Optional[str] = ...) -> None: ...

class ClassScore(_message.Message):
    __slots__ = ("label", "score")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    label: str
    score: float
    def __init__(self, label: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class RuleFinding(_message.Message):
    __slots__ = ("rule", "passed", "detail")
    RULE_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    rule: str
    passed: bool
    detail: str
    def __init__(self, rule: _Optional[str] = ..., passed: _Optional[bool] = ..., detail: _Optional[str] = ...) -> None: ...

class ClassifyResponse(_message.Message):
    __slots__ = ("request_id", "client_ref", "label", "confidence", "scores", "decision", "model_name", "model_version", "source", "review_id", "rule_findings", "timings", "digest", "estimated_cost", "error", "decision_reasons", "ood_score", "flags", "content_type")
    class TimingsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REF_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    REVIEW_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_FINDINGS_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_COST_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DECISION_REASONS_FIELD_NUMBER: _ClassVar[int]
    OOD_SCORE_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    client_ref: str
    label: str
    confidence: float
    scores: _containers.RepeatedCompositeFieldContainer[ClassScore]
    decision: Decision
    model_name: str
    model_version: str
    source: Source
    review_id: str
    rule_findings: _containers.RepeatedCompositeFieldContainer[RuleFinding]
    timings: _containers.ScalarMap[str, float]
    digest: str
    estimated_cost: float
    error: _status_pb2.Status
    decision_reasons: _containers.RepeatedScalarFieldContainer[str]
    ood_score: float
    flags: _containers.RepeatedScalarFieldContainer[str]
    content_type: str
    def __init__(self, request_id: _Optional[str] = ..., client_ref: _Optional[str] = ..., label: _Optional[str] = ..., confidence: _Optional[float] = ..., scores: _Optional[_Iterable[_Union[ClassScore, _Mapping]]] = ..., decision: _Optional[_Union[Decision, str]] = ..., model_name: _Optional[str] = ..., model_version: _Optional[str] = ..., source: _Optional[_Union[Source, str]] = ..., review_id: _Optional[str] = ..., rule_findings: _Optional[_Iterable[_Union[RuleFinding, _Mapping]]] = ..., timings: _Optional[_Mapping[str, float]] = ..., digest: _Optional[str] = ..., estimated_cost: _Optional[float] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., decision_reasons: _Optional[_Iterable[str]] = ..., ood_score: _Optional[float] = ..., flags: _Optional[_Iterable[str]] = ..., content_type: _Optional[str] = ...) -> None: ...
