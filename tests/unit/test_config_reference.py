"""docs/CONFIGURATION.md is what the settings model says: regenerated, it is unchanged; every setting
has a description; the environment variables it names are the ones the settings read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sidecar.config import ApiKey, Settings, load_settings
from sidecar.tools import configref


def test_every_setting_and_section_has_a_description() -> None:
    assert configref.undocumented() == [], "add a docstring under each of these keys (sidecar/config.py)"


def test_the_committed_reference_is_the_generated_one() -> None:
    generated = configref.reference()
    committed = configref.OUTPUT.read_text()
    assert committed == generated, "docs/CONFIGURATION.md is stale: run `make config-reference`"
    assert configref.main(["--check"]) == 0


def test_it_lists_every_key_with_its_variable_and_the_releases_values() -> None:
    text = configref.OUTPUT.read_text()
    for section, model in configref.sections():
        assert f"\n## [{section}]\n" in text
        for key in model.model_fields:
            assert f"| `{key}`<br>`{configref.env_name(section, key)}` |" in text
    for key in ApiKey.model_fields:
        assert f"| `{key}` |" in text
    assert "| `data_dir`<br>`DOCTRIAGE_DATA_DIR` |" in text
    # The code's neutral default and the release's value (models/deployment.toml) side by side.
    assert '| `""`<br>release: `"doc-classifier"` |' in text
    # a default computed at start-up, said in words
    assert "| the CPUs this process may use (affinity, capped by a container's CPU limit: sidecar/cpus.py) |" in text


def test_the_variables_it_names_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = configref.env_name
    monkeypatch.setenv(env("", "data_dir"), str(tmp_path))
    monkeypatch.setenv(env("server", "address"), "0.0.0.0:6001")
    monkeypatch.setenv(env("ocr", "fallback_below"), "40")
    monkeypatch.setenv(env("scanner", "fail_open"), "true")
    monkeypatch.setenv(env("traffic", "weights"), json.dumps({"2.3": 0.5, "2.4": 0.5}))
    monkeypatch.setenv(env("auth", "keys"), json.dumps([{"id": "svc", "hash": "sha256:" + "0" * 64}]))
    s: Settings = load_settings()
    assert s.data_dir == tmp_path and s.server.address == "0.0.0.0:6001"
    assert s.ocr.fallback_below == 40 and s.scanner.fail_open
    assert s.traffic.weights == {"2.3": 0.5, "2.4": 0.5}
    assert [k.id for k in s.auth.keys] == ["svc"] and s.auth.keys[0].roles == ["classify"]


def test_check_says_when_the_file_is_stale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "CONFIGURATION.md"
    stale.write_text("# old\n")
    assert configref.main(["--check", "--output", str(stale)]) == 1
    assert "make config-reference" in capsys.readouterr().err
    assert configref.main(["--output", str(stale)]) == 0
    assert stale.read_text() == configref.reference()
