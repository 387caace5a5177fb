"""`doctriage admin ...`: every RPC of the Admin service (proto/doctriage/v1/admin.proto).

status | stats | drift                            GetStatus, GetStats, GetDrift
thresholds get | set                             GetThresholds, SetThresholds (read, change what is given, write)
split get | set                                  GetTrafficSplit, SetTrafficSplit
models list | load | unload                      ListModels, LoadModel, UnloadModel
reviews list | claim | resolve                   ListReviews, ClaimReview, ResolveReview

Human-readable by default; --json prints the answer as one JSON document (proto field names).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from doctriage.admin import AdminClient
from doctriage.cli.common import OK, Connection, UsageError
from doctriage.v1 import admin_pb2

Handler = Callable[[AdminClient, argparse.Namespace], "Message | list[Message]"]
REVIEW_STATUSES = {  # --status: the ReviewStatus enum's names
    "all": "REVIEW_STATUS_UNSPECIFIED",
    "pending": "PENDING",
    "claimed": "CLAIMED",
    "resolved": "RESOLVED",
}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], parent: argparse.ArgumentParser) -> None:
    admin = sub.add_parser(
        "admin", parents=[parent], help="the Admin service: status, thresholds, split, models, reviews"
    )
    groups = admin.add_subparsers(dest="admin_command", required=True, metavar="{status,stats,drift,thresholds,...}")
    leaf = _leaf_factory(parent)

    leaf(groups, "status", _status, "version, uptime, models, device, where thresholds and split came from")
    leaf(groups, "stats", lambda a, _: a.get_stats(), "requests by decision and label, errors, latency, cost")
    leaf(groups, "drift", lambda a, _: a.get_drift(), "input drift (KL, PSI per feature) and confidence")

    thresholds = groups.add_parser(
        "thresholds", parents=[parent], help="confidence bands and acceptance rule per model version"
    )
    t = thresholds.add_subparsers(dest="thresholds_command", required=True)
    p = leaf(t, "get", _thresholds_get, "a version's thresholds (default: the entry for every version)")
    _version_arg(p)
    p = leaf(t, "set", _thresholds_set, "change a version's thresholds: what is not given is kept")
    _version_arg(p)
    p.add_argument("--accept", type=float, help="confidence >= this: ACCEPTED")
    p.add_argument("--review-below", type=float, help="confidence < this: HUMAN_REVIEW")
    p.add_argument(
        "--label", action="append", default=[], metavar="LABEL=ACCEPT,REVIEW_BELOW", help="per-label bands (repeat)"
    )
    p.add_argument("--clear-labels", action="store_true", help="drop every per-label band first")
    p.add_argument("--audit-rate", type=float, help="share of accepted documents also queued for audit (0..1)")
    p.add_argument("--provenance", help="where these come from (default: 'doctriage admin thresholds set')")
    p.add_argument("--no-rule", action="store_true", help="remove the acceptance rule: the bands decide")
    p.add_argument(
        "--from-json", metavar="FILE", help="a Thresholds message as JSON (e.g. `thresholds get --json`), then flags"
    )

    split = groups.add_parser(
        "split", parents=[parent], help="the A/B traffic split between model versions, and the shadow"
    )
    s = split.add_subparsers(dest="split_command", required=True)
    leaf(s, "get", lambda a, _: a.get_traffic_split(), "the split now applied")
    p = leaf(s, "set", _split_set, "change the split: what is not given is kept")
    p.add_argument("weights", nargs="*", metavar="VERSION=WEIGHT", help="the new weights, e.g. 2.3=0.9 2.4=0.1")
    p.add_argument("--model", help="the model name (default: the one served)")
    p.add_argument("--shadow", metavar="VERSION", help="also run this version on --shadow-share of requests")
    p.add_argument("--shadow-share", type=float, metavar="SHARE", help="0..1")
    p.add_argument("--no-shadow", action="store_true", help="stop the shadow copy")

    models = groups.add_parser("models", parents=[parent], help="model versions: list, load, unload")
    m = models.add_subparsers(dest="models_command", required=True)
    leaf(m, "list", lambda a, _: a.list_models(), "every version known, with its state and provider")
    for verb, call in (("load", "load_model"), ("unload", "unload_model")):
        p = leaf(m, verb, _model_call(call), f"{verb} a model version")
        p.add_argument("name", help="e.g. doc-classifier")
        p.add_argument("version", help="e.g. 2.4")

    reviews = groups.add_parser("reviews", parents=[parent], help="the human review queue: list, claim, resolve")
    r = reviews.add_subparsers(dest="reviews_command", required=True)
    p = leaf(r, "list", _reviews_list, "items of the queue, oldest first")
    p.add_argument("--status", choices=sorted(REVIEW_STATUSES), default="all")
    p.add_argument("--label", default="", help="predicted label")
    p.add_argument("--limit", type=int, default=0, metavar="N", help="items per page (server default 50)")
    p.add_argument("--page-token", default="", help="the next_page_token of the previous page")
    p.add_argument("--all-pages", action="store_true", help="follow next_page_token to the end")
    p = leaf(r, "claim", _reviews_claim, "claim an item (default: the oldest pending one)")
    p.add_argument("id", nargs="?", default="", help="the item (default: the oldest pending one)")
    _reviewer_arg(p)
    p.add_argument("--lease", type=float, default=0.0, metavar="S", help="seconds the claim holds (server default)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the claimed document's bytes to FILE")
    p = leaf(r, "resolve", _reviews_resolve, "record the true label of a claimed item")
    p.add_argument("id")
    p.add_argument("true_label", metavar="LABEL")
    _reviewer_arg(p)


def _leaf_factory(parent: argparse.ArgumentParser) -> Callable[..., argparse.ArgumentParser]:
    def leaf(
        sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, handler: Handler, help_text: str
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[parent], help=help_text, description=help_text)
        p.add_argument("--json", action="store_true", help="the answer as JSON")
        p.set_defaults(func=lambda args, conn: _run(handler, args, conn))
        return p

    return leaf


def _version_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model-version", default="", metavar="VERSION", help="e.g. 2.4 ('' = every version)")


def _reviewer_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reviewer", default=None, help="who (DOCTRIAGE_REVIEWER, else the login name)")


def _run(handler: Handler, args: argparse.Namespace, conn: Connection) -> int:
    with AdminClient(conn.address, **conn.client_kwargs()) as admin:
        answer = handler(admin, args)
    if args.json:
        if isinstance(answer, list):
            print(json.dumps([_dict(m) for m in answer], indent=2, sort_keys=True))
        else:
            print(json.dumps(_dict(answer), indent=2, sort_keys=True))
    else:
        print(render(answer))
    return OK


def _dict(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


# -- handlers --------------------------------------------------------------------------------------


def _status(admin: AdminClient, args: argparse.Namespace) -> Message:
    return admin.get_status()


def _thresholds_get(admin: AdminClient, args: argparse.Namespace) -> Message:
    return admin.get_thresholds(args.model_version)


def _thresholds_set(admin: AdminClient, args: argparse.Namespace) -> Message:
    wanted = admin_pb2.Thresholds()
    if args.from_json:
        try:
            with open(args.from_json, encoding="utf-8") as f:
                json_format.Parse(f.read(), wanted)
        except (OSError, json_format.ParseError) as exc:
            raise UsageError(f"--from-json {args.from_json}: {exc}") from None
        if args.model_version:
            wanted.model_version = args.model_version
    else:
        wanted.CopyFrom(admin.get_thresholds(args.model_version))
        wanted.model_version = args.model_version
    if args.accept is not None:
        wanted.default.accept = args.accept
    if args.review_below is not None:
        wanted.default.review_below = args.review_below
    if args.clear_labels:
        wanted.ClearField("per_label")
    for item in args.label:
        label, accept, review_below = _label_band(item)
        wanted.per_label[label].accept, wanted.per_label[label].review_below = accept, review_below
    if args.audit_rate is not None:
        wanted.audit_rate = args.audit_rate
    if args.no_rule:
        wanted.ClearField("rule")
    if args.provenance is not None or not args.from_json:
        wanted.provenance = args.provenance or "doctriage admin thresholds set"
    return admin.set_thresholds(wanted)


def _label_band(text: str) -> tuple[str, float, float]:
    label, _, bands = text.partition("=")
    accept, _, review_below = bands.partition(",")
    try:
        return label.strip(), float(accept), float(review_below)
    except ValueError:
        raise UsageError(f"--label {text!r}: expected LABEL=ACCEPT,REVIEW_BELOW, e.g. invoice=0.9,0.6") from None


def _split_set(admin: AdminClient, args: argparse.Namespace) -> Message:
    wanted = admin_pb2.TrafficSplit()
    wanted.CopyFrom(admin.get_traffic_split())
    if args.weights:
        del wanted.weights[:]
        for item in args.weights:
            version, _, weight = item.partition("=")
            try:
                wanted.weights.add(version=version.strip(), weight=float(weight))
            except ValueError:
                raise UsageError(f"{item!r}: expected VERSION=WEIGHT, e.g. 2.3=0.9") from None
    if args.model:
        wanted.model_name = args.model
    if args.no_shadow:
        wanted.shadow_version, wanted.shadow_share = "", 0.0
    if args.shadow is not None:
        wanted.shadow_version = args.shadow
    if args.shadow_share is not None:
        wanted.shadow_share = args.shadow_share
    return admin.set_traffic_split(wanted)


def _model_call(method: str) -> Handler:
    def call(admin: AdminClient, args: argparse.Namespace) -> Message:
        return getattr(admin, method)(args.name, args.version)  # type: ignore[no-any-return]

    return call


def _reviews_list(admin: AdminClient, args: argparse.Namespace) -> Message:
    if args.limit < 0:
        raise UsageError("--limit must be positive")
    status = REVIEW_STATUSES[args.status]
    page = admin.list_reviews(status, label=args.label, page_size=args.limit, page_token=args.page_token)
    while args.all_pages and page.next_page_token:
        more = admin.list_reviews(status, label=args.label, page_size=args.limit, page_token=page.next_page_token)
        page.items.extend(more.items)
        page.next_page_token = more.next_page_token
    return page


def _reviewer(args: argparse.Namespace) -> str:
    if args.reviewer:
        return str(args.reviewer)
    try:
        return os.environ.get("DOCTRIAGE_REVIEWER") or getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        raise UsageError("pass --reviewer or set DOCTRIAGE_REVIEWER") from None


def _reviews_claim(admin: AdminClient, args: argparse.Namespace) -> Message:
    item = admin.claim_review(_reviewer(args), args.id, lease_seconds=args.lease)
    if args.output:
        try:
            with open(args.output, "wb") as f:
                f.write(item.content)
        except OSError as exc:
            raise UsageError(f"claimed {item.id}, but cannot write {args.output}: {exc.strerror or exc}") from None
    item.ClearField("content")  # never printed: --output writes it
    return item


def _reviews_resolve(admin: AdminClient, args: argparse.Namespace) -> Message:
    return admin.resolve_review(args.id, args.true_label, _reviewer(args))


# -- human-readable output -------------------------------------------------------------------------


def render(answer: Any) -> str:
    """A message (or a list of ModelInfo) as aligned lines."""
    if isinstance(answer, list):
        return "\n".join(_model_row(m) for m in answer) if answer else "(none)"
    kind = answer.DESCRIPTOR.name
    if kind == "GetStatusResponse":
        return _render_status(answer)
    if kind == "Thresholds":
        return _render_thresholds(answer)
    if kind == "TrafficSplit":
        weights = ", ".join(f"{w.version} {w.weight:g}" for w in answer.weights) or "(none)"
        shadow = f"{answer.shadow_version} on {answer.shadow_share:g}" if answer.shadow_version else "none"
        return _pairs([("model", answer.model_name), ("weights", weights), ("shadow", shadow)])
    if kind == "ModelInfo":
        return _model_row(answer)
    if kind == "ListReviewsResponse":
        rows = [_review_row(i) for i in answer.items] or ["(none)"]
        more = [f"next page: --page-token {answer.next_page_token}"] if answer.next_page_token else []
        return "\n".join([*rows, f"{len(answer.items)} shown, {answer.total} in all", *more])
    if kind == "ReviewItem":
        return _review_row(answer)
    if kind == "Stats":
        return _render_stats(answer)
    if kind == "DriftReport":
        return _render_drift(answer)
    return str(answer)


def _pairs(pairs: list[tuple[str, object]]) -> str:
    width = max(len(k) for k, _ in pairs)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in pairs)


def _model_row(m: Any) -> str:
    state = admin_pb2.ModelState.Name(m.state)
    extra = f"  error: {m.error}" if m.error else ""
    return f"{m.name}\t{m.version}\t{state}\t{m.provider or '-'}{extra}"


def _review_row(i: Any) -> str:
    created = datetime.fromtimestamp(i.created_at, UTC).strftime("%Y-%m-%d %H:%M:%SZ") if i.created_at else "-"
    status = admin_pb2.ReviewStatus.Name(i.status)
    who = i.claimed_by or "-"
    truth = i.true_label or "-"
    audit = "\taudit" if i.audit else ""
    return (
        f"{i.id}\t{status}\t{i.predicted_label}\t{i.confidence:.3f}\t{i.model_version}\t{i.reason}\t"
        f"claimed_by={who}\ttrue_label={truth}\t{created}{audit}"
    )


def _render_status(s: Any) -> str:
    pairs: list[tuple[str, object]] = [
        ("serving", "yes" if s.serving else "NO"),
        ("version", s.version),
        ("uptime", f"{s.uptime_seconds:.0f} s"),
        ("device", f"{s.device} (normalizer {s.normalizer}, hot path {s.hotpath})"),
        ("scanner", "available" if s.scanner_available else "unavailable or off"),
        ("config", s.config_digest),
        ("split from", s.traffic_split_origin or "-"),
    ]
    for o in s.thresholds_origins:
        pairs.append((f"thresholds {o.model_version or '*'}", f"bands {o.bands or '-'}, rule {o.rule or 'none'}"))
    models = [f"  {_model_row(m)}" for m in s.models]
    return "\n".join([_pairs(pairs), "models:", *(models or ["  (none)"])])


def _render_thresholds(t: Any) -> str:
    pairs: list[tuple[str, object]] = [
        ("model version", t.model_version or "* (every version without its own)"),
        ("default", f"accept >= {t.default.accept:g}, review below {t.default.review_below:g}"),
    ]
    for label in sorted(t.per_label):
        band = t.per_label[label]
        pairs.append((f"  {label}", f"accept >= {band.accept:g}, review below {band.review_below:g}"))
    pairs.append(("audit rate", f"{t.audit_rate:g}" if t.HasField("audit_rate") else "default"))
    pairs.append(("provenance", t.provenance or "-"))
    if t.HasField("rule"):
        r = t.rule
        gate = f", OOD <= {r.ood_threshold:g}" if r.HasField("ood_threshold") else ""
        pairs.append(
            (
                "acceptance rule",
                f"{'proven' if r.proven else 'NOT proven (accepts nothing)'}: confidence >= "
                f"{r.confidence_threshold:g}{gate}; alpha {r.alpha:g}, delta {r.delta:g}, n {r.n}",
            )
        )
    else:
        pairs.append(("acceptance rule", "none (the bands decide)"))
    return _pairs(pairs)


def _render_stats(s: Any) -> str:
    def counts(m: Any) -> str:
        return ", ".join(f"{k} {m[k]}" for k in sorted(m)) or "-"

    p99 = s.latency_p99_seconds

    return _pairs(
        [
            ("requests", s.requests),
            ("by decision", counts(s.by_decision)),
            ("by label", counts(s.by_label)),
            ("errors", counts(s.errors_by_reason)),
            ("fallbacks", counts(s.fallbacks_by_reason)),
            ("cache", f"{s.cache_hits} hits, {s.cache_misses} misses"),
            ("review queue", s.review_queue_depth),
            ("latency", f"p50 {s.latency_p50_seconds:.3f} s, p95 {s.latency_p95_seconds:.3f} s, p99 {p99:.3f} s"),
            ("cost today", f"{s.cost_today:.6f}"),
        ]
    )


def _render_drift(d: Any) -> str:
    confidence = (
        f"{d.mean_confidence:.3f} (reference {d.reference_mean_confidence:.3f}, "
        f"previous window {d.previous_window_mean_confidence:.3f})"
    )
    head = _pairs([("model version", d.model_version or "-"), ("mean confidence", confidence)])
    rows = [f"  {f.feature}\tKL {f.kl_divergence:.4f}\tPSI {f.psi:.4f}\tn {f.window_count}" for f in d.features]
    return "\n".join([head, "features:", *(rows or ["  (none yet)"])])
