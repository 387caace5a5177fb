"""Reliability scenarios against a real sidecar process, and docs/RELIABILITY.md from their results.

    .venv/bin/python -m bench.soak.run                 # every scenario below (~15 min on 2 cores)
    .venv/bin/python -m bench.soak.run --only load     # one or more: realdocs, hostile, load, soak
    .venv/bin/python -m bench.soak.run --soak-minutes 10

Each scenario starts `python -m sidecar serve` with the shipped models and the default
configuration (auth and the rate limit off, cache off for load, a real clamd from
scripts/clamd.sh) and talks to it over gRPC:

- realdocs: every document of ../shared/real-docs and ../shared/real-train, one at a time; each
  refusal listed with its reason (legitimate documents: target <= 0.5 % refused, each explained);
- hostile: tests/corpus/malformed through the server; each must get its expected reason or flag;
- load: 32 closed-loop clients (30 s deadlines), then an open loop at 3x the rate they sustained,
  on a mix of real documents (sample documents when ../shared is absent);
- clamd: clamd stopped and started again under a closed loop of 4 clients;
- soak (with --soak-minutes): an open loop at 80 % of that rate; RSS of the server sampled.

Results: bench/soak/results.json (merged by scenario) and docs/RELIABILITY.md (rendered from it).
The scenarios are in bench/soak/scenarios.py, the report they are rendered into in bench/soak/report.py.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.soak.report import render
from bench.soak.scenarios import (
    ROOT,
    scenario_clamd_outage,
    scenario_hostile,
    scenario_load,
    scenario_realdocs,
    scenario_soak,
)
from harness.clamd import ClamdProcess

RESULTS = Path(__file__).with_name("results.json")
REPORT = ROOT / "docs" / "RELIABILITY.md"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="realdocs,hostile,load,clamd")
    parser.add_argument("--soak-minutes", type=float, default=0.0)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each load phase")
    args = parser.parse_args()
    wanted = set(args.only.split(","))
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    results["machine"] = (
        f"{platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}"
    )
    results["date"] = time.strftime("%Y-%m-%d")
    clamd = None
    try:
        clamd = ClamdProcess(Path(tempfile.mkdtemp(prefix="doctriage-clamd-"))).start()
    except Exception as exc:  # noqa: BLE001 - reported in the results
        print(f"clamd not started: {exc}", file=sys.stderr)
    try:
        if "realdocs" in wanted:
            results["realdocs"] = scenario_realdocs(clamd)
        if "hostile" in wanted:
            results["hostile"] = scenario_hostile(clamd)
        if "load" in wanted:
            results["load"] = scenario_load(clamd, args.seconds)
        if "clamd" in wanted:
            results["clamd_outage"] = scenario_clamd_outage(clamd, args.seconds)
        if args.soak_minutes > 0:
            results["soak"] = scenario_soak(clamd, args.soak_minutes)
    finally:
        if clamd is not None:
            clamd.stop()
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    REPORT.write_text(render(results))
    print(REPORT.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
