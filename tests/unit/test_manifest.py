"""The typed model manifest (sidecar/models/manifest.py): every shipped manifest.json loads, and
writes back byte for byte; what the format does not know is refused."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from sidecar.domain import PREPROCESSING_VERSION
from sidecar.models.manifest import Manifest, ManifestError

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "models").glob("*/*/manifest.json"))


def test_there_are_shipped_manifests() -> None:
    assert {p.parent.relative_to(ROOT / "models").as_posix() for p in SHIPPED} >= {
        "doc-classifier/2.3",
        "doc-classifier/2.4",
        "doc-classifier-lite/1.0",
    }


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.parent.relative_to(ROOT / "models").as_posix())
def test_shipped_manifest_round_trips(path: Path, tmp_path: Path) -> None:
    raw = json.loads(path.read_text())
    manifest = Manifest.from_dict(raw)
    assert manifest.to_dict() == raw
    assert Manifest.from_dict(manifest.to_dict()) == manifest
    manifest.write(tmp_path / "manifest.json")
    assert (tmp_path / "manifest.json").read_bytes() == path.read_bytes()
    assert Manifest.load(path) == manifest
    assert manifest.preprocessing_version == PREPROCESSING_VERSION
    assert manifest.ood is not None and manifest.calibration is not None


def test_text_model_fields_are_typed() -> None:
    manifest = Manifest.load(ROOT / "models" / "doc-classifier" / "2.4" / "manifest.json")
    text, features = manifest.inputs.text, manifest.inputs.image_features
    assert text is not None and text.lexicon is not None and text.embedding is not None
    assert text.dim == text.hash_dim + text.lexicon.dim + text.embedding.dim  # type: ignore[operator]
    assert features is not None and features.dim == 1024
    assert manifest.ood is not None and manifest.ood.var is not None and len(manifest.ood.var) > 0


def _shipped() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((ROOT / "models" / "doc-classifier" / "2.3" / "manifest.json").read_text())
    return raw


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.update(surprise=1), "unknown key"),
        (lambda m: m["inputs"]["image"].update(colour=True), r"manifest\.inputs\.image: unknown key"),
        (lambda m: m["ood"].update(thresold=1.0), r"manifest\.ood: unknown key"),
        (lambda m: m.pop("labels"), "missing 'labels'"),
        (lambda m: m["ood"].pop("threshold"), "missing 'threshold'"),
        (lambda m: m.update(parameters="many"), r"manifest\.parameters: expected int"),
        (lambda m: m.update(needs_text=1), r"manifest\.needs_text: expected bool"),
        (lambda m: m["calibration"].update(temperature=None), "null"),
        (lambda m: m["inputs"]["image"].update(std=0.0), "invalid input spec"),
    ],
)
def test_what_the_format_does_not_know_is_refused(change: Any, message: str) -> None:
    raw = copy.deepcopy(_shipped())
    change(raw)
    with pytest.raises(ManifestError, match=message):
        Manifest.from_dict(raw)


def test_a_bad_file_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    raw = _shipped()
    raw["extra"] = {}
    path.write_text(json.dumps(raw))
    with pytest.raises(ManifestError, match=str(path)):
        Manifest.load(path)
    path.write_text("{")
    with pytest.raises(ManifestError, match=str(path)):
        Manifest.load(path)


def test_optional_fields_stay_out() -> None:
    raw = {
        "name": "m",
        "version": "1",
        "labels": ["a", "b"],
        "inputs": {"image": {"height": 256, "width": 192, "mean": 0.5, "std": 0.5, "preprocessing_version": "1"}},
        "ood": {"method": "energy", "temperature": 1, "threshold": 1e9},
    }
    manifest = Manifest.from_dict(raw)
    assert manifest.to_dict() == raw  # nothing added, the int temperature still an int
    assert manifest.calibration is None and manifest.needs_text is None
    assert manifest.input_spec.autocontrast is True  # InputSpec's default
