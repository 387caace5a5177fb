"""The acceptance-rule file (`decision.acceptance_rule_file`, shipped as config/acceptance-rule.json).

One JSON file holds the rule of every served version ("*" = versions without their own entry),
the audit rate and, per version, a summary of the data the rule was proven on. `doctriage-admin
calibrate` and training (`make models`) write it; the data plane reads it at start-up.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sidecar.risk.rule import AcceptanceRule

CONFIG_FORMAT = 1
DEFAULT_AUDIT_RATE = 0.01


def write_config(path: Path, rules: dict[str, AcceptanceRule], audit_rate: float, source: dict[str, Any]) -> None:
    """Write (or update) the thresholds file: these versions' rules and calibration summaries replace
    theirs, other versions' entries are kept (one file holds the rules of every served version)."""
    keys = [version or "*" for version in rules]
    old: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    if old.get("format") != CONFIG_FORMAT:
        old = {}
    calibration = {k: v for k, v in (old.get("calibration") or {}).items() if isinstance(v, dict) and k not in keys}
    data = {
        "format": CONFIG_FORMAT,
        "audit_rate": audit_rate,
        "rules": {
            **{k: v for k, v in (old.get("rules") or {}).items() if k not in keys},
            **{version or "*": rule.to_dict() for version, rule in rules.items()},
        },
        "calibration": {**calibration, **{k: source for k in keys}},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_config(path: Path) -> tuple[dict[str, AcceptanceRule], float]:
    """The rules per version ("" = the "*" entry) and the audit rate."""
    data = json.loads(path.read_text())
    rules = {("" if k == "*" else k): AcceptanceRule.from_dict(v) for k, v in data.get("rules", {}).items()}
    return rules, float(data.get("audit_rate", DEFAULT_AUDIT_RATE))
