import json
from pathlib import Path

import pytest

from harness.tiny_model import write_tiny_model
from sidecar.config import ModelSettings
from sidecar.errors import NotFound, Unavailable
from sidecar.inference.registry import ModelRegistry, ModelState


def registry(root: Path) -> ModelRegistry:
    return ModelRegistry(ModelSettings(root=root, device="cpu"))


def test_discover_load_unload_states(tmp_path: Path) -> None:
    write_tiny_model(tmp_path, "doc-classifier", "2.3", seed=1)
    write_tiny_model(tmp_path, "doc-classifier", "2.4", seed=2, text_dim=32)
    reg = registry(tmp_path)
    assert [(e.name, e.version, e.state) for e in reg.entries()] == [
        ("doc-classifier", "2.3", ModelState.UNLOADED),
        ("doc-classifier", "2.4", ModelState.UNLOADED),
    ]
    assert reg.load("doc-classifier", "2.4").state is ModelState.READY  # text model: warm-up feeds a text row
    assert reg.ready_versions("doc-classifier") == {"2.4"}
    with pytest.raises(Unavailable):
        reg.get("doc-classifier", "2.3")
    assert reg.unload("doc-classifier", "2.4").state is ModelState.UNLOADED
    assert reg.find("doc-classifier", "2.4") is None
    with pytest.raises(NotFound):
        reg.load("doc-classifier", "9.9")


def test_a_version_copied_in_after_start_is_found(tmp_path: Path) -> None:
    reg = registry(tmp_path)
    write_tiny_model(tmp_path, "doc-classifier", "3.0")
    assert reg.load("doc-classifier", "3.0").state is ModelState.READY


def test_health_check_refuses_a_model_whose_answer_is_not_sane(tmp_path: Path) -> None:
    target = write_tiny_model(tmp_path, "doc-classifier", "2.3")
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["labels"] = manifest["labels"][:-1]  # 8 labels for a 9-logit model
    (target / "manifest.json").write_text(json.dumps(manifest))
    entry = registry(tmp_path).load("doc-classifier", "2.3")
    assert entry.state is ModelState.FAILED and "logits shape" in entry.error and entry.model is None


def test_manifest_must_match_its_folder(tmp_path: Path) -> None:
    write_tiny_model(tmp_path, "doc-classifier", "2.3")
    (tmp_path / "doc-classifier" / "2.3").rename(tmp_path / "doc-classifier" / "2.5")
    entry = registry(tmp_path).load("doc-classifier", "2.5")
    assert entry.state is ModelState.FAILED and "manifest says" in entry.error


def test_failed_reload_keeps_the_serving_session(tmp_path: Path) -> None:
    target = write_tiny_model(tmp_path, "doc-classifier", "2.3")
    reg = registry(tmp_path)
    serving = reg.load("doc-classifier", "2.3").model
    (target / "model.onnx").write_bytes(b"not a model")
    entry = reg.load("doc-classifier", "2.3")
    assert entry.state is ModelState.READY and entry.model is serving and entry.error
    assert reg.get("doc-classifier", "2.3") is serving
