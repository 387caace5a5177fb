"""Body of asan_replay.sh: load the sanitizer build given as argv[1] and compare it with the twin."""

from __future__ import annotations

import importlib.util
import os
import random
import sys
import zlib
from pathlib import Path

import sidecar._ext  # noqa: F401  (the package the module is loaded into)
from sidecar import _hotpath_py

ROOT = Path(__file__).resolve().parents[2]

spec = importlib.util.spec_from_file_location("sidecar._ext._hotpath", sys.argv[1])
assert spec is not None and spec.loader is not None
asan = importlib.util.module_from_spec(spec)
spec.loader.exec_module(asan)

folders = [ROOT / "bench/fuzz/corpus", ROOT / "bench/fuzz/seeds", ROOT / "tests/corpus/malformed"]
real = ROOT.parent / "shared" / "real-docs" / "files"
paths = [p for folder in folders if folder.is_dir() for p in folder.iterdir() if p.is_file()]
paths += [p for p in real.rglob("*") if p.is_file()] if real.is_dir() else []
inputs = [p.read_bytes() for p in paths]
for data in inputs:
    assert asan.inspect_bytes(data) == _hotpath_py.inspect_bytes(data)

rng = random.Random(1)
small = [d for d in inputs if len(d) < 4096]
for _ in range(20_000):
    buf = bytearray(rng.choice(small))
    for _ in range(rng.randint(1, 4)):
        if not buf:
            break
        op, pos = rng.randrange(3), rng.randrange(len(buf))
        if op == 0:
            buf[pos] ^= 1 << rng.randrange(8)
        elif op == 1:
            del buf[pos:]
        else:
            buf[pos:pos] = os.urandom(rng.randint(1, 8))
    data = bytes(buf)
    assert asan.inspect_bytes(data) == _hotpath_py.inspect_bytes(data)
    assert asan.crc32(data) == zlib.crc32(data)
print(f"ASan/UBSan replay clean: {len(inputs)} files + 20000 mutations, twins agree")
