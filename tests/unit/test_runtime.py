import json
from pathlib import Path

import numpy as np
import pytest

from harness.tiny_model import LABELS, write_tiny_model
from sidecar.config import ModelSettings
from sidecar.errors import FailedPrecondition, Unavailable
from sidecar.inference.registry import ModelRegistry, ModelState
from sidecar.models.infer import infer_batch
from sidecar.models.runtime import OnnxModel


def test_model_runs_on_cpu_and_calibrated_scores_sum_to_one(tmp_path: Path) -> None:
    model = OnnxModel(write_tiny_model(tmp_path))
    assert model.provider == "CPUExecutionProvider"
    batch = np.random.default_rng(0).normal(size=(4, 1, 256, 192)).astype(np.float32)
    predictions = infer_batch(model, batch)
    assert len(predictions) == 4
    for p in predictions:
        assert p.label in LABELS and abs(sum(p.scores.values()) - 1) < 1e-9
        assert p.confidence == max(p.scores.values())


def test_unknown_preprocessing_version_is_refused(tmp_path: Path) -> None:
    directory = write_tiny_model(tmp_path)
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["inputs"]["image"]["preprocessing_version"] = "99"
    (directory / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(FailedPrecondition, match="preprocessing"):
        OnnxModel(directory)


def test_broken_model_file_fails_its_load_only(tmp_path: Path) -> None:
    write_tiny_model(tmp_path, "m", "1")
    broken = write_tiny_model(tmp_path, "m", "2")
    (broken / "model.onnx").write_bytes(b"not an onnx file")
    registry = ModelRegistry(ModelSettings(root=tmp_path))
    assert registry.load("m", "1").state is ModelState.READY
    failed = registry.load("m", "2")
    assert failed.state is ModelState.FAILED and failed.error
    assert [m.key for m in registry.ready()] == ["m/1"]
    with pytest.raises(Unavailable):
        registry.get("m", "2")


def test_image_features_named_by_the_manifest_but_not_read_by_the_graph_are_refused(tmp_path: Path) -> None:
    directory = write_tiny_model(tmp_path)
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["inputs"]["image_features"] = {"encoder": "image-encoder/open-nsfw", "dim": 1024}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(FailedPrecondition, match="image_features"):
        OnnxModel(directory)
