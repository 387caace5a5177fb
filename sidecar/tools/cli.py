"""`doctriage-admin`: operators' tools against a running sidecar (installed with the server).

doctriage-admin eval labelled/                     # DIR/<label>/*: accuracy, silent failures, ECE, ...
doctriage-admin calibrate labelled/ --alpha 0.01   # prove and install a risk-controlled acceptance rule

Classifying a file is the client's `doctriage classify` (the `doctriage` distribution).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from doctriage import DocTriageError
from doctriage.client import DEFAULT_ADDRESS

from sidecar.tools import calibrate, eval_command


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="doctriage-admin", description="Operators' tools for the DocTriage sidecar")
    parser.add_argument(
        "--address", default=os.environ.get("DOCTRIAGE_ADDRESS", DEFAULT_ADDRESS), help="sidecar host:port"
    )
    parser.add_argument("--api-key", default=os.environ.get("DOCTRIAGE_API_KEY"), help="API key (or DOCTRIAGE_API_KEY)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per document")
    sub = parser.add_subparsers(dest="command", required=True)
    eval_command.add_parser(sub)
    calibrate.add_parser(sub)
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except DocTriageError as exc:
        print(f"doctriage-admin: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
