"""The Node.js client (clients/node) against a real sidecar process: `npm ci` (offline from npm's cache
after the first time), its own tests (`npm test`: node:test + tsc over the .d.ts), then its CLI classifies
a PDF and an image (label, decision and request id come back) and reports refused documents with the
ErrorInfo reason of the `grpc-status-details-bin` trailer, the same reason the Python client reads, for
one document (Classify) and for several over one ClassifyStream (the Status inside each item). Also:
the contract passes `buf lint` and `buf format` (buf.yaml; buf comes with the client's devDependencies).

Skipped only when node or npm is absent."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from doctriage import Client, DocumentRejected

from harness import hostile
from harness.documents import jpeg_sof_dims, make_jpeg
from harness.process import SidecarProcess
from sidecar.tools.evaluation import CANONICAL_LABELS

ROOT = Path(__file__).resolve().parents[2]
NODE_CLIENT = ROOT / "clients" / "node"
CLI = NODE_CLIENT / "bin" / "classify.js"
NODE, NPM = shutil.which("node"), shutil.which("npm")
DECISIONS = {"ACCEPTED", "ACCEPTED_AFTER_RULES", "HUMAN_REVIEW"}
# One hostile document per refusal reason (harness.hostile), besides a plain text file.
HOSTILE = ("png_cut_chunk0_at8", "jpeg_dims_65535", "pdf_openaction_js", "pdf_plus_zip", "image_gif", "empty")

pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None, reason="node and npm are needed to test clients/node (apt-get install nodejs npm)"
)


def _run(args: list[str], cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false"}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """clients/node/node_modules as package-lock.json pins it (`npm ci` unless `make` just did it)."""
    installed = NODE_CLIENT / "node_modules" / ".package-lock.json"
    lock = NODE_CLIENT / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        ci = _run([str(NPM), "ci", "--prefer-offline", "--no-audit", "--no-fund"], cwd=NODE_CLIENT, timeout=280)
        assert ci.returncode == 0, (
            f"npm ci in clients/node failed (the npm registry or its cache is needed):\n{ci.stderr[-3000:]}"
        )
    return NODE_CLIENT / "node_modules"


def _classify(sidecar: SidecarProcess, *args: str) -> tuple[int, list[dict[str, Any]]]:
    """Run the Node CLI with --json: its exit status and one object per file."""
    result = _run([str(NODE), str(CLI), "--json", "--address", sidecar.address, *args])
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, [json.loads(line) for line in result.stdout.splitlines()]


def _python_reason(sidecar: SidecarProcess, content: bytes) -> str:
    with Client(sidecar.address, timeout=60) as client, pytest.raises(DocumentRejected) as refused:
        client.classify(content)
    return refused.value.reason


def _assert_refused(item: dict[str, Any], reason: str) -> None:
    error = item["error"]
    assert error is not None, item
    assert (error["type"], error["code"], error["reason"]) == ("DocumentRejected", "INVALID_ARGUMENT", reason), error
    assert error["fieldViolations"] and error["fieldViolations"][0]["field"] == "content"  # BadRequest
    assert error["requestId"] and item["decision"] == "REJECTED" and item["label"] == ""


@pytest.mark.timeout(300)
def test_node_client_own_tests(node_modules: Path) -> None:
    result = _run([str(NPM), "test"], cwd=NODE_CLIENT, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.timeout(300)
def test_contract_passes_buf_lint_and_format(node_modules: Path) -> None:
    buf = str(node_modules / ".bin" / "buf")
    lint = _run([buf, "lint"])
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run([buf, "format", "--diff", "--exit-code", "proto"])
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


@pytest.mark.timeout(300)
def test_node_cli_classifies_a_pdf_and_an_image(
    node_modules: Path, sidecar: SidecarProcess, documents: dict[str, bytes], tmp_path: Path
) -> None:
    pdf, png = tmp_path / "invoice.pdf", tmp_path / "page.png"
    pdf.write_bytes(documents["pdf"])
    png.write_bytes(documents["png"])
    code, [answer] = _classify(sidecar, str(pdf), "--request-id", "node-e2e-1")
    assert code == 0 and answer["error"] is None, answer
    assert answer["requestId"] == "node-e2e-1"  # our x-request-id came back
    assert answer["clientRef"] == str(pdf) and answer["contentType"] == "pdf"
    assert answer["label"] in CANONICAL_LABELS and 0 < answer["confidence"] <= 1
    assert answer["decision"] in DECISIONS and answer["source"] in ("MODEL", "CACHE")
    assert (answer["modelName"], answer["modelVersion"]) == ("doc-classifier", "2.3")
    assert answer["digest"] == hashlib.sha256(documents["pdf"]).hexdigest()
    assert answer["scores"][answer["label"]] == answer["confidence"] and "total" in answer["timings"]

    code, [image] = _classify(sidecar, str(png))
    assert code == 0 and image["error"] is None, image
    assert image["requestId"] and image["contentType"] == "png" and image["decision"] in DECISIONS
    with Client(sidecar.address, timeout=60) as client:
        python = client.classify(str(png))
    assert (image["label"], image["digest"]) == (python.label, python.digest)


@pytest.mark.timeout(300)
def test_node_cli_reports_the_reason_the_python_client_reads(
    node_modules: Path, sidecar: SidecarProcess, tmp_path: Path
) -> None:
    text = tmp_path / "notes.txt"
    text.write_bytes(b"Quarterly notes: not a PDF, JPEG or PNG.\n")
    code, [refused] = _classify(sidecar, str(text))  # one file: Classify, the reason from the trailer
    assert code == 1
    _assert_refused(refused, "UNSUPPORTED_TYPE")
    assert _python_reason(sidecar, text.read_bytes()) == "UNSUPPORTED_TYPE"

    # Several files: one ClassifyStream, each refusal a google.rpc.Status inside its item.
    bomb = hostile.Case("jpeg_dims_65535", jpeg_sof_dims(make_jpeg(), 65_535, 65_535), "DECOMPRESSION_BOMB")
    cases = {c.name: c for c in [*hostile.truncations(), *hostile.active_pdfs(), *hostile.polyglots(), bomb]}
    cases |= {c.name: c for c in hostile.others()}
    paths = {}
    for name in HOSTILE:
        paths[name] = tmp_path / name
        paths[name].write_bytes(cases[name].content)
    code, items = _classify(sidecar, *(str(p) for p in paths.values()), str(text))
    assert code == 1 and len(items) == len(HOSTILE) + 1
    by_ref = {item["clientRef"]: item for item in items}
    for name, path in paths.items():
        expected = cases[name].reason
        assert isinstance(expected, str)
        _assert_refused(by_ref[str(path)], expected)
        assert _python_reason(sidecar, cases[name].content) == expected, name
    _assert_refused(by_ref[str(text)], "UNSUPPORTED_TYPE")
