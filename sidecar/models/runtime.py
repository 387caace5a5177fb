"""One loaded model version: its manifest and its ONNX Runtime session.

The execution provider is chosen automatically: CUDA when the installed
onnxruntime build offers it and really uses it, else CPU. The provider in use
is read back from the session (onnxruntime-gpu lists CUDA even on a machine
without a GPU, then silently runs on CPU).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from sidecar.domain import PREPROCESSING_VERSION, InputSpec
from sidecar.errors import FailedPrecondition
from sidecar.models.embedder import TextEmbedder, embedder_for, locate
from sidecar.models.image_encoder import ImageEncoder, encoder_for
from sidecar.models.lexicon import Lexicon
from sidecar.models.manifest import Manifest, TextInput
from sidecar.models.sessions import session_options
from sidecar.texthash import text_features

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"


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
    spec: TextInput | None,
    dim: int,
    embedder: TextEmbedder | None = None,
    lexicon: Lexicon | None = None,
) -> npt.NDArray[np.float32]:
    """The `text` input for these texts, as the manifest's `inputs.text` describes it (training and
    serving share this): hashed tokens, then the keyword-lexicon features when the spec names a
    lexicon, then the sentence embedding when it names an embedder. A text-less page gets an
    all-zero row."""
    params = spec.hashing_params() if spec is not None else {}
    hash_dim, lex_dim, _ = text_blocks(spec, dim)
    rows = np.zeros((len(texts), dim), np.float32)
    for i, text in enumerate(texts):
        rows[i, :hash_dim] = text_features(text, dim=hash_dim, **params)
    if lex_dim:
        if lexicon is None:
            raise FailedPrecondition("this model's text input needs its keyword lexicon")
        for i, text in enumerate(texts):
            rows[i, hash_dim : hash_dim + lex_dim] = lexicon.features(text)
    if spec is not None and spec.embedding is not None:
        if embedder is None:
            raise FailedPrecondition("this model's text input needs the text embedder")
        rows[:, hash_dim + lex_dim :] = embedder.embed_many([t or "" for t in texts])
    return rows


def text_blocks(spec: TextInput | None, dim: int) -> tuple[int, int, int]:
    """(hashed, lexicon, embedding) column counts of a `text` input `dim` wide, in that order."""
    lex_dim = spec.lexicon.dim if spec is not None and spec.lexicon is not None else 0
    if spec is None or spec.embedding is None:
        return dim - lex_dim, lex_dim, 0
    hash_dim = spec.hash_dim if spec.hash_dim is not None else dim
    return hash_dim, lex_dim, dim - hash_dim - lex_dim


class OnnxModel:
    """A model version ready to run: thread-safe `run` (ONNX Runtime sessions are)."""

    def __init__(self, directory: Path, *, device: str = "auto", intra_op_threads: int = 1) -> None:
        self.directory = directory
        self.manifest = Manifest.load(directory / "manifest.json")
        # Built once: the manifest builds a new InputSpec on every read, and each request reads it several times.
        self.input_spec: InputSpec = self.manifest.input_spec
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
        self.text_spec: TextInput | None = self.manifest.inputs.text
        self.embedder: TextEmbedder | None = None
        self.lexicon: Lexicon | None = None
        semantic = self.text_spec.embedding if self.text_spec is not None else None
        lexicon = self.text_spec.lexicon if self.text_spec is not None else None
        if lexicon is not None and self.text_dim:
            self.lexicon = Lexicon.load(directory / (lexicon.file or "lexicon.json"))
            if self.lexicon.dim != lexicon.dim:
                raise FailedPrecondition(f"model {self.key}: lexicon.json gives {self.lexicon.dim} features")
        if semantic is not None and self.text_dim:
            # models/<name>/<version>/ → models/<embedder path>
            self.embedder = embedder_for(locate(directory.parent.parent, semantic.embedder))
            if sum(text_blocks(self.text_spec, self.text_dim)[:2]) + self.embedder.dim != self.text_dim:
                raise FailedPrecondition(
                    f"model {self.key}: text input width does not match hash_dim + lexicon + embedder"
                )
        # A pretrained image encoder whose features the model reads (`image_features`): run here, on the
        # model's own page tensor, so the batcher, the cache and every caller of `run` stay as they are.
        self.image_encoder: ImageEncoder | None = None
        features = self.manifest.inputs.image_features
        if features is not None or "image_features" in self._inputs:
            if features is None or "image_features" not in self._inputs:
                raise FailedPrecondition(f"model {self.key}: 'image_features' input and manifest disagree")
            self.image_encoder = encoder_for(
                locate(directory.parent.parent, features.encoder), intra_op_threads=intra_op_threads
            )
            if self.image_encoder.dim != features.dim:
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

    @property
    def text_is_cheap(self) -> bool:
        """Its text row is token hashing only (microseconds): no lexicon, no sentence encoder."""
        return self.embedder is None and self.lexicon is None

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
