"""Who is calling: bearer tokens mapped to roles, and which roles each RPC allows.

Tokens come from the environment (OMNI_AUTH_TOKENS, JSON; in Kubernetes from a Secret):
`[{"token": "...", "role": "associate", "subject": "anna", "store": "STORE-NYC"}, ...]`, or
`token_sha256` instead of `token` so the configuration need not hold the token itself. With
no tokens configured every call is refused: nothing is open by default.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from omni.platform.errors import PermissionDenied, Unauthenticated


class Role(StrEnum):
    STOREFRONT = "storefront"  # web, app, marketplace, call centre: availability, orders, returns
    SCANNER = "scanner"  # warehouse and store scanners: scans only
    ASSOCIATE = "associate"  # store and warehouse staff: pickup work, shipping, receiving returns
    MANAGER = "manager"  # a store manager: what associates do, plus unlocks and overrides
    SERVICE = "service"  # trusted systems and operators: everything


# Access is per RPC: each service lists every method of its API with the roles allowed; the
# service role is allowed everywhere. A method missing from the list is refused for all.
Access = Mapping[str, frozenset[Role]]


def roles(*allowed: Role) -> frozenset[Role]:
    return frozenset({*allowed, Role.SERVICE})


@dataclass(frozen=True, slots=True)
class Caller:
    role: Role
    subject: str
    store: str = ""  # associates and managers: the location they work at ("" = any)

    def require_store(self, location_id: str) -> None:
        """Store staff act at their own store only."""
        if self.role in (Role.ASSOCIATE, Role.MANAGER) and self.store not in ("", location_id):
            raise PermissionDenied(f"{self.subject} works at {self.store}, not at {location_id}")

    def require(self, role: Role, action: str) -> None:
        if self.role not in (role, Role.SERVICE):
            raise PermissionDenied(f"{action} needs the {role.value} role")


# The caller of the RPC being handled (set by the server for each call).
CALLER: contextvars.ContextVar[Caller] = contextvars.ContextVar("omni_caller")


def current_caller() -> Caller:
    return CALLER.get(Caller(Role.SERVICE, "internal"))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Tokens:
    """The configured tokens, kept only as SHA-256 digests."""

    def __init__(self, entries: Sequence[Mapping[str, str]]) -> None:
        self._by_digest: dict[str, Caller] = {}
        for i, entry in enumerate(entries):
            digest = entry.get("token_sha256") or (entry.get("token") and _digest(entry["token"]))
            if not digest:
                raise ValueError(f"token {i}: give `token` or `token_sha256`")
            try:
                role = Role(entry.get("role", ""))
            except ValueError:
                names = ", ".join(r.value for r in Role)
                raise ValueError(f"token {i}: role must be one of {names}") from None
            subject = entry.get("subject", role.value)
            self._by_digest[digest] = Caller(role, subject, entry.get("store", ""))

    @classmethod
    def parse(cls, text: str) -> Tokens:
        """From OMNI_AUTH_TOKENS (a JSON list); empty means no tokens at all."""
        return cls(json.loads(text) if text.strip() else [])

    def caller(self, metadata: Sequence[tuple[str, str | bytes]] | None) -> Caller:
        """The caller an `authorization: Bearer <token>` header names."""
        header = next((v for k, v in metadata or () if k == "authorization"), None)
        if header is None:
            raise Unauthenticated("no credentials: send `authorization: Bearer <token>`")
        value = header.decode() if isinstance(header, bytes) else header
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("the authorization header must be `Bearer <token>`")
        caller = self._by_digest.get(_digest(token.strip()))
        if caller is None:
            raise Unauthenticated("unknown or revoked token")
        return caller


def authorize(tokens: Tokens, access: Access, method: str, metadata: object) -> Caller:
    """The caller of `method`, if its token is valid and its role allowed."""
    caller = tokens.caller(metadata)  # type: ignore[arg-type]
    allowed = access.get(method.rsplit("/", 1)[-1])
    if allowed is None or caller.role not in allowed:
        raise PermissionDenied(f"the {caller.role.value} role may not call {method}")
    return caller
