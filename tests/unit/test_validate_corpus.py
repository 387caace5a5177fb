"""The committed corpus of malformed documents: each one is refused for exactly its reason."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from harness.hotpath_impls import IMPLEMENTATIONS
from sidecar import hotpath
from sidecar.config import ValidationSettings
from sidecar.domain import Document
from sidecar.errors import InvalidDocument
from sidecar.pipeline.validate import validate_document

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "malformed"
EXPECTED: dict[str, dict[str, object]] = json.loads((CORPUS / "expected.json").read_text())


@pytest.fixture(params=IMPLEMENTATIONS)
def impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module: ModuleType = request.param
    monkeypatch.setattr(hotpath, "inspect_bytes", module.inspect_bytes)
    return module


def test_every_corpus_file_is_listed() -> None:
    files = {p.name for p in CORPUS.iterdir() if p.suffix in {".pdf", ".png", ".jpg", ".gif"}}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(name: str, impl: ModuleType) -> None:
    case = EXPECTED[name]
    doc = Document(content=(CORPUS / name).read_bytes(), filename=name, declared_mime=str(case["mime"]))
    if case["stage"] == "validate" and case["reason"] is not None:
        with pytest.raises(InvalidDocument) as caught:
            validate_document(doc, ValidationSettings())
        assert caught.value.reason.value == case["reason"]
        assert caught.value.message
    else:
        # Structurally fine (the scan stage, tests/integration/test_clamd.py, refuses MALWARE ones).
        inspection = validate_document(doc, ValidationSettings())
        assert list(inspection.flags) == case.get("flags", [])
