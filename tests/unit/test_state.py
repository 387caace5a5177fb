import json
from pathlib import Path

from sidecar.dataplane.state import FILENAME, StateStore


def test_values_survive_a_new_store(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state")
    store.set("traffic_split", {"weights": {"2.3": 0.9}})
    store.set("models", ["doc-classifier/2.3"])
    again = StateStore(tmp_path / "state")
    assert again.get("traffic_split") == {"weights": {"2.3": 0.9}}
    assert again.get("models") == ["doc-classifier/2.3"]
    assert again.get("nothing") is None
    # written whole, never a leftover temporary file
    assert [p.name for p in (tmp_path / "state").iterdir()] == [FILENAME]


def test_an_unreadable_file_starts_empty_instead_of_crashing(tmp_path: Path) -> None:
    (tmp_path / FILENAME).write_text("{ not json")
    store = StateStore(tmp_path)
    assert store.get("thresholds") is None
    store.set("thresholds", {"*": {"accept": 0.9}})
    assert json.loads((tmp_path / FILENAME).read_text())["thresholds"]["*"]["accept"] == 0.9
