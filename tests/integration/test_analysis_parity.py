"""Serving and calibration answer every real document alike: the acceptance rule is proven on the path
it guards.

One sidecar runs the shipped models under the default configuration (the 90/10 split, the cascade to
2.4, the shipped acceptance rule) on a loopback port; every document of ../shared/real-docs goes
through it by gRPC, and through the offline calibration path (`OfflineClassifier`, what `doctriage
calibrate --offline` and bench/realdocs run) for 2.4. Both read the document through the analysis core
(sidecar/pipeline/analysis.py); the test holds that, whatever each caller strings around it, they give
the same refusals (with the same reason), the same answers, the same decision inputs (label,
confidence, OOD score, every business-rule finding) and the same decision.

The offline classifier is given the server's own stages (settings, rules, OCR pool): OCR runs once
per page and its cache serves the second read, so what is compared is the path, not whether tesseract
reads a page twice alike on a loaded machine (OCR gets a 60 s page limit for the same reason).
DOCTRIAGE_PARITY_ALL=1 also runs ../shared/real-train (402 documents in all, ~10 min).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import grpc
import pytest
from doctriage.v1 import classifier_pb2, classifier_pb2_grpc

from harness.grpc_errors import reason_of
from harness.paths import REAL_DOCS, ROOT
from harness.server import ServerThread
from harness.settings import make_settings
from sidecar.config import Settings
from sidecar.decision.decide import decide
from sidecar.tools.offline import OfflineClassifier

MODELS = ROOT / "models"


def _documents() -> list[Path]:
    roots = [REAL_DOCS]
    if os.environ.get("DOCTRIAGE_PARITY_ALL") == "1" and (REAL_DOCS.parent / "real-train").is_dir():
        roots.append(REAL_DOCS.parent / "real-train")
    files = []
    for root in roots:
        with (root / "MANIFEST.tsv").open(newline="") as fh:
            files += [root / "files" / row["file"] for row in csv.DictReader(fh, delimiter="\t")]
    return [f for f in files if f.is_file()]


@pytest.mark.realdocs
@pytest.mark.timeout(1800)
def test_serving_and_calibration_give_the_same_answers_and_decision_inputs() -> None:
    defaults = Settings()
    settings = make_settings(
        MODELS,
        decision={"acceptance_rule_file": defaults.decision.acceptance_rule_file},
        traffic={"escalate_to": defaults.traffic.escalate_to},
        ocr={"page_timeout_s": 60.0},
        cache={"enabled": False},
    )
    assert defaults.traffic.escalate_to == "2.4" and settings.decision.acceptance_rule_file is not None
    server = ServerThread(settings).start()
    try:
        assert server.server is not None
        dataplane = server.server.dataplane
        offline = OfflineClassifier(MODELS / "doc-classifier" / "2.4", stages=dataplane.stages)
        thresholds = dataplane.thresholds_for("2.4")
        assert thresholds.rule is not None and thresholds.rule.proven
        compared = refused = 0
        with grpc.insecure_channel(server.address) as channel:
            stub = classifier_pb2_grpc.ClassifierStub(channel)
            for i, path in enumerate(_documents()):
                content, name = path.read_bytes(), f"{path.parent.name}/{path.name}"
                metadata = {"channel": "parity", "n": str(i)}
                local = offline.classify(content, path.name, "", metadata)
                request = classifier_pb2.ClassifyRequest(
                    content=content, filename=path.name, routing_key=name, metadata=metadata
                )
                try:
                    served = stub.Classify(request, timeout=300)
                except grpc.RpcError as exc:
                    assert local.prediction is None, f"{name}: served refused it ({reason_of(exc)}), offline not"
                    assert local.reason == reason_of(exc), name
                    refused += 1
                    continue
                p = local.prediction
                assert p is not None, f"{name}: offline refused it ({local.error}), served answered"
                # Under the default configuration every answer 2.3 cannot stand behind goes to 2.4.
                assert served.model_version == "2.4", name
                assert served.label == p.label, name
                assert served.confidence == pytest.approx(p.confidence, abs=1e-6), name
                assert served.ood_score == pytest.approx(p.ood_score, rel=1e-6, abs=1e-6), name
                assert [(f.rule, f.passed, f.detail) for f in served.rule_findings] == [
                    (f.rule, f.passed, f.detail) for f in local.findings or ()
                ], name
                decision = decide(p, thresholds, local.findings)
                assert classifier_pb2.Decision.Name(served.decision) == decision.kind.name, name
                assert set(decision.reasons) <= set(served.decision_reasons), name
                compared += 1
        offline.close()
    finally:
        server.stop()
    assert compared >= 80 and compared + refused == len(_documents())
