"""The pretrained sentence encoder (all-MiniLM-L6-v2, ONNX) behind v2.4's text input.

Hashed tokens only know the words of our synthetic generator; a pretrained encoder knows that
"amount due", "balance payable" and "bill to" belong to the same kind of page (it was trained
mostly on English: other languages get a weaker signal). `make embedder` exports it
(scripts/export_embedder.py) into `models/text-embedder/<name>/`, next to the committed
`embedder.json` that pins its references. It is not a classifier: the registry does not list
it (no manifest.json); models whose text input names it load it (`embedder_for`).

Cost on one core: see bench/latency (it grows with the text, up to the 256-token cap).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from sidecar.errors import FailedPrecondition
from sidecar.models.sessions import session_options, shared_instance

DEFAULT_NAME = "all-minilm-l6-v2"
# Where the release keeps it, under the models root (`models.root`, the data directory's models/).
DEFAULT_PATH = f"text-embedder/{DEFAULT_NAME}"
# Characters handed to the tokenizer: far more than 256 tokens need, and bounds its time.
MAX_CHARS = 4000

Array = npt.NDArray[np.float32]


class TextEmbedder:
    """Thread-safe: the tokenizer is used under a lock (it keeps truncation state), the session is not."""

    def __init__(self, directory: Path, *, intra_op_threads: int = 1) -> None:
        self.directory = directory
        spec_path = directory / "embedder.json"
        files = (spec_path, directory / "model.onnx", directory / "tokenizer.json")
        missing = [p.name for p in files if not p.is_file()]
        if missing:
            raise FailedPrecondition(
                f"text embedder {directory} lacks {', '.join(missing)}: the models root (the data directory's "
                "models/) must hold the release's encoders; run `make embedder` to export them"
            )
        self.spec: dict[str, Any] = json.loads(spec_path.read_text())
        self.dim = int(self.spec["dim"])
        self.max_tokens = int(self.spec["max_tokens"])
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        self._tokenizer.no_padding()
        self._lock = threading.Lock()
        options = session_options(intra_op_threads)
        self.session = ort.InferenceSession(
            str(directory / "model.onnx"), sess_options=options, providers=["CPUExecutionProvider"]
        )

    def embed(self, text: str | None) -> Array:
        """One L2-normalised row; all zeros when there is no text."""
        row: Array = self.embed_many([text or ""])[0]
        return row

    def embed_many(self, texts: list[str], batch: int = 32) -> Array:
        out = np.zeros((len(texts), self.dim), np.float32)
        todo = [(i, t[:MAX_CHARS]) for i, t in enumerate(texts) if t and t.strip()]
        # Similar lengths per batch: padding costs as much as real tokens.
        with self._lock:
            encoded = [(i, self._tokenizer.encode(t).ids) for i, t in todo]
        encoded.sort(key=lambda item: len(item[1]))
        for start in range(0, len(encoded), batch):
            chunk = encoded[start : start + batch]
            width = max(len(ids) for _, ids in chunk)
            input_ids = np.zeros((len(chunk), width), np.int64)
            mask = np.zeros((len(chunk), width), np.int64)
            for row, (_, ids) in enumerate(chunk):
                input_ids[row, : len(ids)] = ids
                mask[row, : len(ids)] = 1
            result = self.session.run(["embedding"], {"input_ids": input_ids, "attention_mask": mask})[0]
            for row, (i, _) in enumerate(chunk):
                out[i] = result[row]
        return out

    def verify(self) -> None:
        """Raise FailedPrecondition unless the export reproduces the references pinned at export time."""
        ref = self.spec.get("reference", {})
        texts, heads = list(ref.get("texts", [])), ref.get("head", [])
        if not texts or len(heads) != len(texts):
            raise FailedPrecondition(f"{self.directory / 'embedder.json'} has no reference embeddings")
        got = self.embed_many(texts)
        want = np.asarray(heads, np.float32)
        diff = float(np.abs(got[:, : want.shape[1]] - want).max())
        if diff > float(ref.get("tolerance", 1e-3)):
            raise FailedPrecondition(f"text embedder {self.directory} differs from its references by {diff:.4f}")


def locate(models_root: Path, relative: str) -> Path:
    """`relative` (a manifest's embedder or image-encoder path) under the models root, the data
    directory's models/, and nowhere else (never the source checkout: an installed sidecar has none).
    A models root without it fails the load of the models that read it, saying what is missing; a
    test's or a training run's models root links the checkout's (`make embedder` exports them there)."""
    return models_root / relative


def embedder_for(directory: Path, *, intra_op_threads: int = 1) -> TextEmbedder:
    """One verified instance per directory, shared by every model version that reads it."""
    return shared_instance(TextEmbedder, directory, intra_op_threads=intra_op_threads)


__all__ = ["DEFAULT_NAME", "DEFAULT_PATH", "TextEmbedder", "embedder_for", "locate"]
