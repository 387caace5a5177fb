"""The Settings of a sidecar under test: a loopback ephemeral port, its own runtime state and review
queue (never the repo's var/), and every optional dependency off unless a test names it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sidecar.config import ModelSettings, Settings, ValidationSettings


def make_settings(models_root: Path, **sections: object) -> Settings:
    # Each server gets its own runtime state and review queue (never the repo's var/).
    state = Path(tempfile.mkdtemp(prefix="doctriage-state-"))
    base: dict[str, object] = {
        "server": {"address": "127.0.0.1:0", "workers": 2, "grace_period_s": 5.0},
        "state": {"dir": state},
        "review": {"path": state / "review.sqlite3"},
        "models": ModelSettings(root=models_root),
        "validation": ValidationSettings(),
        # Auth is on in production; tests that exercise it pass their own `auth` section.
        "auth": {"enabled": False},
        # Likewise the per-client rate limit (all test clients share one peer address).
        "rate_limit": {"enabled": False},
        # No clamd by default (responses carry SCAN_SKIPPED); scanner tests pass their own `scanner`
        # section with the address of a harness.clamd daemon (the `clamd` fixture).
        "scanner": {"enabled": False},
        # No fixed exporter port in tests: an ephemeral one, shared by every server of the session.
        "metrics": {"port": 0},
    }
    base.update(sections)
    # The shipped acceptance rules (config/acceptance-rule.json) are for the shipped models, not for
    # the tiny test models that reuse their versions: tests that want a rule file name one.
    decision = base.get("decision", {})
    if isinstance(decision, dict):
        base["decision"] = {"acceptance_rule_file": None, **decision}
    # The cascade (traffic.escalate_to, default "2.4") would hand every review answer of the tiny 2.3 to
    # the tiny 2.4: tests of one version's answers get none; tests of the cascade name it.
    traffic = base.get("traffic", {})
    if isinstance(traffic, dict):
        base["traffic"] = {"escalate_to": "", **traffic}
    return Settings(**base)  # type: ignore[arg-type]
