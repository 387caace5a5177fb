"""Differential fuzz target for the validation hot path (atheris / libFuzzer).

Each input goes through the compiled walk and the Python twin (which must agree exactly) and
through validate_document (which may only ever raise InvalidDocument). Coverage guidance comes
from the instrumented Python twin: it is the line-by-line specification of the C walk, so new
twin paths are new C paths too.

    pip install atheris        # not a project dependency: only this tool needs it
    python bench/fuzz/fuzz_validate.py bench/fuzz/corpus bench/fuzz/seeds \
        -max_total_time=1200 -max_len=65536 -timeout=10 -rss_limit_mb=2048

A mismatch, any other exception, a hang over -timeout or a crash of the extension stops the run
with a reproducer (crash-*/timeout-*) in the working directory. RESULTS.md records the runs.
"""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports():
    from sidecar import _hotpath_py
    from sidecar.config import ValidationSettings
    from sidecar.domain import Document
    from sidecar.errors import InvalidDocument
    from sidecar.pipeline import validate

from sidecar._ext import _hotpath as compiled

SETTINGS = ValidationSettings()


def test_one_input(data: bytes) -> None:
    fast = compiled.inspect_bytes(data)
    slow = _hotpath_py.inspect_bytes(data)
    if fast != slow:
        raise AssertionError(f"twins disagree:\n compiled={fast}\n python  ={slow}")
    with contextlib.suppress(InvalidDocument):  # the only way a document may fail
        validate.validate_document(Document(content=data), SETTINGS)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
