import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_generated_stubs_are_fresh() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/gen_protos.py", "--check"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_stubs_live_once_in_the_client_package() -> None:
    # Not the project's own: virtualenvs (.venv; var/ holds the benchmark's PyTriton one) and build output.
    foreign = {".venv", "var", "node_modules", "build", "dist"}
    generated = sorted(
        p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*_pb2*.py") if not foreign & set(p.relative_to(ROOT).parts)
    )
    assert generated and all(p.startswith("clients/python/doctriage/v1/") for p in generated), generated
