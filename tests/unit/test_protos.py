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
    generated = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*_pb2*.py") if ".venv" not in p.parts)
    assert generated and all(p.startswith("clients/python/doctriage/v1/") for p in generated), generated
