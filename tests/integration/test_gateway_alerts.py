"""The alert rules: promtool checks and unit-tests them; every metric they use is one the sidecar exports."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from sidecar.observability import metrics

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "doctriage.json"


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("promtool is missing in CI (Debian package 'prometheus', in the Makefile's APT_PACKAGES)")
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    return found


def test_promtool_checks_and_unit_tests_the_alert_rules() -> None:
    promtool = _promtool()
    check = subprocess.run([promtool, "check", "rules", "alerts.yml"], cwd=RULES, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    test = subprocess.run(
        [promtool, "test", "rules", "alerts_test.yml", "alerts_test_weekly.yml"],
        cwd=RULES,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert test.returncode == 0, test.stdout + test.stderr


def _exported_names() -> set[str]:
    text = generate_latest(metrics.REGISTRY).decode()
    names = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    suffixed = {n + s for n in names for s in ("_bucket", "_sum", "_count", "_total", "_created")}
    return names | suffixed


@pytest.mark.parametrize("path", [RULES / "alerts.yml", DASHBOARD], ids=["alerts", "dashboard"])
def test_rules_and_dashboard_only_use_exported_metrics(path: Path) -> None:
    used = set(re.findall(r"\b(doctriage_[a-z0-9_]+)", path.read_text()))
    assert used, path
    assert used <= _exported_names(), used - _exported_names()


def test_one_alert_per_row_of_the_monitoring_table() -> None:
    alerts = set(re.findall(r"- alert: (\S+)", (RULES / "alerts.yml").read_text()))
    assert {
        "DocTriageLatencyP95High",
        "DocTriageConfidenceDropWeekOverWeek",
        "DocTriageInputDriftKL",
        "DocTriageErrorCategorySpike",
        "DocTriageFallbackRateHigh",
        "DocTriageDailyCostOverBudget",
        "DocTriageReviewQueueBacklog",
    } <= alerts
