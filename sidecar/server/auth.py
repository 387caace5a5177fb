"""API keys: hashed in the configuration, sent as `authorization: Bearer <key>`, checked per RPC.

A key entry is `{id, hash, roles}`; `hash` is `sha256:<hex>` (fast; keys are random
high-entropy tokens, so a plain hash is enough) or `scrypt:<salt hex>:<hex>` (slow by
design; the verified result is cached by the key's SHA-256 so that only the first call
pays for it). `python -m sidecar hash-key` prints a new key and its entry.

Roles: the Classifier RPCs need `classify`; the review RPCs (ListReviews, ClaimReview,
ResolveReview) need `review`; every other Admin RPC needs `admin`. Health and reflection
stay open. Failures say only UNAUTHENTICATED or PERMISSION_DENIED: nothing about which
keys exist or which role was missing.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass

from sidecar.config import ApiKey, AuthSettings
from sidecar.errors import PermissionDenied, Reason, Unauthenticated

CLASSIFIER_SERVICE = "doctriage.v1.Classifier"
ADMIN_SERVICE = "doctriage.v1.Admin"
REVIEW_RPCS = frozenset({"ListReviews", "ClaimReview", "ResolveReview"})
OPEN_SERVICES = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.reflection.v1.ServerReflection",
    }
)

_N, _R, _P = 2**14, 8, 1  # scrypt cost parameters
_VERIFIED_CACHE = 1024

# The authenticated caller of the current RPC (audit lines read it).
current_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "doctriage_principal", default=None
)


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    roles: frozenset[str]
    rate_per_s: float | None = None
    burst: int | None = None


# Used when auth is disabled: every role, rate limited per peer.
ANONYMOUS_ROLES = frozenset({"classify", "review", "admin"})


def caller_key_id() -> str:
    """Key id of the current RPC's caller ("anonymous" when auth is off); for audit lines."""
    principal = current_principal.get()
    return principal.key_id if principal is not None else "anonymous"


def required_role(service: str, rpc: str) -> str | None:
    """The role an RPC needs; None = open (health, reflection)."""
    if service in OPEN_SERVICES:
        return None
    if service == CLASSIFIER_SERVICE:
        return "classify"
    if service == ADMIN_SERVICE and rpc in REVIEW_RPCS:
        return "review"
    return "admin"


def generate_key() -> str:
    return "dtk_" + secrets.token_urlsafe(32)


def hash_key(key: str, method: str = "sha256") -> str:
    if method == "sha256":
        return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    if method == "scrypt":
        salt = secrets.token_bytes(16)
        digest = hashlib.scrypt(key.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
        return f"scrypt:{salt.hex()}:{digest.hex()}"
    raise ValueError(f"unknown key hash method {method!r} (sha256, scrypt)")


def verify_key(key: str, stored: str) -> bool:
    method, _, rest = stored.partition(":")
    if method == "sha256":
        return hmac.compare_digest(hashlib.sha256(key.encode()).hexdigest(), rest.lower())
    if method == "scrypt":
        salt_hex, _, digest_hex = rest.partition(":")
        try:
            salt, expected = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
        except ValueError:
            return False
        actual = hashlib.scrypt(key.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=len(expected))
        return hmac.compare_digest(actual, expected)
    return False


def bearer_token(metadata: object) -> str | None:
    for key, value in metadata or ():  # type: ignore[attr-defined]
        if key.lower() == "authorization" and isinstance(value, str):
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


class Authenticator:
    def __init__(self, settings: AuthSettings) -> None:
        self.enabled = settings.enabled
        for entry in settings.keys:
            if entry.hash.partition(":")[0] not in ("sha256", "scrypt"):
                raise ValueError(f"API key {entry.id!r}: hash must start with sha256: or scrypt:")
        self._keys: list[ApiKey] = list(settings.keys)
        self._by_sha256 = {e.hash.partition(":")[2].lower(): e for e in self._keys if e.hash.startswith("sha256:")}
        self._slow = [e for e in self._keys if not e.hash.startswith("sha256:")]
        # sha256(token) → entry, for slow hashes already verified (bounded LRU).
        self._verified: OrderedDict[str, ApiKey] = OrderedDict()

    def _lookup(self, token: str) -> ApiKey | None:
        fingerprint = hashlib.sha256(token.encode()).hexdigest()
        entry = self._by_sha256.get(fingerprint)
        if entry is not None:
            return entry
        cached = self._verified.get(fingerprint)
        if cached is not None:
            self._verified.move_to_end(fingerprint)
            return cached
        for candidate in self._slow:
            if verify_key(token, candidate.hash):
                self._verified[fingerprint] = candidate
                if len(self._verified) > _VERIFIED_CACHE:
                    self._verified.popitem(last=False)
                return candidate
        return None

    def authenticate(self, metadata: object, role: str) -> Principal:
        """The caller, if its key is valid and has `role`; else Unauthenticated / PermissionDenied."""
        if not self.enabled:
            return Principal("anonymous", ANONYMOUS_ROLES)
        token = bearer_token(metadata)
        entry = self._lookup(token) if token else None
        if entry is None:
            raise Unauthenticated("unauthenticated", Reason.UNAUTHENTICATED)
        if role not in entry.roles:
            raise PermissionDenied("permission denied", Reason.PERMISSION_DENIED)
        return Principal(entry.id, frozenset(entry.roles), entry.rate_per_s, entry.burst)


def print_key_entry(key_id: str, roles: str, method: str, key: str | None = None) -> None:
    """`python -m sidecar hash-key`: the key (give it to the client) and its TOML entry (for the config)."""
    import json
    import sys

    wanted = [r.strip() for r in roles.split(",") if r.strip()]
    unknown = set(wanted) - ANONYMOUS_ROLES
    if unknown:
        raise SystemExit(f"unknown roles: {', '.join(sorted(unknown))} (classify, review, admin)")
    if key is None:
        key = generate_key()
        print(f"# API key for {key_id} (shown once; send it as 'authorization: Bearer <key>'):", file=sys.stderr)
        print(key)
    print("[[auth.keys]]")
    print(f"id = {json.dumps(key_id)}")
    print(f"hash = {json.dumps(hash_key(key, method))}")
    print(f"roles = {json.dumps(wanted)}")
