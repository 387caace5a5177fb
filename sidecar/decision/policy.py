"""The policy book: which thresholds and acceptance rule decide for each model version, and where
each came from.

Four sources, in increasing precedence:
- `deployment`: the bands of the release's deployment file (models/deployment.toml);
- `config`: the bands of `[decision]` (accept, review_below) in the settings file or environment;
- `acceptance_rule_file`: the acceptance rules of `decision.acceptance_rule_file` (`doctriage-admin calibrate`, `make
  models`), for every version that has no rule installed at run time;
- `runtime`: what Admin.SetThresholds installed (or recalibration from reviews), persisted in the
  runtime state and read back at start-up.

GetStatus reports the origin of the bands and of the rule of every version (`origins`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

import structlog

from sidecar.config import DecisionSettings
from sidecar.decision.decide import Thresholds
from sidecar.risk.rule import AcceptanceRule
from sidecar.risk.rulefile import read_config

log = structlog.get_logger(__name__)


class Origin(StrEnum):
    DEPLOYMENT = "deployment"
    CONFIG = "config"
    RULE_FILE = "acceptance_rule_file"
    RUNTIME = "runtime"


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where the thresholds of one version ("" = every version without its own) came from."""

    model_version: str
    bands: Origin
    rule: Origin | None  # None: no acceptance rule, the bands decide


class PolicyBook:
    def __init__(
        self,
        settings: DecisionSettings,
        persisted: Mapping[str, Mapping[str, object]] | None = None,
        *,
        bands_origin: Origin = Origin.CONFIG,
    ) -> None:
        self._thresholds: dict[str, Thresholds] = {"": Thresholds(settings.accept, settings.review_below)}
        self._origins: dict[str, Provenance] = {"": Provenance("", bands_origin, None)}
        for version, raw in (persisted or {}).items():
            key = "" if version == "*" else version
            thresholds = Thresholds.from_dict(raw)
            self._thresholds[key] = thresholds
            self._origins[key] = Provenance(key, Origin.RUNTIME, Origin.RUNTIME if thresholds.rule else None)
            # Said at start-up: a runtime change outlives a restart and overrides the settings file.
            log.info("thresholds_from_runtime_state", model_version=version, thresholds=thresholds.as_dict())
        self._read_rule_file(settings.acceptance_rule_file)

    def _read_rule_file(self, path: Path | None) -> None:
        """Acceptance rules from the rule file, for versions without a rule installed at run time."""
        if path is None or not path.is_file():
            return
        rules, audit_rate = read_config(path)
        for version, rule in rules.items():
            current = self._thresholds.get(version)
            if current is not None and current.rule is not None:
                continue  # an operator installed one through Admin.SetThresholds: it wins
            base = current or self._thresholds[""]
            self._thresholds[version] = replace(base, rule=rule, audit_rate=audit_rate).validate()
            bands = self._origins[version].bands if version in self._origins else self._origins[""].bands
            self._origins[version] = Provenance(version, bands, Origin.RULE_FILE)
            log.info(
                "acceptance_rule_loaded",
                model_version=version or "*",
                proven=rule.proven,
                alpha=rule.alpha,
                coverage=rule.coverage,
                file=str(path),
            )

    def thresholds_for(self, model_version: str) -> Thresholds:
        return self._thresholds.get(model_version) or self._thresholds[""]

    @property
    def default(self) -> Thresholds:
        return self._thresholds[""]

    def rules(self) -> list[AcceptanceRule]:
        return [t.rule for t in self._thresholds.values() if t.rule is not None]

    def watched_rule(self) -> AcceptanceRule | None:
        """The rule the audit estimate watches: a proven one (a deferring or unproven rule accepts
        nothing to audit), else any."""
        rules = self.rules()
        return next((r for r in rules if r.proven), rules[0] if rules else None)

    def install(self, thresholds: Thresholds) -> None:
        """A validated runtime change (Admin.SetThresholds, recalibration)."""
        key = thresholds.model_version
        self._thresholds[key] = thresholds
        self._origins[key] = Provenance(key, Origin.RUNTIME, Origin.RUNTIME if thresholds.rule else None)

    def persisted(self) -> dict[str, dict[str, object]]:
        """The runtime changes, as the runtime state keeps them ("*" = the default: JSON keys cannot be
        empty in every reader). What the settings and the rule file say is read from them again."""
        return {k or "*": v.as_dict() for k, v in self._thresholds.items() if self._origins[k].bands is Origin.RUNTIME}

    def origins(self) -> list[Provenance]:
        return [self._origins[k] for k in sorted(self._origins)]
