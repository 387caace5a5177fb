"""`python -m sidecar.review export --db var/review.sqlite3 --out feedback.jsonl [--documents DIR]`.

Exports every reviewer resolution (the feedback table) as JSON lines for `training/`:
digest, true_label, predicted_label, confidence, scores, model, reason, audit flag,
reviewer, resolved_at; with --documents, also each document's bytes as DIR/<digest>.<type>.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sidecar.review.store import ReviewStore

_EXT = {"pdf": "pdf", "jpeg": "jpg", "png": "png"}


def export_feedback(db: Path, out: Path | None, documents: Path | None = None) -> int:
    """Write the feedback rows as JSON lines to `out` (stdout when None); returns the row count."""
    store = ReviewStore(db)
    count = 0
    stream = out.open("w") if out is not None else sys.stdout
    try:
        for record in store.feedback():
            if documents is not None:
                content = store.content(str(record["digest"]))
                if content is not None:
                    documents.mkdir(parents=True, exist_ok=True)
                    name = f"{record['digest']}.{_EXT.get(str(record['content_type']), 'bin')}"
                    (documents / name).write_bytes(content)
                    record["document"] = name
            stream.write(json.dumps(record, sort_keys=True) + "\n")
            count += 1
    finally:
        if out is not None:
            stream.close()
        store.close()
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sidecar.review")
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("export", help="export reviewer resolutions for retraining")
    export.add_argument("--db", type=Path, required=True, help="the review database (review.path)")
    export.add_argument("--out", type=Path, help="JSON lines file (default: stdout)")
    export.add_argument("--documents", type=Path, help="also write each document's bytes here")
    args = parser.parse_args(argv)
    count = export_feedback(args.db, args.out, args.documents)
    print(f"exported {count} resolutions", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
