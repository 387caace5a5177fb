#!/usr/bin/env bash
# Replays the fuzz corpus, the malformed corpus, ../shared/real-docs (when present) and 20 000
# random mutations through the compiled walk built with AddressSanitizer + UBSan, comparing each
# result with the Python twin. PYTHONMALLOC=malloc gives every bytes object its own allocation,
# so a read past a buffer lands in ASan's redzone instead of a pymalloc arena.
#   bench/fuzz/asan_replay.sh          (after `make build`, which generates _ext/_hotpath.c)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY="$ROOT/.venv/bin/python"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
SO="$OUT/_hotpath$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')"
INCLUDE="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
gcc -shared -fPIC -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -I"$INCLUDE" \
    "$ROOT/_ext/_hotpath.c" -o "$SO"
PYTHONMALLOC=malloc ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \
    "$PY" "$ROOT/bench/fuzz/asan_replay.py" "$SO"
