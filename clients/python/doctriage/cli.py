"""`doctriage` command line: classify files through a running sidecar.

doctriage classify invoice.pdf photo.jpg     # label, confidence, decision per file
doctriage classify --json scans/*.png

Evaluation and calibration are operators' tools, shipped with the server: `doctriage-admin`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict

from doctriage.client import DEFAULT_ADDRESS, Classification, Client
from doctriage.errors import DocTriageError


def _row(result: Classification) -> str:
    if result.error is not None:
        return f"{result.client_ref}\tERROR\t{result.error.reason or result.error.code}\t{result.error.message}"
    return f"{result.client_ref}\t{result.label}\t{result.confidence:.3f}\t{result.decision}"


def _as_json(result: Classification) -> str:
    data = asdict(result)
    error = result.error
    data["error"] = None if error is None else {"code": error.code, "reason": error.reason, "message": error.message}
    return json.dumps(data, sort_keys=True)


def classify(args: argparse.Namespace) -> int:
    # Unreadable paths are reported in place and never stop the others.
    unreadable = {f: _unreadable(f) for f in args.files if _unreadable(f)}
    readable = [f for f in args.files if f not in unreadable]
    results: list[Classification] = []
    with Client(args.address, timeout=args.timeout, api_key=args.api_key) as client:
        if len(readable) == 1:
            try:
                results = [client.classify(readable[0])]
            except DocTriageError as exc:
                results = [_failed(readable[0], exc)]
        elif readable:
            results = list(client.classify_many(readable))
    results += [_failed(f, DocTriageError(why, reason="UNREADABLE")) for f, why in unreadable.items()]
    order = {path: i for i, path in enumerate(args.files)}
    results.sort(key=lambda r: order.get(r.client_ref, len(order)))
    for result in results:
        print(_as_json(result) if args.json else _row(result))
    return 1 if any(r.error is not None for r in results) else 0


def _unreadable(path: str) -> str:
    """Why `path` cannot be sent ("" when it can)."""
    if not os.path.exists(path):
        return "no such file"
    if not os.path.isfile(path):
        return "not a regular file"
    if not os.access(path, os.R_OK):
        return "permission denied"
    return ""


def _failed(path: str, exc: DocTriageError) -> Classification:
    return Classification("", path, "", 0.0, "REJECTED", {}, "", "", "", "", error=exc)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="doctriage", description="Client of the DocTriage sidecar")
    parser.add_argument(
        "--address", default=os.environ.get("DOCTRIAGE_ADDRESS", DEFAULT_ADDRESS), help="sidecar host:port"
    )
    parser.add_argument("--api-key", default=os.environ.get("DOCTRIAGE_API_KEY"), help="API key (or DOCTRIAGE_API_KEY)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per document")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("classify", help="classify files and print label, confidence and decision")
    p.add_argument("files", nargs="+")
    p.add_argument("--json", action="store_true", help="one JSON object per file")
    p.set_defaults(func=classify)
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except DocTriageError as exc:
        print(f"doctriage: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
