"""`doctriage`: the command line of the DocTriage sidecar's client.

doctriage classify invoice.pdf scans/            # label, confidence, decision per file; folders walked
doctriage classify --json scans/ > results.jsonl
doctriage health                                 # exit 0 when SERVING
doctriage admin status | stats | drift
doctriage admin thresholds get|set ...   split get|set ...   models list|load|unload ...
doctriage admin reviews list|claim|resolve ...

Connection: --address / DOCTRIAGE_ADDRESS, --api-key / DOCTRIAGE_API_KEY (or --api-key-file), --tls,
--tls-ca, --tls-cert/--tls-key (mutual TLS), before or after the command. Exit codes: 0 done (every
file classified, SERVING), 1 some file refused or failed / not SERVING, 2 usage, connection,
authentication or a failed admin call; errors print their reason code and a one-line hint, never a
traceback. Evaluation and calibration are operators' tools, shipped with the server: `doctriage-admin`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from doctriage.cli import admin, classify, health
from doctriage.cli.common import ERROR, INTERRUPTED, PROG, Connection, UsageError, connection_parser, one_line
from doctriage.cli.common import report as report_error
from doctriage.errors import DocTriageError

EPILOG = """exit codes: 0 every file classified / SERVING / done; 1 some file refused or failed / not SERVING;
2 usage, connection or authentication error, or a failed admin call"""


def build_parser() -> argparse.ArgumentParser:
    connection = connection_parser()
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Client of the DocTriage sidecar",
        parents=[connection],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    classify.add_parser(sub, connection)
    health.add_parser(sub, connection)
    admin.add_parser(sub, connection)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # usage errors: argparse prints them and exits 2
    conn: Connection | None = None
    try:
        conn = Connection.from_args(args)
        code: int = args.func(args, conn)
    except DocTriageError as exc:
        assert conn is not None
        report_error(exc, conn)
        return ERROR
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return ERROR
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # `doctriage classify dir/ | head`
        sys.stderr.close()
        return ERROR
    except Exception as exc:  # noqa: BLE001 - a bug or an unexpected failure: one line, never a traceback
        print(f"{PROG}: unexpected {type(exc).__name__}: {one_line(str(exc))}", file=sys.stderr)
        return ERROR
    return code


__all__ = ["build_parser", "main"]
