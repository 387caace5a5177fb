"""The model manifest, `models/<name>/<version>/manifest.json`: one frozen, typed record that
training writes and serving reads.

Serving owns the format: training (`doctriage_train.manifest`) builds a `Manifest` and `write`s it,
the runtime (`sidecar.models.runtime.OnnxModel`) `load`s it. A key the format does not know is an
error, so a typo or a manifest from a newer trainer is refused at load instead of being ignored.

An optional field a file leaves out is `None` here and is left out again by `to_dict`, and no value
is converted on the way in (an int stays an int), so `to_dict(from_dict(x)) == x` and `write`
reproduces, byte for byte, a file training wrote (tests/unit/test_manifest.py checks the shipped ones).
A `null` in a typed field is refused for the same reason: it could not be written back.

Three fields are free JSON objects on purpose, not typed a second time here:
`training_data_config` and `created_by.train_config` echo training's own config dataclasses
(`DataConfig`, `TrainConfig`, which serving cannot import) as provenance, and `quality` is training's
measurement report, whose groups depend on the run (the real-document sets present, the α values
tried). Serving reads none of them; MODEL_CARD.md renders them (`doctriage_train.modelcard`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from sidecar.domain import InputSpec
from sidecar.errors import FailedPrecondition

JsonScalar = str | int | float | bool | None
Shape = tuple[str | int, ...]  # e.g. ["N", 1, 256, 192]: "N" is the batch axis


class ManifestError(FailedPrecondition):
    """A manifest that does not follow this format (unknown or missing key, wrong type)."""


class _Section:
    """`from_dict` / `to_dict` for the manifest and each of its sections."""

    __slots__ = ()

    @classmethod
    def from_dict(cls, raw: Any) -> Self:
        out: Self = _from_json(cls, raw, _WHERE.get(cls.__name__, cls.__name__))
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _to_json(self)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageInput(_Section):
    """`inputs.image`: the page tensor, as `sidecar.pipeline.normalize.InputSpec` builds it."""

    height: int
    width: int
    mean: float
    std: float
    autocontrast: bool | None = None  # None: InputSpec's default
    crop_page: bool | None = None
    channels: int | None = None
    deskew: bool | None = None
    preprocessing_version: str
    dtype: str | None = None
    shape: Shape | None = None

    @property
    def spec(self) -> InputSpec:
        names = ("height", "width", "mean", "std", "autocontrast", "crop_page", "channels", "deskew")
        given = {name: getattr(self, name) for name in names if getattr(self, name) is not None}
        return InputSpec(**given)


@dataclass(frozen=True, slots=True, kw_only=True)
class LexiconInput(_Section):
    """`inputs.text.lexicon`: the keyword-lexicon block of the text row (sidecar.models.lexicon)."""

    file: str | None = None  # next to the manifest; None: lexicon.json
    dim: int
    columns: str | None = None
    features: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EmbeddingInput(_Section):
    """`inputs.text.embedding`: the sentence-embedding block of the text row (sidecar.models.embedder)."""

    embedder: str  # models/<embedder>, e.g. text-embedder/all-minilm-l6-v2
    dim: int
    max_tokens: int | None = None
    columns: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TextInput(_Section):
    """`inputs.text`: the text row, [hashed tokens | lexicon | sentence embedding]
    (`sidecar.models.runtime.text_rows`); the hashing fields are `sidecar.texthash.HASHING_SPEC`."""

    method: str | None = None
    dim: int  # the whole row's width
    hash: str | None = None
    tokens: str | None = None
    features: str | None = None
    ngram_min: int | None = None
    ngram_max: int | None = None
    bucket: str | None = None
    sign: str | None = None
    transform: str | None = None
    max_chars: int | None = None
    hash_dim: int | None = None  # hashed columns; None: the whole row (less the lexicon) without an embedding
    lexicon: LexiconInput | None = None
    embedding: EmbeddingInput | None = None
    dtype: str | None = None
    shape: Shape | None = None
    function: str | None = None
    source: str | None = None

    def hashing_params(self) -> dict[str, int]:
        """The keyword arguments of `sidecar.texthash.text_features` this input sets."""
        given = {"ngram_min": self.ngram_min, "ngram_max": self.ngram_max, "max_chars": self.max_chars}
        return {k: v for k, v in given.items() if v is not None}


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageFeaturesInput(_Section):
    """`inputs.image_features`: a frozen pretrained image encoder's features of the page tensor,
    computed by the runtime (sidecar.models.image_encoder)."""

    encoder: str  # models/<encoder>, e.g. image-encoder/open-nsfw
    dim: int
    dtype: str | None = None
    shape: Shape | None = None
    source: str | None = None
    scale: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Inputs(_Section):
    image: ImageInput
    text: TextInput | None = None
    image_features: ImageFeaturesInput | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputSpec(_Section):
    shape: Shape
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Outputs(_Section):
    logits: OutputSpec
    embedding: OutputSpec | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionDefaults(_Section):
    accept: float
    review_below: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatedBy(_Section):
    script: str
    seed: int
    torch: str
    train_config: dict[str, JsonScalar]  # doctriage_train.config.TrainConfig, as trained


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration(_Section):
    """How raw logits become probabilities (sidecar.models.calibration.calibrate)."""

    method: str  # "temperature" or "none"
    temperature: float | None = None
    fitted_on: str | None = None
    synthetic_temperature: float | None = None
    synthetic_fitted_on: str | None = None
    real_only_temperature: float | None = None
    pooled: bool | None = None
    pooling_rule: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Ood(_Section):
    """The out-of-distribution score and its cut (sidecar.models.calibration.ood_score)."""

    method: str  # "mahalanobis_diag" (means, var) or "energy" (temperature)
    formula: str | None = None
    means: tuple[tuple[float, ...], ...] | None = None  # per label, per embedding column
    var: tuple[float, ...] | None = None
    temperature: float | None = None
    threshold: float  # a score above it is out of distribution
    threshold_rule: str | None = None
    synthetic_threshold: float | None = None
    synthetic_threshold_rule: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Histogram(_Section):
    edges: tuple[float, ...]
    probs: tuple[float, ...]
    definition: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftReference(_Section):
    """What the drift monitor compares live traffic with (sidecar.observability.drift.parse_reference)."""

    computed_on: str | None = None
    features: dict[str, Histogram]


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest(_Section):
    """One model version's manifest. Field order is the file's key order."""

    name: str
    version: str
    labels: tuple[str, ...]  # the order of the `logits` columns
    inputs: Inputs
    outputs: Outputs | None = None
    needs_text: bool | None = None
    decision_defaults: DecisionDefaults | None = None
    training_data_digest: str | None = None
    training_data_config: dict[str, JsonScalar] | None = None  # doctriage_train.dataset.DataConfig
    created_by: CreatedBy | None = None
    architecture: str | None = None
    calibration: Calibration | None = None  # None: plain softmax
    ood: Ood | None = None  # None: nothing is flagged
    drift_reference: DriftReference | None = None
    quality: dict[str, Any] | None = None  # training's measurements (MODEL_CARD.md)
    parameters: int | None = None
    onnx_parity_max_abs: float | None = None
    model_sha256: str | None = None

    def __post_init__(self) -> None:
        try:
            self.inputs.image.spec  # noqa: B018 - InputSpec checks its own values
        except ValueError as exc:
            raise ManifestError(f"manifest {self.name}/{self.version}: {exc}") from exc

    @property
    def input_spec(self) -> InputSpec:
        return self.inputs.image.spec

    @property
    def preprocessing_version(self) -> str:
        return self.inputs.image.preprocessing_version

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            raw = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ManifestError(f"{path}: {exc}") from exc
        try:
            return cls.from_dict(raw)
        except ManifestError as exc:
            raise ManifestError(f"{path}: {exc.message}") from exc

    def write(self, path: Path) -> None:
        """The file `load` reads: the keys in field order, one-space indent, a final newline."""
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n")


# ---- the one conversion, driven by the annotations above ----------------------------------------


_WHERE = {"Manifest": "manifest"}  # how errors name the top level


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _from_json(tp: Any, value: Any, where: str) -> Any:
    if tp is Any:
        return value
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        options = [arg for arg in args if arg is not type(None)]
        if len(options) == 1:  # X | None: X's own error says what is wrong
            return _from_json(options[0], value, where)
        for arg in options:
            try:
                return _from_json(arg, value, where)
            except ManifestError:
                continue
        raise ManifestError(f"{where}: {_kind(value)} is not {tp}")
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ManifestError(f"{where}: expected an object, got {_kind(value)}")
        fields = {f.name: f for f in dataclasses.fields(tp)}
        unknown = [k for k in value if k not in fields]
        if unknown:
            raise ManifestError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")
        hints, given = _hints(tp), {}
        for name, f in fields.items():
            if name not in value:
                if f.default is dataclasses.MISSING:
                    raise ManifestError(f"{where}: missing {name!r}")
                continue
            if value[name] is None:
                raise ManifestError(f"{where}.{name}: null (leave the key out instead)")
            given[name] = _from_json(hints[name], value[name], f"{where}.{name}")
        return tp(**given)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ManifestError(f"{where}: expected a list, got {_kind(value)}")
        return tuple(_from_json(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise ManifestError(f"{where}: expected an object, got {_kind(value)}")
        return {k: _from_json(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if tp is type(None):
        if value is None:
            return None
    elif tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value  # an int stays an int: written back as it was read
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(value, tp):  # str, bool
        return value
    raise ManifestError(f"{where}: expected {getattr(tp, '__name__', tp)}, got {_kind(value)}")


def _to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _to_json(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not None
        }
    if isinstance(value, tuple | list):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    return value


__all__ = [
    "Calibration",
    "CreatedBy",
    "DecisionDefaults",
    "DriftReference",
    "EmbeddingInput",
    "Histogram",
    "ImageFeaturesInput",
    "ImageInput",
    "Inputs",
    "LexiconInput",
    "Manifest",
    "ManifestError",
    "Ood",
    "OutputSpec",
    "Outputs",
    "TextInput",
]
