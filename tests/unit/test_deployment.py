"""The release's deployment file and the data directory (sidecar/config.py)."""

from pathlib import Path

import pytest

from harness.paths import ROOT
from sidecar.__main__ import main
from sidecar.config import DEPLOYMENT_FILE, Settings

RELEASE = """
[models]
name = "doc-classifier"
default_version = "3.0"

[traffic]
weights = { "3.0" = 0.5, "3.1" = 0.5 }
escalate_to = "3.1"

[decision]
accept = 0.9
acceptance_rule_file = "config/rules-of-3.json"
"""


def _release(tmp_path: Path, text: str = RELEASE) -> Path:
    (tmp_path / "models").mkdir(parents=True)
    (tmp_path / "models" / DEPLOYMENT_FILE).write_text(text)
    return tmp_path


def test_the_shipped_release_is_read_from_the_deployment_file() -> None:
    s = Settings(data_dir=ROOT)
    assert (s.models.name, s.models.default_version) == ("doc-classifier", "2.3")
    assert s.traffic.weights == {"2.3": 0.9, "2.4": 0.1}
    assert (s.traffic.escalate_to, s.traffic.fallback_name, s.traffic.fallback_version) == (
        "2.4",
        "doc-classifier-lite",
        "1.0",
    )
    assert (s.decision.accept, s.decision.review_below) == (0.85, 0.60)
    assert s.decision.acceptance_rule_file == ROOT / "config" / "acceptance-rule.json"
    assert s.deployed("traffic", "weights") and s.deployed("decision", "accept")


def test_without_a_deployment_file_no_model_is_configured(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    assert (s.models.name, s.models.default_version, s.traffic.weights) == ("", "", {})
    assert (s.traffic.escalate_to, s.traffic.fallback_name, s.decision.acceptance_rule_file) == ("", "", None)
    assert (s.decision.accept, s.decision.review_below) == (0.85, 0.60)  # the bands' one code default
    assert not s.deployed("traffic", "weights")


def test_every_other_source_wins_over_the_deployment_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _release(tmp_path)
    config = tmp_path / "doctriage.toml"
    config.write_text('[traffic]\nescalate_to = ""\n')
    monkeypatch.setenv("DOCTRIAGE_CONFIG", str(config))
    monkeypatch.setenv("DOCTRIAGE_DECISION__ACCEPT", "0.95")
    s = Settings(data_dir=data, models={"default_version": "3.1"})
    assert s.models.default_version == "3.1" and not s.deployed("models", "default_version")  # constructor
    assert s.decision.accept == 0.95 and not s.deployed("decision", "accept")  # environment
    assert s.traffic.escalate_to == "" and not s.deployed("traffic", "escalate_to")  # settings file
    assert s.traffic.weights == {"3.0": 0.5, "3.1": 0.5} and s.deployed("traffic", "weights")  # the release
    assert s.models.name == "doc-classifier" and s.decision.review_below == 0.60  # release, then default


def test_relative_paths_are_taken_from_the_data_directory(tmp_path: Path) -> None:
    data = _release(tmp_path)
    s = Settings(data_dir=data, state={"dir": "/srv/state"})
    assert s.models.root == data / "models"
    assert s.business_rules.path == data / "config" / "rules.toml"
    assert s.decision.acceptance_rule_file == data / "config" / "rules-of-3.json"
    assert s.review.path == data / "var" / "review.sqlite3"
    assert s.scanner.address == f"unix:{data / 'var' / 'clamd' / 'clamd.sock'}"
    assert s.state.dir == Path("/srv/state")  # absolute: as given


def test_a_deployment_file_with_an_unknown_section_or_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown section"):
        Settings(data_dir=_release(tmp_path / "a", '[server]\naddress = "0.0.0.0:1"\n'))
    with pytest.raises(ValueError, match="wieghts"):
        Settings(data_dir=_release(tmp_path / "b", "[traffic]\nwieghts = {}\n"))


def test_serve_requires_a_data_directory(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DOCTRIAGE_DATA_DIR", raising=False)
    monkeypatch.delenv("DOCTRIAGE_CONFIG", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["serve"])
    assert exit_info.value.code == 2
    assert "a data directory is required" in capsys.readouterr().err


def test_the_old_names_of_the_two_kinds_of_rule_say_what_they_are_now() -> None:
    with pytest.raises(ValueError, match=r"decision\.acceptance_rule_file"):
        Settings(decision={"rule_file": "x.json"})
    with pytest.raises(ValueError, match=r"\[business_rules\]"):
        Settings(rules={"path": "x.toml"})


def test_healthcheck_dials_the_listening_address_from_this_host() -> None:
    from sidecar.server.healthcheck import local_address

    assert local_address("0.0.0.0:50051") == "127.0.0.1:50051"
    assert local_address("[::]:50051") == "127.0.0.1:50051"
    assert local_address(":50051") == "127.0.0.1:50051"
    assert local_address("10.0.0.5:7000") == "10.0.0.5:7000"
    assert local_address("unix:/run/doctriage.sock") == "unix:/run/doctriage.sock"
