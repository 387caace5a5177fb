from pathlib import Path

import pytest

from sidecar.config import load_settings


def test_defaults_are_the_documented_ones() -> None:
    s = load_settings()
    assert s.server.address == "127.0.0.1:50051"
    assert s.validation.max_bytes == 10 * 1024 * 1024
    assert (s.decision.accept, s.decision.review_below) == (0.85, 0.60)


def test_env_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "doctriage.toml"
    config.write_text('[server]\naddress = "127.0.0.1:6000"\nworkers = 3\n[decision]\naccept = 0.9\n')
    monkeypatch.setenv("DOCTRIAGE_CONFIG", str(config))
    monkeypatch.setenv("DOCTRIAGE_SERVER__ADDRESS", "127.0.0.1:7000")
    s = load_settings()
    assert s.server.address == "127.0.0.1:7000"
    assert s.server.workers == 3 and s.decision.accept == 0.9


def test_unknown_keys_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "doctriage.toml"
    config.write_text("[sever]\naddress = 'typo'\n")
    monkeypatch.setenv("DOCTRIAGE_CONFIG", str(config))
    with pytest.raises(ValueError, match="sever"):
        load_settings()


def test_digest_changes_with_the_configuration() -> None:
    assert load_settings().digest() != load_settings(decision={"accept": 0.9}).digest()


def test_ocr_fallback_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert (s.ocr.fallback, s.ocr.fallback_below, s.ocr.fallback_max_side) == ("rapidocr", 65.0, 960)
    monkeypatch.setenv("DOCTRIAGE_OCR__FALLBACK", "none")
    monkeypatch.setenv("DOCTRIAGE_OCR__FALLBACK_BELOW", "40")
    monkeypatch.setenv("DOCTRIAGE_OCR__FALLBACK_MAX_SIDE", "1280")
    s = load_settings()
    assert (s.ocr.fallback, s.ocr.fallback_below, s.ocr.fallback_max_side) == ("none", 40.0, 1280)
    monkeypatch.setenv("DOCTRIAGE_OCR__FALLBACK", "easyocr")
    with pytest.raises(ValueError, match="fallback"):
        load_settings()


def test_device_is_one_setting_of_three_values() -> None:
    assert load_settings().models.device == "auto"
    assert load_settings(models={"device": "cuda"}).models.device == "cuda"
    with pytest.raises(ValueError, match=r"models\.device"):
        load_settings(models={"device": "gpu"})
    with pytest.raises(ValueError, match=r"preprocess\.device is gone: models\.device"):
        load_settings(preprocess={"device": "cpu"})


def test_unknown_keys_inside_a_section_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "doctriage.toml"
    config.write_text("[traffic]\nwieghts = { '2.3' = 1.0 }\n")
    monkeypatch.setenv("DOCTRIAGE_CONFIG", str(config))
    with pytest.raises(ValueError, match="wieghts"):
        load_settings()
