"""docs/API.md is generated from the comments in proto/ (scripts/gen_api_doc.py) and is current; every
element of the contract carries a comment, and every reason code the sidecar can send is documented."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from sidecar.errors import Reason

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_api_doc", ROOT / "scripts" / "gen_api_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_doc_is_current() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/gen_api_doc.py", "--check"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_every_service_rpc_message_field_enum_and_value_has_a_comment() -> None:
    gen = _generator()
    missing = []
    for file in gen.descriptors().file:
        elements: list[tuple[str, tuple[int, ...]]] = []
        for s, service in enumerate(file.service):
            elements.append((service.name, (gen.SERVICE, s)))
            for m, method in enumerate(service.method):
                elements.append((f"{service.name}.{method.name}", (gen.SERVICE, s, gen.METHOD, m)))
        for e, enum in enumerate(file.enum_type):
            elements.append((enum.name, (gen.ENUM, e)))
            for v, value in enumerate(enum.value):
                elements.append((f"{enum.name}.{value.name}", (gen.ENUM, e, gen.ENUM_VALUE, v)))
        for i, message in enumerate(file.message_type):
            elements.append((message.name, (gen.MESSAGE, i)))
            for f, field in enumerate(message.field):
                elements.append((f"{message.name}.{field.name}", (gen.MESSAGE, i, gen.FIELD, f)))
        comments = gen.Comments(file)
        missing += [f"{file.name}: {name}" for name, path in elements if not comments.lines(*path)]
    assert not missing, missing


def test_every_reason_code_is_documented_in_the_contract() -> None:
    text = "".join(p.read_text() for p in (ROOT / "proto" / "doctriage" / "v1").glob("*.proto"))
    assert [r.value for r in Reason if r.value not in text] == []
