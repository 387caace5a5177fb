"""GetStatus says where every effective threshold and the split came from, across runtime changes and a
restart; only runtime changes are persisted (the release and the settings are read again at start-up)."""

import json
import tempfile
from pathlib import Path

from doctriage.v1 import admin_pb2

from harness.engine import model_tree, running, stubs, thresholds
from harness.paths import ROOT


def _origins(admin: object) -> tuple[dict[str, tuple[str, str]], str]:
    status = admin.GetStatus(admin_pb2.GetStatusRequest())  # type: ignore[attr-defined]
    return {o.model_version: (o.bands, o.rule) for o in status.thresholds_origins}, status.traffic_split_origin


def test_origins_follow_the_release_the_rule_file_and_runtime_changes(tmp_path: Path) -> None:
    models = model_tree(tmp_path / "models", lite=False)  # the tiny tree carries the shipped deployment.toml
    state = Path(tempfile.mkdtemp(prefix="doctriage-state-"))
    sections = {
        "state": {"dir": state},
        "review": {"path": state / "review.sqlite3"},
        "decision": {"acceptance_rule_file": str(ROOT / "config" / "acceptance-rule.json")},
    }
    with running(models, **sections) as server, stubs(server) as (_, admin):
        versions, split = _origins(admin)
        # The bands and the split are the release's; the shipped acceptance rules cover 2.3 and 2.4.
        assert versions == {
            "": ("deployment", ""),
            "2.3": ("deployment", "acceptance_rule_file"),
            "2.4": ("deployment", "acceptance_rule_file"),
        }
        assert split == "deployment"
        admin.SetThresholds(admin_pb2.SetThresholdsRequest(thresholds=thresholds(0.9, 0.5)))
        weights = [admin_pb2.VersionWeight(version="2.3", weight=1.0)]
        admin.SetTrafficSplit(
            admin_pb2.SetTrafficSplitRequest(split=admin_pb2.TrafficSplit(model_name="doc-classifier", weights=weights))
        )
        versions, split = _origins(admin)
        assert versions[""] == ("runtime", "") and versions["2.3"] == ("deployment", "acceptance_rule_file")
        assert split == "runtime"

    persisted = json.loads((state / "runtime-state.json").read_text())
    assert set(persisted["thresholds"]) == {"*"}  # only what was changed at run time
    assert persisted["traffic_split"]["weights"] == {"2.3": 1.0}

    with running(models, **sections) as server, stubs(server) as (_, admin):
        versions, split = _origins(admin)
        # A version whose rule comes from the rule file takes the default bands as they are at start-up:
        # now the runtime ones.
        assert versions[""] == ("runtime", "") and versions["2.4"] == ("runtime", "acceptance_rule_file")
        assert split == "runtime"
        got = admin.GetThresholds(admin_pb2.GetThresholdsRequest())
        assert (got.default.accept, got.default.review_below) == (0.9, 0.5)


def test_settings_override_the_release_and_say_so(tmp_path: Path) -> None:
    models = model_tree(tmp_path / "models", lite=False)
    weights = {
        "traffic": {"weights": {"2.3": 1.0}, "escalate_to": ""},
        "decision": {"accept": 0.95, "acceptance_rule_file": None},
    }
    with running(models, **weights) as server, stubs(server) as (_, admin):
        versions, split = _origins(admin)
        assert versions == {"": ("config", "")} and split == "config"
