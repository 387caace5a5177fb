"""`python -m sidecar serve` (also installed as `doctriage-sidecar serve`)."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

import structlog

from sidecar.config import Settings, load_settings
from sidecar.observability.logging import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="doctriage-sidecar", description="DocTriage gRPC sidecar")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start the sidecar")
    serve.add_argument(
        "--data-dir",
        help="the release directory: models/ (with deployment.toml), config/, var/ (also DOCTRIAGE_DATA_DIR); required",
    )
    serve.add_argument("--config", help="TOML settings file (also DOCTRIAGE_CONFIG)")
    serve.add_argument("--address", help="host:port to listen on (also DOCTRIAGE_SERVER__ADDRESS)")
    serve.add_argument(
        "--local-key",
        metavar="FILE",
        help="also accept the API key in FILE with every role, creating FILE (mode 0600) with a new key if absent; "
        "for a sidecar tried out on one machine (make serve), not for production keys",
    )
    hash_key = sub.add_parser("hash-key", help="print a new API key (or hash --key) and its config entry")
    hash_key.add_argument("--id", default="client", help="key id (logged in audit lines)")
    hash_key.add_argument("--roles", default="classify", help="comma-separated: classify,review,admin")
    hash_key.add_argument("--method", choices=("sha256", "scrypt"), default="sha256")
    hash_key.add_argument("--key", help="hash this key instead of generating one (beware shell history)")
    health = sub.add_parser("healthcheck", help="grpc.health.v1 Check of the sidecar these settings describe")
    health.add_argument("--service", default="doctriage.v1.Classifier", help="'' for the whole server")
    health.add_argument("--timeout", type=float, default=4.0, help="seconds")
    args = parser.parse_args(argv)
    if args.command == "healthcheck":
        from sidecar.server.healthcheck import check

        return check(args.service, args.timeout)
    if args.command == "hash-key":
        from sidecar.server.auth import print_key_entry

        print_key_entry(args.id, args.roles, args.method, args.key)
        return 0
    if args.config:
        os.environ["DOCTRIAGE_CONFIG"] = args.config
    if args.data_dir:
        os.environ["DOCTRIAGE_DATA_DIR"] = args.data_dir
    settings = load_settings()
    if "data_dir" not in settings.model_fields_set:
        parser.error(
            "a data directory is required: --data-dir DIR, DOCTRIAGE_DATA_DIR or data_dir in the settings file"
        )
    missing = settings.missing_from_data_dir()
    if missing:
        parser.error(f"the data directory {settings.data_dir} lacks what the sidecar needs: " + "; ".join(missing))
    if args.address:
        settings.server.address = args.address
    configure_logging(settings.logging)
    if args.local_key:
        _add_local_key(settings, Path(args.local_key))
    from sidecar.server.app import SidecarServer

    asyncio.run(SidecarServer(settings).serve_until_signal())
    return 0


def _add_local_key(settings: Settings, path: Path) -> None:
    from sidecar.config import ApiKey
    from sidecar.server.auth import generate_key, hash_key

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(generate_key() + "\n")
    key = path.read_text().strip()
    settings.auth.keys.append(ApiKey(id="local", hash=hash_key(key), roles=["classify", "review", "admin"]))
    structlog.get_logger(__name__).info("local_key", key_id="local", file=str(path))


if __name__ == "__main__":
    raise SystemExit(main())
