"""The in-process ceiling: the work of bench/compare/work.py called directly, N threads each
classifying its next document as soon as the last one is done; no server, no serialization, no
network. Run as its own process so that its CPU time and memory are its own:

    python -m bench.compare.inproc --levels 1,2,4,8 --seconds 10     # JSON on stdout
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

from bench.compare import corpus
from bench.compare.procstat import rss_mib, self_cpu_seconds
from bench.compare.work import Work
from sidecar.errors import DocTriageError


def run_level(work: Work, docs: list[corpus.Doc], clients: int, seconds: float) -> dict[str, object]:
    outcomes: list[tuple[int, str, float]] = []  # (document index, "OK" or the error, latency s)
    lock = threading.Lock()
    started = time.monotonic()
    until = started + seconds

    def client(k: int) -> None:
        i = k
        while time.monotonic() < until:
            n = i % len(docs)
            t0 = time.monotonic()
            try:
                work.classify(docs[n].content, docs[n].filename)
                code = "OK"
            except DocTriageError as exc:
                code = type(exc).__name__
            with lock:
                outcomes.append((n, code, time.monotonic() - t0))
            i += clients

    cpu = self_cpu_seconds()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "clients": clients,
        "elapsed": time.monotonic() - started,
        "cpu_s": self_cpu_seconds() - cpu,
        "rss_mib": rss_mib(os.getpid()),
        "outcomes": outcomes,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="1,2,4,8")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    docs = corpus.build()
    work = Work()
    run_level(work, docs, 2, max(2.0, args.seconds / 4))  # warm-up: every page size decoded once
    levels = [run_level(work, docs, int(n), args.seconds) for n in args.levels.split(",")]
    args.out.write_text(json.dumps({"levels": levels}))
    print(f"in-process: {len(levels)} levels", file=sys.stderr)


if __name__ == "__main__":
    main()
