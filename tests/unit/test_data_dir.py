"""The sidecar reads its release (models, encoders, config) from the data directory only, never from the
source checkout (an installed wheel has none), and `serve` says what a data directory lacks instead of
starting a sidecar that cannot answer."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from harness.paths import ROOT
from harness.tiny_model import write_tiny_model
from sidecar.__main__ import main
from sidecar.config import Settings
from sidecar.errors import FailedPrecondition
from sidecar.models.embedder import DEFAULT_PATH, locate
from sidecar.models.runtime import OnnxModel


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DOCTRIAGE_CONFIG", "DOCTRIAGE_DATA_DIR", "DOCTRIAGE_MODELS__ROOT"):
        monkeypatch.delenv(name, raising=False)


def _serve_error(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--data-dir", str(data_dir)])
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_the_checkouts_release_is_complete() -> None:
    assert Settings(data_dir=ROOT).missing_from_data_dir() == []


def test_serve_names_what_an_empty_data_directory_lacks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _serve_error(tmp_path, capsys)
    assert f"the data directory {tmp_path} lacks" in err
    assert f"no models directory {tmp_path / 'models'}" in err
    assert f"no business-rules file {tmp_path / 'config' / 'rules.toml'}" in err
    assert "does not exist" in _serve_error(tmp_path / "absent", capsys)


def test_serve_names_a_missing_model_and_a_missing_rule_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The shipped deployment file (it names doc-classifier and config/acceptance-rule.json), another model.
    write_tiny_model(tmp_path / "models", "other", "1")
    (tmp_path / "config").mkdir()
    shutil.copyfile(ROOT / "config" / "rules.toml", tmp_path / "config" / "rules.toml")
    err = _serve_error(tmp_path, capsys)
    assert f"no model 'doc-classifier' under {tmp_path / 'models'}" in err
    assert f"no acceptance-rule file {tmp_path / 'config' / 'acceptance-rule.json'}" in err
    assert "business-rules" not in err
    write_tiny_model(tmp_path / "models", "doc-classifier", "2.3")
    settings = Settings(data_dir=tmp_path, decision={"acceptance_rule_file": ""})
    assert settings.missing_from_data_dir() == []


def test_an_encoder_is_found_under_the_models_root_only(tmp_path: Path) -> None:
    assert locate(tmp_path, DEFAULT_PATH) == tmp_path / DEFAULT_PATH
    model = write_tiny_model(tmp_path, text_dim=64 + 384, embedder=DEFAULT_PATH)
    link = tmp_path / DEFAULT_PATH
    if link.is_symlink():  # the checkout's export, linked in by the harness: take it away
        link.unlink()
    with pytest.raises(FailedPrecondition, match=r"data directory's models/"):
        OnnxModel(model)


# Developers' tools run from the checkout, never by `serve`: the generator of docs/CONFIGURATION.md
# (make config-reference) writes into the checkout's docs/ and reads its models/deployment.toml.
CHECKOUT_TOOLS = {"sidecar/tools/configref.py"}


def test_no_server_module_finds_data_beside_its_own_file() -> None:
    """`Path(__file__)` in the package would point into the checkout, or into site-packages once
    installed: data comes from settings (the data directory)."""
    here = re.compile(r"Path\(\s*__file__\s*\)|os\.path\.dirname\(\s*__file__")
    offenders = {
        str(path.relative_to(ROOT)) for path in (ROOT / "sidecar").rglob("*.py") if here.search(path.read_text())
    }
    assert offenders <= CHECKOUT_TOOLS
