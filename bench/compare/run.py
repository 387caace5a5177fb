"""The sidecar's own cost, side by side with what users would run instead (issue #25).

    make bench                                  # installs the [bench] extra, then runs this (~15 min)
    .venv/bin/python -m bench.compare.run       # the same, without installing
    .venv/bin/python -m bench.compare.run --quick   # a smoke run: 2 s phases, 1 and 8 in flight, written
                                                    # to var/bench-compare-quick/ (never over the results)

The same corpus (bench/compare/corpus.py: 30 born-digital PDFs, scans and phone photos) and the same
model (doc-classifier 2.3 in ONNX Runtime, one intra-op thread) served by:

1. inproc: the in-process ceiling, no server (bench/compare/inproc.py);
2. grpc_bare: a minimal grpc.aio server with the sidecar's proto (bench/compare/servers.py);
3. sidecar_image_only / sidecar_default: the sidecar as a real process (harness.process), unary and
   streaming; image-only = every request to 2.3, no cascade, no acceptance-rule file; default = the
   release's configuration (90/10 split with 2.4, the cascade, the acceptance rule). Both: answer
   cache and OCR cache off (the corpus repeats), auth, rate limit and clamd off;
4. fastapi: FastAPI + uvicorn, multipart upload (bench/compare/servers.py);
5. pytriton: NVIDIA Triton through PyTriton, in its own virtualenv (bench/compare/triton.py).

Each is swept closed-loop at 1, 2, 4 and 8 requests in flight, then run open-loop at one constant
arrival rate (70 % of what the image-only sidecar sustained at 8 in flight; latency from the time each
call was due). Per phase: throughput, p50/p95/p99/p99.9, errors, server CPU seconds per document (the
server's process tree, /proc), RSS, cost per 1 000 documents at `cost.cpu_second_price`.

Writes bench/compare/results.json, then bench/RESULTS.md and the plots (bench/compare/report.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager, suppress
from importlib import metadata
from pathlib import Path
from typing import Any

from doctriage.v1 import classifier_pb2

from bench.compare import clients, corpus, procstat, triton
from bench.compare.procs import Server
from harness.load import Call, Outcome, closed_loop_calls, open_loop_calls
from harness.paths import ROOT
from harness.process import SidecarProcess
from sidecar.config import CostSettings

HERE = Path(__file__).parent
RESULTS = HERE / "results.json"
# Where a --quick or --only run writes its results and report (the committed ones come from full runs only).
QUICK_DIR = ROOT / "var" / "bench-compare-quick"
DEADLINE_S = 30.0
OPEN_LOOP_SHARE = 0.7

# Both sidecar configurations: the corpus repeats, so neither the answer cache nor the OCR engine's
# own cache may answer; auth, the rate limit and clamd are off (harness.process: SidecarProcess).
NO_CACHES = {"DOCTRIAGE_CACHE__ENABLED": "false", "DOCTRIAGE_OCR__CACHE_ENTRIES": "0"}
IMAGE_ONLY = {
    **NO_CACHES,
    "DOCTRIAGE_TRAFFIC__WEIGHTS": '{"2.3": 1.0}',
    "DOCTRIAGE_TRAFFIC__ESCALATE_TO": "",
    "DOCTRIAGE_DECISION__ACCEPTANCE_RULE_FILE": "",
}
DEFAULT = {**NO_CACHES, "DOCTRIAGE_DECISION__ACCEPTANCE_RULE_FILE": str(ROOT / "config" / "acceptance-rule.json")}

SYSTEMS = {
    "inproc": "In-process ceiling: validate + decode + normalize + 2.3 in ONNX Runtime, called from N threads; "
    "no server",
    "grpc_bare": "Bare grpc.aio server (the sidecar's proto, unary), the same work in a 2-thread executor; no "
    "interceptors, admission, logging or metrics",
    "sidecar_image_only": "The sidecar (python -m sidecar serve), image-only: traffic {2.3: 1.0}, no cascade, no "
    "acceptance-rule file",
    "sidecar_default": "The sidecar, the release's configuration: 90/10 split 2.3/2.4, cascade to 2.4 (reads "
    "text, OCR), acceptance rule",
    "fastapi": "FastAPI + uvicorn (one worker, h11, access log on), multipart upload, a sync endpoint in "
    "FastAPI's thread pool",
    "pytriton": "NVIDIA Triton through PyTriton: BYTES input over KServe v2 HTTP, dynamic batcher (max 8), 2 "
    "Python model instances",
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- statistics ----------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float | None:
    return values[min(len(values) - 1, int(q * len(values)))] if values else None


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1e3, 2)


def summarize(
    outcomes: Sequence[Outcome], elapsed: float, cpu_s: float | None, docs: Sequence[corpus.Doc], price: float
) -> dict[str, Any]:
    ok = sorted(o.latency_s for o in outcomes if o.code == "OK")
    errors = Counter(f"{o.code}:{o.reason}" if o.reason else o.code for o in outcomes if o.code != "OK")
    per_category: dict[str, Any] = {}
    for category in corpus.CATEGORIES:
        lat = sorted(o.latency_s for o in outcomes if o.code == "OK" and docs[o.index].category == category)
        if lat:
            per_category[category] = {"n": len(lat), "p50_ms": _ms(_pct(lat, 0.5)), "p95_ms": _ms(_pct(lat, 0.95))}
    cpu_per_doc = cpu_s / len(ok) if ok and cpu_s is not None else None
    return {
        "calls": len(outcomes),
        "ok": len(ok),
        "errors": dict(errors),
        "seconds": round(elapsed, 2),
        "docs_per_s": round(len(ok) / elapsed, 2) if elapsed else 0.0,
        "p50_ms": _ms(_pct(ok, 0.50)),
        "p95_ms": _ms(_pct(ok, 0.95)),
        "p99_ms": _ms(_pct(ok, 0.99)),
        "p999_ms": _ms(_pct(ok, 0.999)),
        "max_ms": _ms(ok[-1] if ok else None),
        "server_cpu_s": None if cpu_s is None else round(cpu_s, 2),
        "cpu_ms_per_doc": None if cpu_per_doc is None else round(cpu_per_doc * 1e3, 2),
        "cost_per_1000": None if cpu_per_doc is None else round(cpu_per_doc * 1000 * price, 6),
        "by_category": per_category,
    }


# -- phases against a server ---------------------------------------------------------------------


class Answers:
    """What the sidecar's answers say about the work done (OCR read, which version answered)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.ocr = 0
        self.versions: Counter[str] = Counter()
        self.decisions: Counter[str] = Counter()

    def __call__(self, response: classifier_pb2.ClassifyResponse) -> None:
        self.count += 1
        self.ocr += "ocr" in response.timings
        self.versions[response.model_version] += 1
        self.decisions[classifier_pb2.Decision.Name(response.decision)] += 1

    def summary(self) -> dict[str, Any]:
        return {
            "ocr_share": round(self.ocr / self.count, 3) if self.count else None,
            "versions": dict(self.versions),
            "decisions": dict(self.decisions),
        }


ClientFactory = Callable[[Sequence[corpus.Doc], Answers | None], AbstractAsyncContextManager[Call]]


class Target:
    """A server under load: how to call it and which process tree does its work."""

    def __init__(self, pid: int, factory: ClientFactory, sidecar: bool = False) -> None:
        self.pid, self.factory, self.sidecar = pid, factory, sidecar
        self.rss_peak = 0.0

    def warm(self, docs: Sequence[corpus.Doc]) -> None:
        """Every document once, two at a time (model sessions, decoders, the OCR pool started)."""

        async def go() -> None:
            async with self.factory(docs, None) as call:
                gate = asyncio.Semaphore(2)

                async def one(i: int) -> Outcome:
                    async with gate:
                        return await call(i, time.monotonic())

                outcomes = await asyncio.gather(*(one(i) for i in range(len(docs))))
            failed = Counter(o.code for o in outcomes if o.code != "OK")
            if failed:
                log(f"  warm-up errors: {dict(failed)}")

        asyncio.run(go())

    def phase(
        self, docs: Sequence[corpus.Doc], seconds: float, price: float, *, clients: int = 0, rate: float = 0.0
    ) -> dict[str, Any]:
        answers = Answers() if self.sidecar else None

        async def go() -> tuple[list[Outcome], float, float, float]:
            async with self.factory(docs, answers) as call:
                await call(0, time.monotonic())  # the connection is up before the clock starts
                if answers is not None:
                    answers.reset()
                cpu = await asyncio.to_thread(procstat.cpu_seconds, self.pid)
                me = procstat.self_cpu_seconds()
                if clients:
                    run = await closed_loop_calls(call, len(docs), clients, seconds)
                else:
                    run = await open_loop_calls(call, len(docs), rate, seconds)
                cpu = await asyncio.to_thread(procstat.cpu_seconds, self.pid) - cpu
                return run.outcomes, run.elapsed, cpu, procstat.self_cpu_seconds() - me

        outcomes, elapsed, cpu, client_cpu = asyncio.run(go())
        rss = procstat.rss_mib(self.pid)
        self.rss_peak = max(self.rss_peak, rss)
        stats = summarize(outcomes, elapsed, cpu, docs, price)
        stats.update(
            {
                "mode": "closed" if clients else "open",
                "in_flight": clients or None,
                "rate": round(rate, 2) if rate else None,
                "rss_mib": round(rss, 1),
                "client_cpu_s": round(client_cpu, 2),
            }
        )
        if answers is not None:
            stats["answers"] = answers.summary()
        return stats


def sweep(
    target: Target,
    api: str,
    docs: Sequence[corpus.Doc],
    levels: Sequence[int],
    seconds: float,
    price: float,
    name: str,
) -> list[dict[str, Any]]:
    out = []
    for level in levels:
        stats = target.phase(docs, seconds, price, clients=level)
        stats.update({"api": api, "docs": "all"})
        log(f"  {name} {api} {level} in flight: {_line(stats)}")
        out.append(stats)
    return out


def open_phase(
    target: Target, api: str, docs: Sequence[corpus.Doc], rate: float, seconds: float, price: float, name: str
) -> dict[str, Any]:
    stats = target.phase(docs, seconds, price, rate=rate)
    stats.update({"api": api, "docs": "all"})
    log(f"  {name} {api} open loop {rate:.1f}/s: {_line(stats)}")
    return stats


def _line(s: dict[str, Any]) -> str:
    return (
        f"{s['docs_per_s']:.1f} docs/s p50 {s['p50_ms']} ms p95 {s['p95_ms']} ms p99 {s['p99_ms']} ms "
        f"errors {sum(s['errors'].values())} cpu {s['cpu_ms_per_doc']} ms/doc rss {s['rss_mib']} MiB"
    )


# -- the systems ---------------------------------------------------------------------------------


def grpc_factory(address: str, stream: bool = False) -> ClientFactory:
    def make(docs: Sequence[corpus.Doc], answers: Answers | None) -> AbstractAsyncContextManager[Call]:
        if stream:
            return clients.grpc_stream(address, docs, DEADLINE_S, answers)
        return clients.grpc_unary(address, docs, DEADLINE_S, answers)

    return make


def http_factory(port: int, build: Callable[[corpus.Doc], clients.HttpRequest]) -> ClientFactory:
    cache: dict[int, list[clients.HttpRequest]] = {}

    def make(docs: Sequence[corpus.Doc], answers: Answers | None) -> AbstractAsyncContextManager[Call]:
        requests = cache.setdefault(id(docs), [build(d) for d in docs])
        return clients.http_post("127.0.0.1", port, requests, DEADLINE_S)

    return make


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.quick: bool = args.quick
        self.seconds: float = args.seconds
        self.levels: list[int] = [int(x) for x in args.levels.split(",")]
        self.docs = corpus.build()
        self.price = CostSettings().cpu_second_price
        self.open_rate: float | None = None
        self.systems: dict[str, dict[str, Any]] = {}

    def record(self, name: str, fn: Callable[[], dict[str, Any]]) -> None:
        log(f"{name}: {SYSTEMS[name]}")
        started = time.monotonic()
        try:
            result = {"status": "ok", **fn()}
        except Exception as exc:  # noqa: BLE001 - a system that cannot run is reported, the others go on
            log(f"  {name} failed: {exc}")
            traceback.print_exc()
            result = {"status": f"failed: {type(exc).__name__}: {exc}"}
        result["does"] = SYSTEMS[name]
        result["wall_s"] = round(time.monotonic() - started, 1)
        self.systems[name] = result

    def rate(self) -> float:
        assert self.open_rate is not None, "the image-only sidecar runs first"
        return self.open_rate

    def sidecar_image_only(self) -> dict[str, Any]:
        server = SidecarProcess(IMAGE_ONLY, keep_log=False)
        try:
            target = Target(server.proc.pid, grpc_factory(server.address), sidecar=True)
            stream = Target(server.proc.pid, grpc_factory(server.address, stream=True), sidecar=True)
            target.warm(self.docs)
            phases = sweep(target, "unary", self.docs, self.levels, self.seconds, self.price, "sidecar")
            phases += sweep(stream, "stream", self.docs, self.levels, self.seconds, self.price, "sidecar")
            self.open_rate = OPEN_LOOP_SHARE * phases[len(self.levels) - 1]["docs_per_s"]
            phases.append(open_phase(target, "unary", self.docs, self.rate(), self.seconds, self.price, "sidecar"))
            phases.append(open_phase(stream, "stream", self.docs, self.rate(), self.seconds, self.price, "sidecar"))
            return {"phases": phases, "rss_peak_mib": round(max(target.rss_peak, stream.rss_peak), 1)}
        finally:
            server.kill()

    def inproc(self) -> dict[str, Any]:
        tmp = Path(tempfile.mkdtemp(prefix="doctriage-compare-"))
        out = tmp / "inproc.json"
        levels = ",".join(map(str, self.levels))
        argv = [sys.executable, "-m", "bench.compare.inproc", "--levels", levels, "--seconds", str(self.seconds)]
        code = subprocess.call([*argv, "--out", str(out)], cwd=ROOT)
        if code != 0:
            raise RuntimeError(f"bench.compare.inproc exited with {code}")
        levels_found = json.loads(out.read_text())["levels"]
        shutil.rmtree(tmp, ignore_errors=True)
        phases, peak = [], 0.0
        for level in levels_found:
            outcomes = [Outcome(code, "", lat, None, 0.0, i) for i, code, lat in level["outcomes"]]
            stats = summarize(outcomes, level["elapsed"], level["cpu_s"], self.docs, self.price)
            stats.update(
                {"mode": "closed", "in_flight": level["clients"], "rate": None, "rss_mib": round(level["rss_mib"], 1)}
            )
            stats.update({"api": "direct", "docs": "all", "client_cpu_s": None})
            log(f"  inproc {level['clients']} in flight: {_line(stats)}")
            phases.append(stats)
            peak = max(peak, level["rss_mib"])
        return {"phases": phases, "rss_peak_mib": round(peak, 1)}

    def _server_system(self, name: str, server: Server, target: Target, api: str) -> dict[str, Any]:
        try:
            target.warm(self.docs)
            phases = sweep(target, api, self.docs, self.levels, self.seconds, self.price, name)
            phases.append(open_phase(target, api, self.docs, self.rate(), self.seconds, self.price, name))
            return {"phases": phases, "rss_peak_mib": round(target.rss_peak, 1)}
        finally:
            server.stop()

    def grpc_bare(self) -> dict[str, Any]:
        server = Server([sys.executable, "-m", "bench.compare.servers", "grpc"])
        return self._server_system("grpc_bare", server, Target(server.pid, grpc_factory(server.address)), "unary")

    def fastapi(self) -> dict[str, Any]:
        try:
            versions = {n: metadata.version(n) for n in ("fastapi", "starlette", "uvicorn", "python-multipart", "h11")}
        except metadata.PackageNotFoundError as exc:
            raise RuntimeError(f"{exc.name} is not installed: `make bench` installs the [bench] extra") from exc
        server = Server([sys.executable, "-m", "bench.compare.servers", "fastapi"])
        target = Target(server.pid, http_factory(server.port, clients.multipart))
        return {"versions": versions, **self._server_system("fastapi", server, target, "http")}

    def pytriton(self) -> dict[str, Any]:
        python, why = triton.ensure_venv(install=not self.quick)
        if python is None:
            raise RuntimeError(why)
        version = subprocess.run(
            [str(python), "-c", "from importlib.metadata import version as v; print(v('nvidia-pytriton'), v('numpy'))"],
            capture_output=True,
            text=True,
        ).stdout.split()
        found = dict(zip(("nvidia-pytriton", "numpy"), version, strict=False))
        server = Server([str(python), "-m", "bench.compare.triton_server"], env=triton.server_env(), timeout_s=240)
        try:
            wait_ready(f"http://127.0.0.1:{server.port}/v2/models/doctriage/ready", 120)
        except TimeoutError as exc:
            server.stop()
            raise RuntimeError(f"Triton's model never became ready: {server.log_tail()}") from exc
        target = Target(server.pid, http_factory(server.port, lambda d: clients.triton_infer(d, "doctriage")))
        return {"versions": found, **self._server_system("pytriton", server, target, "http")}

    def sidecar_default(self) -> dict[str, Any]:
        server = SidecarProcess(DEFAULT, keep_log=False)
        try:
            target = Target(server.proc.pid, grpc_factory(server.address), sidecar=True)
            stream = Target(server.proc.pid, grpc_factory(server.address, stream=True), sidecar=True)
            target.warm(self.docs)
            phases = sweep(target, "unary", self.docs, self.levels, self.seconds, self.price, "sidecar default")
            top = self.levels[-1]
            phases += sweep(stream, "stream", self.docs, [top], self.seconds, self.price, "sidecar default")
            for category in ("pdf_digital", "photo"):
                docs = corpus.build(category)
                stats = target.phase(docs, self.seconds, self.price, clients=top)
                stats.update({"api": "unary", "docs": category})
                log(f"  sidecar default unary {top} in flight, {category} only: {_line(stats)}")
                phases.append(stats)
            rate = OPEN_LOOP_SHARE * phases[len(self.levels) - 1]["docs_per_s"]
            phases.append(open_phase(target, "unary", self.docs, rate, self.seconds, self.price, "sidecar default"))
            return {"phases": phases, "rss_peak_mib": round(max(target.rss_peak, stream.rss_peak), 1)}
        finally:
            server.kill()


def wait_ready(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(url)


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "")
    meminfo = Path("/proc/meminfo").read_text().split("\n", 1)[0] if Path("/proc/meminfo").is_file() else ""
    mem_gib = round(int(meminfo.split()[1]) / 1024**2, 1) if meminfo else None
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def versions() -> dict[str, str]:
    out = {}
    for name in ("grpcio", "protobuf", "onnxruntime", "numpy", "pillow", "pypdfium2"):
        with suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 s phases, 1 and 8 in flight")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per phase (default 10; quick 2)")
    parser.add_argument("--levels", default=None, help="requests in flight (default 1,2,4,8; quick 1,8)")
    parser.add_argument("--only", default="", help="comma-separated systems (default: all)")
    parser.add_argument("--out", type=Path, default=None, help="results directory (default: the committed ones)")
    args = parser.parse_args()
    args.seconds = args.seconds or (2.0 if args.quick else 10.0)
    args.levels = args.levels or ("1,8" if args.quick else "1,2,4,8")
    bench = Bench(args)
    started = time.monotonic()
    log(f"corpus: {corpus.describe(bench.docs)}")
    wanted = set(args.only.split(",")) if args.only else set(SYSTEMS)
    order: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("sidecar_image_only", bench.sidecar_image_only),  # first: its rate at 8 in flight sets the open loop's
        ("inproc", bench.inproc),
        ("grpc_bare", bench.grpc_bare),
        ("fastapi", bench.fastapi),
        ("pytriton", bench.pytriton),
        ("sidecar_default", bench.sidecar_default),
    ]
    for name, fn in order:
        if name in wanted or (name == "sidecar_image_only" and wanted & {"grpc_bare", "fastapi", "pytriton"}):
            bench.record(name, fn)
    results = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "versions": versions(),
        "quick": args.quick,
        "seconds_per_phase": args.seconds,
        "levels": bench.levels,
        "open_loop": {"share_of_sidecar_image_only_at_top": OPEN_LOOP_SHARE, "rate": bench.open_rate},
        "cost": {"cpu_second_price": bench.price, "currency": CostSettings().currency},
        "corpus": corpus.describe(bench.docs),
        "systems": bench.systems,
        "run_seconds": round(time.monotonic() - started, 1),
    }
    out_dir: Path | None = args.out or (QUICK_DIR if args.quick or args.only else None)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    results_file = RESULTS if out_dir is None else out_dir / "results.json"
    results_file.write_text(json.dumps(results, indent=2) + "\n")
    log(f"wrote {results_file} ({results['run_seconds']:.0f} s)")
    from bench.compare.report import write_report

    for path in write_report(results, out_dir):
        log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
