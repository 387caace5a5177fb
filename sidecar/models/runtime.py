"""One loaded model version: its manifest and its ONNX Runtime session.

The execution provider is chosen automatically: CUDA when the installed
onnxruntime build offers it and really uses it, else CPU. The provider in use
is read back from the session (onnxruntime-gpu lists CUDA even on a machine
without a GPU, then silently runs on CPU).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from sidecar.errors import FailedPrecondition
from sidecar.models.embedder import TextEmbedder, embedder_for, locate
from sidecar.models.image_encoder import ImageEncoder, encoder_for
from sidecar.models.lexicon import Lexicon
from sidecar.models.sessions import session_options
from sidecar.pipeline.normalize import PREPROCESSING_VERSION, InputSpec
from sidecar.texthash import text_features

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"


@dataclass(frozen=True, slots=True)
class Manifest:
    name: str
    version: str
    labels: tuple[str, ...]
    input_spec: InputSpec
    preprocessing_version: str
    needs_text: bool
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        raw = json.loads(path.read_text())
        image = raw["inputs"]["image"]
        return cls(
            name=raw["name"],
            version=raw["version"],
            labels=tuple(raw["labels"]),
            input_spec=InputSpec.from_manifest(image),
            preprocessing_version=str(image.get("preprocessing_version", raw.get("preprocessing_version", ""))),
            needs_text=bool(raw.get("needs_text", False)),
            raw=raw,
        )


def choose_providers(device: str) -> list[str]:
    available = ort.get_available_providers()
    if device == "cpu" or CUDA not in available:
        return [CPU]
    return [CUDA, CPU]


@dataclass(slots=True)
class ModelOutput:
    logits: npt.NDArray[np.float32]  # [N, labels], raw
    embedding: npt.NDArray[np.float32] | None  # [N, E] penultimate features, when the model has them


def text_rows(
    texts: list[str | None],
    spec: dict[str, Any],
    dim: int,
    embedder: TextEmbedder | None = None,
    lexicon: Lexicon | None = None,
) -> npt.NDArray[np.float32]:
    """The `text` input for these texts, as the manifest's `inputs.text` describes it (training and
    serving share this): hashed tokens, then the keyword-lexicon features when the spec names a
    lexicon, then the sentence embedding when it names an embedder. A text-less page gets an
    all-zero row."""
    params = {k: int(spec[k]) for k in ("ngram_min", "ngram_max", "max_chars") if k in spec}
    hash_dim, lex_dim, _ = text_blocks(spec, dim)
    rows = np.zeros((len(texts), dim), np.float32)
    for i, text in enumerate(texts):
        rows[i, :hash_dim] = text_features(text, dim=hash_dim, **params)
    if lex_dim:
        if lexicon is None:
            raise FailedPrecondition("this model's text input needs its keyword lexicon")
        for i, text in enumerate(texts):
            rows[i, hash_dim : hash_dim + lex_dim] = lexicon.features(text)
    if spec.get("embedding"):
        if embedder is None:
            raise FailedPrecondition("this model's text input needs the text embedder")
        rows[:, hash_dim + lex_dim :] = embedder.embed_many([t or "" for t in texts])
    return rows


def text_blocks(spec: dict[str, Any], dim: int) -> tuple[int, int, int]:
    """(hashed, lexicon, embedding) column counts of a `text` input `dim` wide, in that order."""
    lex_dim = int(spec["lexicon"]["dim"]) if spec.get("lexicon") else 0
    if not spec.get("embedding"):
        return dim - lex_dim, lex_dim, 0
    hash_dim = int(spec.get("hash_dim", dim))
    return hash_dim, lex_dim, dim - hash_dim - lex_dim


class OnnxModel:
    """A model version ready to run: thread-safe `run` (ONNX Runtime sessions are)."""

    def __init__(self, directory: Path, *, device: str = "auto", intra_op_threads: int = 1) -> None:
        self.directory = directory
        self.manifest = Manifest.load(directory / "manifest.json")
        if self.manifest.preprocessing_version != PREPROCESSING_VERSION:
            raise FailedPrecondition(
                f"model {self.key} needs preprocessing version {self.manifest.preprocessing_version!r}; "
                f"this sidecar implements {PREPROCESSING_VERSION!r}"
            )
        options = session_options(intra_op_threads)
        self.session = ort.InferenceSession(
            str(directory / "model.onnx"), sess_options=options, providers=choose_providers(device)
        )
        self.provider: str = self.session.get_providers()[0]
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._outputs = [o.name for o in self.session.get_outputs()]
        if "image" not in self._inputs or "logits" not in self._outputs:
            raise FailedPrecondition(f"model {self.key} lacks the 'image' input or the 'logits' output")
        self.text_spec: dict[str, Any] = self.manifest.raw.get("inputs", {}).get("text", {}) or {}
        self.embedder: TextEmbedder | None = None
        self.lexicon: Lexicon | None = None
        semantic, lexicon = self.text_spec.get("embedding"), self.text_spec.get("lexicon")
        if lexicon and self.text_dim:
            self.lexicon = Lexicon.load(directory / str(lexicon.get("file", "lexicon.json")))
            if self.lexicon.dim != int(lexicon["dim"]):
                raise FailedPrecondition(f"model {self.key}: lexicon.json gives {self.lexicon.dim} features")
        if semantic and self.text_dim:
            # models/<name>/<version>/ → models/<embedder path>
            self.embedder = embedder_for(locate(directory.parent.parent, str(semantic["embedder"])))
            if sum(text_blocks(self.text_spec, self.text_dim)[:2]) + self.embedder.dim != self.text_dim:
                raise FailedPrecondition(
                    f"model {self.key}: text input width does not match hash_dim + lexicon + embedder"
                )
        # A pretrained image encoder whose features the model reads (`image_features`): run here, on the
        # model's own page tensor, so the batcher, the cache and every caller of `run` stay as they are.
        self.image_encoder: ImageEncoder | None = None
        features = self.manifest.raw.get("inputs", {}).get("image_features")
        if features or "image_features" in self._inputs:
            if not features or "image_features" not in self._inputs:
                raise FailedPrecondition(f"model {self.key}: 'image_features' input and manifest disagree")
            self.image_encoder = encoder_for(
                locate(directory.parent.parent, str(features["encoder"])), intra_op_threads=intra_op_threads
            )
            if self.image_encoder.dim != int(features["dim"]):
                raise FailedPrecondition(f"model {self.key}: its image encoder gives {self.image_encoder.dim} features")

    @property
    def key(self) -> str:
        return f"{self.manifest.name}/{self.manifest.version}"

    @property
    def text_dim(self) -> int:
        if "text" not in self._inputs:
            return 0
        shape = next(i.shape for i in self.session.get_inputs() if i.name == "text")
        return int(shape[1])

    def text_features(self, text: str | None) -> npt.NDArray[np.float32]:
        """One row of this model's `text` input (CPU work: hashing, the lexicon, the encoder when it has one)."""
        row: npt.NDArray[np.float32] = text_rows([text], self.text_spec, self.text_dim, self.embedder, self.lexicon)[0]
        return row

    def run(self, images: npt.NDArray[np.float32], text: npt.NDArray[np.float32] | None = None) -> ModelOutput:
        feeds: dict[str, npt.NDArray[np.float32]] = {"image": images}
        if self.image_encoder is not None:
            feeds["image_features"] = self.image_encoder.encode(images)
        if "text" in self._inputs:
            feeds["text"] = text if text is not None else np.zeros((len(images), self.text_dim), np.float32)
        names = ["logits"] + (["embedding"] if "embedding" in self._outputs else [])
        results = self.session.run(names, feeds)
        return ModelOutput(
            logits=np.asarray(results[0], dtype=np.float32),
            embedding=np.asarray(results[1], dtype=np.float32) if len(results) > 1 else None,
        )
