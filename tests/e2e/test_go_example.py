"""The Go example (clients/go) against a real sidecar: stubs generated from proto/ (protoc of grpcio-tools with
protoc-gen-go and protoc-gen-go-grpc), built from Debian's packaged Go libraries (clients/go/build-offline.sh:
no module proxy needed), then it classifies a PNG (label, decision, our request id back) and reports a refused
file with the ErrorInfo reason that grpc-go decodes from the status details.

Skipped unless the toolchain is installed (`make test` does not install it; clients/go/README.md says how)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.process import SidecarProcess
from sidecar.tools.evaluation import CANONICAL_LABELS

ROOT = Path(__file__).resolve().parents[2]
GO_EXAMPLE = ROOT / "clients" / "go"
NEEDED = ("go", "protoc-gen-go", "protoc-gen-go-grpc")
MISSING = [tool for tool in NEEDED if shutil.which(tool) is None]
if not Path("/usr/share/gocode/src/google.golang.org/grpc").is_dir():
    MISSING.append("golang-google-grpc-dev (/usr/share/gocode)")

pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"the Go example needs {', '.join(MISSING)} (clients/go/README.md)"
)


@pytest.fixture(scope="module")
def binary() -> Path:
    env = {**os.environ, "PROTOC": f"{sys.executable} -m grpc_tools.protoc"}
    for script in ("generate.sh", "build-offline.sh"):
        done = subprocess.run(
            [str(GO_EXAMPLE / script)], capture_output=True, text=True, env=env, timeout=280, check=False
        )
        assert done.returncode == 0, f"{script}:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
    return GO_EXAMPLE / "classify"


@pytest.mark.timeout(300)
def test_go_example_classifies_and_reports_the_reason(
    binary: Path, sidecar: SidecarProcess, documents: dict[str, bytes], tmp_path: Path
) -> None:
    page, text = tmp_path / "page.png", tmp_path / "notes.txt"
    page.write_bytes(documents["png"])
    text.write_bytes(b"not a document\n")
    run = [str(binary), "-address", sidecar.address]

    answered = subprocess.run([*run, "-request-id", "go-e2e-1", str(page)], capture_output=True, text=True, timeout=60)
    assert answered.returncode == 0, answered.stderr
    answer = json.loads(answered.stdout)
    assert answer["requestId"] == "go-e2e-1" and answer["error"] is None
    assert answer["label"] in CANONICAL_LABELS and 0 < answer["confidence"] <= 1
    assert answer["decision"] in ("ACCEPTED", "ACCEPTED_AFTER_RULES", "HUMAN_REVIEW")

    refused = subprocess.run([*run, str(text)], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1, refused.stderr
    error = json.loads(refused.stdout)["error"]
    assert (error["code"], error["reason"]) == ("InvalidArgument", "UNSUPPORTED_TYPE")
    assert error["fieldViolations"] and error["requestId"]
