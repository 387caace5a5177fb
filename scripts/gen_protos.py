"""Generate the Python stubs of proto/ into the client package (the one copy).

python scripts/gen_protos.py           # write clients/python/doctriage/v1/*
python scripts/gen_protos.py --check   # exit 1 when the committed stubs are stale
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
OUT_ROOT = ROOT / "clients" / "python"
PACKAGE = Path("doctriage") / "v1"


def _include_dirs() -> list[str]:
    import google.rpc
    import grpc_tools

    googleapis = Path(next(iter(google.rpc.__path__))).parent.parent
    well_known = Path(next(iter(grpc_tools.__path__))) / "_proto"
    return [str(PROTO_ROOT), str(googleapis), str(well_known)]


def generate(out_root: Path) -> list[Path]:
    from grpc_tools import protoc

    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / PACKAGE).glob("*.proto"))
    args = ["protoc", *(f"-I{d}" for d in _include_dirs())]
    args += [f"--python_out={out_root}", f"--pyi_out={out_root}", f"--grpc_python_out={out_root}"]
    if protoc.main([*args, *protos]) != 0:
        raise SystemExit("protoc failed")
    return sorted(p for p in (out_root / PACKAGE).iterdir() if p.suffix in (".py", ".pyi") and "_pb2" in p.name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare with the committed stubs")
    args = parser.parse_args()
    if not args.check:
        for path in generate(OUT_ROOT):
            print(path.relative_to(ROOT))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        stale = [
            p.name
            for p in fresh
            if not (OUT_ROOT / PACKAGE / p.name).exists()
            or not filecmp.cmp(p, OUT_ROOT / PACKAGE / p.name, shallow=False)
        ]
        committed = {p.name for p in (OUT_ROOT / PACKAGE).glob("*_pb2*.py*")}
        stale += sorted(committed - {p.name for p in fresh})
    if stale:
        print("stale generated stubs (run: python scripts/gen_protos.py):", *stale, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
