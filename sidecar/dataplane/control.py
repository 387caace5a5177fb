"""The control plane: every change an operator makes at run time, and the start-up that loads models.

The Admin servicer talks to `Control` only. Each change is validated, applied to the data plane,
persisted in the runtime state (so it outlives a restart; GetStatus says which settings came from
there) and written as one audit log line. Blocking work (model loads, SQLite) runs in the data
plane's executor, never on the event loop, with the caller's context (key id, request id) so that
the audit line names them.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

import structlog

from sidecar.dataplane.plane import DataPlane
from sidecar.decision.decide import Thresholds
from sidecar.decision.policy import Origin, Provenance
from sidecar.errors import FailedPrecondition, InvalidRequest
from sidecar.inference.registry import ModelEntry, ModelState
from sidecar.inference.routing import TrafficSplit
from sidecar.review.items import ReviewItem, ReviewPage, ReviewStatus

log = structlog.get_logger("doctriage.request")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Status:
    """What GetStatus reports of the data plane."""

    models: list[ModelEntry]
    device: str  # where the models run: "cuda" or "cpu"
    normalizer: str  # "numpy" or "cupy"
    config_digest: str
    serving: bool
    thresholds_origins: list[Provenance]
    traffic_split_origin: Origin


def audit(action: str, **details: object) -> None:
    """One audit line per admin change (the gateway binds the caller's key id into the context)."""
    log.info("audit", action=action, **details)


class Control:
    def __init__(self, plane: DataPlane) -> None:
        self.plane = plane
        self.registry = plane.registry
        self.settings = plane.settings

    async def _blocking(self, fn: Callable[..., T], *args: object) -> T:
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(self.plane.executor, context.run, fn, *args)

    # -- start-up -----------------------------------------------------------------

    def load_startup_models(self) -> None:
        """Load the persisted (or configured) model versions and make the split servable (blocking)."""
        plane, settings = self.plane, self.settings
        persisted = plane.state.get("models")
        if persisted is None:
            t, split = settings.traffic, plane.split
            wanted = [(split.model_name, v) for v, w in split.weights.items() if w > 0]
            if split.shadow_version and split.shadow_share > 0:
                wanted.append((split.model_name, split.shadow_version))
            if t.escalate_to and (split.model_name, t.escalate_to) not in wanted:
                wanted.append((split.model_name, t.escalate_to))
            if t.fallback_name:
                wanted.append((t.fallback_name, t.fallback_version))
            if (settings.models.name, settings.models.default_version) not in wanted:
                wanted.insert(0, (settings.models.name, settings.models.default_version))
        else:
            log.info("models_from_runtime_state", models=persisted)
            wanted = [(item.split("/", 1)[0], item.split("/", 1)[-1]) for item in persisted]
        for name, version in wanted:
            try:
                self.registry.load(name, version)
            except Exception as exc:  # noqa: BLE001 - a missing version is logged, the rest still load
                log.error("model_load_failed", model=f"{name}/{version}", error=f"{type(exc).__name__}: {exc}")
        split = plane.split
        ready = self.registry.ready_versions(split.model_name)
        try:
            split.validate(ready)
        except Exception as exc:  # noqa: BLE001 - serve what is there rather than nothing
            weights = {v: w for v, w in split.weights.items() if v in ready and w > 0}
            if weights:
                total = sum(weights.values())
                shadow = split.shadow_version if split.shadow_version in ready else ""
                plane.split = TrafficSplit(
                    split.model_name,
                    {v: w / total for v, w in weights.items()},
                    shadow,
                    split.shadow_share if shadow else 0.0,
                )
            log.error("traffic_split_degraded", error=str(exc), effective=plane.split.as_dict())

    # -- thresholds ---------------------------------------------------------------

    def thresholds(self, model_version: str) -> Thresholds:
        return self.plane.policy.thresholds_for(model_version)

    def status(self) -> Status:
        plane = self.plane
        return Status(
            models=self.registry.entries(),
            device=self.registry.device(),
            normalizer=plane.stages.normalizer.name,
            config_digest=self.settings.digest(),
            serving=not plane.draining and bool(self.registry.ready()),
            thresholds_origins=plane.policy.origins(),  # where each version's bands and rule came from
            traffic_split_origin=plane.split_origin,
        )

    async def set_thresholds(self, thresholds: Thresholds) -> Thresholds:
        return await self._blocking(self._set_thresholds, thresholds)

    def _set_thresholds(self, thresholds: Thresholds) -> Thresholds:
        known: set[str] = set()
        for model in self.registry.ready():
            if not thresholds.model_version or model.manifest.version == thresholds.model_version:
                known.update(model.manifest.labels)
        validated = thresholds.validate(known or None)
        plane = self.plane
        plane.policy.install(validated)
        installs = validated.rule is not None or validated.audit_rate is not None
        if installs and plane.desk.risk.set_rule(validated.rule, validated.audit_rate):
            plane.desk.open_estimate(restore=False)  # a new rule: a new estimate, persisted as such
        plane.state.set("thresholds", plane.policy.persisted())
        audit("set_thresholds", thresholds=validated.as_dict())
        return validated

    # -- traffic split --------------------------------------------------------------

    @property
    def split(self) -> TrafficSplit:
        return self.plane.split

    async def set_split(self, split: TrafficSplit) -> TrafficSplit:
        return await self._blocking(self._set_split, split)

    def _set_split(self, split: TrafficSplit) -> TrafficSplit:
        validated = split.validate(self.registry.ready_versions(split.model_name))
        self.plane.split, self.plane.split_origin = validated, Origin.RUNTIME
        self.plane.state.set("traffic_split", validated.as_dict())
        audit("set_traffic_split", split=validated.as_dict())
        return validated

    # -- models ------------------------------------------------------------------------

    def models(self) -> list[ModelEntry]:
        return self.registry.entries()

    async def load_model(self, name: str, version: str) -> ModelEntry:
        if not name or not version:
            raise InvalidRequest("name and version are required")
        entry = await self._blocking(self.registry.load, name, version)
        await self._blocking(self._remember_models)
        if entry.state is not ModelState.READY or entry.error:
            # entry.error with READY: the reload failed and the previous session still serves.
            raise FailedPrecondition(f"loading {name}/{version} failed: {entry.error}")
        audit("load_model", model=f"{name}/{version}")
        return entry

    async def unload_model(self, name: str, version: str) -> ModelEntry:
        if not name or not version:
            raise InvalidRequest("name and version are required")
        entry = await self._blocking(self.registry.unload, name, version)
        await self.plane.engine.release(name, version)
        await self._blocking(self._remember_models)
        audit("unload_model", model=f"{name}/{version}")
        return entry

    def _remember_models(self) -> None:
        loaded = sorted(f"{e.name}/{e.version}" for e in self.registry.entries() if e.model is not None)
        self.plane.state.set("models", loaded)

    # -- review queue ---------------------------------------------------------------------

    async def list_reviews(self, status: ReviewStatus | None, label: str, page_size: int, token: str) -> ReviewPage:
        size = min(page_size or 50, self.settings.review.max_page_size)
        return await self._blocking(self.plane.desk.store.list, status, label, size, token)

    async def claim_review(self, reviewer: str, item_id: str, lease_s: float) -> ReviewItem:
        item = await self._blocking(self.plane.desk.store.claim, reviewer, item_id, lease_s)
        audit("claim_review", review_id=item.id, reviewer=reviewer)
        return item

    async def resolve_review(self, item_id: str, true_label: str, reviewer: str) -> ReviewItem:
        if not item_id:
            raise InvalidRequest("the review item id is required")
        return await self._blocking(self._resolve_review, item_id, true_label, reviewer)

    def _resolve_review(self, item_id: str, true_label: str, reviewer: str) -> ReviewItem:
        known = {label for model in self.registry.ready() for label in model.manifest.labels}
        if known and true_label not in known:
            raise InvalidRequest(f"unknown label {true_label!r}")
        desk = self.plane.desk
        item, changed = desk.store.resolve(item_id, true_label, reviewer)
        if changed:
            desk.risk.on_resolved(item.audit, item.predicted_label, true_label)
            self._maybe_recalibrate(item.model_version)
        self.plane.predictor.correct(item.digest, true_label)
        audit("resolve_review", review_id=item_id, reviewer=reviewer, true_label=true_label)
        return item

    def _maybe_recalibrate(self, model_version: str) -> None:
        """Learning from review: a rule re-proven on the reviewed documents replaces the current one."""
        current = self.thresholds(model_version)
        result = self.plane.desk.risk.maybe_recalibrate(current.rule, self.plane.desk.store.feedback)
        if result is not None:
            audit("recalibrate", reason=result.reason, sample=result.sample)
            self._set_thresholds(replace(current, rule=result.rule, provenance=result.rule.provenance()))
