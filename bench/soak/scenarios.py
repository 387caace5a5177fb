"""The reliability scenarios (realdocs, hostile, load, clamd outage, soak): each starts a real sidecar
process (`start`), talks to it over gRPC and returns its figures as a dict for bench/soak/results.json.
bench/soak/run.py chooses which run; bench/soak/report.py renders their results."""

from __future__ import annotations

import asyncio
import csv
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import grpc
from doctriage.v1 import classifier_pb2, classifier_pb2_grpc

from harness.clamd import ClamdProcess
from harness.documents import sample_documents
from harness.grpc_errors import reason_of
from harness.load import Run, closed_loop, open_loop
from harness.process import SidecarProcess

ROOT = Path(__file__).resolve().parents[2]

SHARED = ROOT.parent / "shared"
CORPUS = ROOT / "tests" / "corpus" / "malformed"
# Load runs repeat 30 documents: neither the answer cache nor the OCR engine's own cache may serve them.
NO_CACHES = {"DOCTRIAGE_CACHE__ENABLED": "false", "DOCTRIAGE_OCR__CACHE_ENTRIES": "0"}


def real_documents() -> list[tuple[str, Path]]:
    out = []
    for name in ("real-docs", "real-train"):
        manifest = SHARED / name / "MANIFEST.tsv"
        if manifest.is_file():
            with manifest.open(newline="") as fh:
                out += [
                    (row["label"], SHARED / name / "files" / row["file"]) for row in csv.DictReader(fh, delimiter="\t")
                ]
    return [(label, path) for label, path in out if path.is_file()]


def start(clamd: ClamdProcess | None, **env: str) -> SidecarProcess:
    scanner = {"DOCTRIAGE_SCANNER__ENABLED": "true", "DOCTRIAGE_SCANNER__ADDRESS": clamd.address} if clamd else {}
    return SidecarProcess(
        {"DOCTRIAGE_DECISION__ACCEPTANCE_RULE_FILE": str(ROOT / "config" / "acceptance-rule.json"), **scanner, **env}
    )


# -- scenarios ---------------------------------------------------------------------------------


def scenario_realdocs(clamd: ClamdProcess | None) -> dict[str, Any]:
    docs = real_documents()
    if not docs:
        return {"skipped": f"{SHARED}/real-docs and real-train are absent"}
    server = start(clamd)
    refused, flags = [], Counter()
    started = time.monotonic()
    try:
        with grpc.insecure_channel(server.address) as channel:
            stub = classifier_pb2_grpc.ClassifierStub(channel)
            for label, path in docs:
                request = classifier_pb2.ClassifyRequest(content=path.read_bytes(), filename=path.name)
                try:
                    response = stub.Classify(request, timeout=120)
                    flags.update(response.flags)
                except grpc.RpcError as exc:
                    refused.append(
                        {
                            "file": f"{path.parent.parent.parent.name}/{path.parent.name}/{path.name}",
                            "label": label,
                            "code": exc.code().name,
                            "reason": reason_of(exc),
                            "message": exc.details(),
                        }
                    )
    finally:
        server.kill()
    return {
        "documents": len(docs),
        "refused": refused,
        "refused_share": len(refused) / len(docs),
        "flags": dict(sorted(flags.items())),
        "scanner": "clamd" if clamd else "off (clamd not available)",
        "seconds": round(time.monotonic() - started, 1),
    }


def _hostile_cases(clamd: ClamdProcess | None) -> list[tuple[str, bytes, str, str | None, list[str]]]:
    """(name, content, declared MIME, expected reason or None or ANY, expected flags): the committed
    corpus (tests/corpus/malformed) and the generated one (harness/hostile.py)."""
    from harness.hostile import cases

    out = []
    for name, case in sorted(json.loads((CORPUS / "expected.json").read_text()).items()):
        if case.get("stage") != "scan" or clamd is not None:
            flags = list(case.get("flags") or [])
            out.append((name, (CORPUS / name).read_bytes(), str(case.get("mime", "")), case.get("reason"), flags))
    out += [(c.name, c.content, "", c.reason, list(c.flags)) for c in cases() if clamd is not None or not c.scan]
    return out


def scenario_hostile(clamd: ClamdProcess | None) -> dict[str, Any]:
    from harness.hostile import ANY

    server = start(clamd, DOCTRIAGE_CACHE__ENABLED="false")
    results = []
    try:
        with grpc.insecure_channel(server.address) as channel:
            stub = classifier_pb2_grpc.ClassifierStub(channel)
            for name, content, mime, want, want_flags in _hostile_cases(clamd):
                request = classifier_pb2.ClassifyRequest(content=content, filename=name, mime_type=mime)
                t0 = time.monotonic()
                try:
                    response = stub.Classify(request, timeout=60)
                    got, got_flags = None, sorted(response.flags)
                except grpc.RpcError as exc:
                    got, got_flags = reason_of(exc), []
                ok = (got == want and all(f in got_flags for f in want_flags)) or (
                    want == ANY and got in (None, "MALFORMED")
                )
                ms = round((time.monotonic() - t0) * 1e3, 1)
                results.append({"file": name, "expected": want, "got": got, "ok": ok, "ms": ms})
            rss = server.rss_mib()
        alive = server.proc.poll() is None
    finally:
        server.kill()
    return {
        "files": len(results),
        "as_expected": sum(r["ok"] for r in results),
        "wrong": [r for r in results if not r["ok"]],
        "server_alive_after": alive,
        "slowest_ms": max(r["ms"] for r in results),
        "rss_mib_after": round(rss, 1),
    }


def _mix() -> list[classifier_pb2.ClassifyRequest]:
    docs = real_documents()
    if docs:
        step = max(1, len(docs) // 30)
        chosen = [path for _, path in docs[::step]][:30]
        return [classifier_pb2.ClassifyRequest(content=p.read_bytes(), filename=p.name) for p in chosen]
    sample = sample_documents()
    return [classifier_pb2.ClassifyRequest(content=sample[k], filename=f"doc.{k}") for k in ("png", "jpeg", "pdf")]


def _summary(run: Run) -> dict[str, Any]:
    codes = Counter(o.code for o in run.outcomes)
    shed = run.of("RESOURCE_EXHAUSTED")
    return {
        "calls": len(run.outcomes),
        "codes": dict(codes),
        "docs_per_s": round(run.throughput, 2),
        "p50_ms": round(run.percentile(0.50) * 1e3, 1),
        "p95_ms": round(run.percentile(0.95) * 1e3, 1),
        "p99_ms": round(run.percentile(0.99) * 1e3, 1),
        "shed_p95_ms": round(run.percentile(0.95, "RESOURCE_EXHAUSTED") * 1e3, 1) if shed else None,
        "shed_with_retry_info": sum(o.retry_after_s is not None for o in shed),
    }


def scenario_load(clamd: ClamdProcess | None, seconds: float = 30.0) -> dict[str, Any]:
    requests = _mix()
    server = start(clamd, **NO_CACHES)
    try:
        # Warm-up: every model loaded and every OCR worker started.
        asyncio.run(closed_loop(server.address, requests, clients=2, seconds=5.0))
        one = asyncio.run(closed_loop(server.address, requests, clients=1, seconds=seconds / 2))
        closed = asyncio.run(closed_loop(server.address, requests, clients=32, seconds=seconds))
        overload = asyncio.run(open_loop(server.address, requests, rate=3 * closed.throughput, seconds=seconds))
    finally:
        server.kill()
    return {
        "documents": len(requests),
        "one_client": _summary(one),
        "closed_32": _summary(closed),
        "open_3x": {**_summary(overload), "rate": round(3 * closed.throughput, 2)},
    }


def scenario_clamd_outage(clamd: ClamdProcess | None, seconds: float = 30.0) -> dict[str, Any]:
    """4 closed-loop clients; clamd is stopped a third of the way in and started again at two thirds."""
    if clamd is None:
        return {"skipped": "clamd not available"}
    requests = _mix()
    server = start(clamd, **NO_CACHES)
    marks: dict[str, float] = {}
    try:
        asyncio.run(closed_loop(server.address, requests, clients=2, seconds=5.0))

        async def outage() -> None:
            t0 = time.monotonic()
            await asyncio.sleep(seconds / 3)
            marks["stopped"] = time.monotonic() - t0
            await asyncio.to_thread(clamd.stop)
            await asyncio.sleep(seconds / 3)
            marks["restarting"] = time.monotonic() - t0
            await asyncio.to_thread(clamd.start)
            marks["restarted"] = time.monotonic() - t0

        async def both() -> Run:
            run, _ = await asyncio.gather(closed_loop(server.address, requests, 4, seconds), outage())
            return run

        t0 = time.monotonic()
        run = asyncio.run(both())
    finally:
        server.kill()
    rel = [(o.at - t0, o) for o in run.outcomes]
    during = [o for t, o in rel if marks["stopped"] + 1 < t < marks["restarting"]]
    after_ok = [t for t, o in rel if t > marks["restarted"] and o.code == "OK"]
    reasons = Counter(f"{o.code}/{o.reason}" if o.reason else o.code for o in run.outcomes)
    return {
        **marks,
        "outcomes": dict(reasons),
        "during_outage": dict(Counter(f"{o.code}/{o.reason}" if o.reason else o.code for o in during)),
        "recovery_s": round(min(after_ok) - marks["restarted"], 2) if after_ok else None,
    }


def scenario_soak(clamd: ClamdProcess | None, minutes: float, measure_s: float = 180.0) -> dict[str, Any]:
    """The maximum sustainable rate measured first (32 closed-loop clients for `measure_s`), then an
    open loop at 80 % of it for `minutes`, the server's RSS sampled every 5 s."""
    requests = _mix()
    server = start(clamd, **NO_CACHES)
    samples: list[tuple[float, float]] = []
    try:
        asyncio.run(closed_loop(server.address, requests, clients=2, seconds=10.0))
        sustained = asyncio.run(closed_loop(server.address, requests, clients=32, seconds=measure_s)).throughput
        rate = 0.8 * sustained

        async def sample(until: float) -> None:
            t0 = time.monotonic()
            while time.monotonic() < until:
                samples.append((time.monotonic() - t0, server.rss_mib()))
                await asyncio.sleep(5.0)

        async def both() -> Run:
            until = time.monotonic() + minutes * 60
            run, _ = await asyncio.gather(open_loop(server.address, requests, rate, minutes * 60), sample(until))
            return run

        run = asyncio.run(both())
    finally:
        server.kill()
    warm = [r for t, r in samples if t >= 60] or [r for _, r in samples]
    return {
        "minutes": minutes,
        "sustained_docs_per_s": round(sustained, 2),
        "measured_over_s": measure_s,
        "rate": round(rate, 2),
        **_summary(run),
        "rss_mib_after_warmup": round(warm[0], 1),
        "rss_mib_end": round(warm[-1], 1),
        "rss_growth": round(warm[-1] / warm[0] - 1, 4),
    }
