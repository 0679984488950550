"""Who is calling: bearer tokens mapped to roles (and, for store staff, a store), and which
roles each RPC allows, where.

Tokens come from the environment (OMNI_AUTH_TOKENS, JSON; in Kubernetes from a Secret):
`[{"token": "...", "role": "associate", "subject": "anna", "store": "STORE-NYC"}, ...]`, or
`token_sha256` instead of `token` so the configuration need not hold the token itself. With
no tokens configured every call is refused: nothing is open by default.

A token with a `store` is bound to it: scanners, associates and managers work at one
location. The other roles are network-wide by nature (the storefront sells from every
location; trusted systems run everything), so a store on their token is refused at start-up.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Generic, TypeVar

from omni.platform.errors import PermissionDenied, Unauthenticated


class Role(StrEnum):
    STOREFRONT = "storefront"  # web, app, marketplace, call centre: availability, orders, returns
    SCANNER = "scanner"  # warehouse and store scanners: scans only
    ASSOCIATE = "associate"  # store and warehouse staff: pickup work, shipping, receiving returns
    MANAGER = "manager"  # a store manager: what associates do, plus unlocks and overrides
    SERVICE = "service"  # trusted systems and operators: everything


# The roles whose tokens may name the one store they work at.
BINDABLE = frozenset({Role.SCANNER, Role.ASSOCIATE, Role.MANAGER})


class Scope(StrEnum):
    """Where a caller bound to a store may use an RPC its role allows (unbound: anywhere)."""

    NETWORK = "network"  # anywhere: reads across stores, and what is not any one store's
    STORE = "store"  # at its own store only, checked where the location is known
    UNBOUND = "unbound"  # not at all: the RPC changes every store at once


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may call one RPC (the service role always may), and where."""

    roles: frozenset[Role]
    scope: Scope


def network(*allowed: Role) -> Rule:
    return Rule(frozenset({*allowed, Role.SERVICE}), Scope.NETWORK)


def at_store(*allowed: Role) -> Rule:
    """Bound callers at their own store only: the service layer checks the location it acts
    at (from the request, or from the entity once loaded) with `Caller.require_store*`."""
    return Rule(frozenset({*allowed, Role.SERVICE}), Scope.STORE)


def unbound(*allowed: Role) -> Rule:
    return Rule(frozenset({*allowed, Role.SERVICE}), Scope.UNBOUND)


# Access is per RPC: each service lists every method of its API with its rule. A method
# missing from the list is refused for all.
Access = Mapping[str, Rule]


@dataclass(slots=True)
class _StoreCheck:
    method: str
    done: bool = False


# For a STORE-scoped call by a bound caller: whether its store has been checked (per call).
_STORE_CHECK: contextvars.ContextVar[_StoreCheck | None] = contextvars.ContextVar(
    "omni_store_check", default=None
)


class StoreUnchecked(RuntimeError):
    """A STORE-scoped RPC finished without checking the caller's store: a bug."""


def confirm_store_checked() -> None:
    """Raises StoreUnchecked if the call that just succeeded had a store to check and did
    not; the server makes that INTERNAL (logged), so a missing check fails loudly."""
    due = _STORE_CHECK.get()
    if due is not None and not due.done:
        raise StoreUnchecked(f"{due.method} is STORE-scoped but checked no store")


@dataclass(frozen=True, slots=True)
class Caller:
    role: Role
    subject: str
    store: str = ""  # scanners, associates and managers: the location they work at ("" = any)

    def require_store(self, location_id: str) -> None:
        """A caller bound to a store acts at that store only."""
        self.require_stores((location_id,))

    def require_stores(self, location_ids: Iterable[str]) -> None:
        """A bound caller acts only on what is wholly at its store (and somewhere at all)."""
        where = set(location_ids)
        self._checked()
        if self.store and where != {self.store}:
            raise PermissionDenied(self._not_at(where))

    def require_store_among(self, location_ids: Iterable[str]) -> None:
        """A bound caller sees what its store takes part in."""
        where = set(location_ids)
        self._checked()
        if self.store and self.store not in where:
            raise PermissionDenied(self._not_at(where))

    def require(self, role: Role, action: str) -> None:
        if self.role not in (role, Role.SERVICE):
            raise PermissionDenied(f"{action} needs the {role.value} role")

    def _checked(self) -> None:
        due = _STORE_CHECK.get()
        if due is not None:
            due.done = True

    def _not_at(self, where: set[str]) -> str:
        others = ", ".join(sorted(loc or "(no location given)" for loc in where - {self.store}))
        return f"{self.subject} works at {self.store} only, not at {others or 'no location'}"


# The caller of the RPC being handled (set by the server for each call).
CALLER: contextvars.ContextVar[Caller] = contextvars.ContextVar("omni_caller")


def current_caller() -> Caller:
    return CALLER.get(Caller(Role.SERVICE, "internal"))


def bound_store(role: Role, store: object) -> str:
    """The store a caller of `role` is bound to ("" for none), if it may name one."""
    if not isinstance(store, str) or (store and role not in BINDABLE):
        names = ", ".join(sorted(r.value for r in BINDABLE))
        raise ValueError(f"only {names} tokens name a store (a string)")
    return store


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
            try:
                store = bound_store(role, entry.get("store", ""))
            except ValueError as exc:
                raise ValueError(f"token {i}: {exc}") from None
            subject = entry.get("subject", role.value)
            self._by_digest[digest] = Caller(role, subject, store)

    @classmethod
    def parse(cls, text: str) -> Tokens:
        """From OMNI_AUTH_TOKENS (a JSON list); empty means no tokens at all."""
        return cls(json.loads(text) if text.strip() else [])

    def find(self, token: str) -> Caller | None:
        return self._by_digest.get(_digest(token))

    def caller(self, metadata: Metadata) -> Caller:
        """The caller an `authorization: Bearer <token>` header names."""
        caller = self.find(bearer(metadata))
        if caller is None:
            raise Unauthenticated("unknown or revoked token")
        return caller


Metadata = Sequence[tuple[str, str | bytes]] | None


def bearer(metadata: Metadata) -> str:
    """The token of an `authorization: Bearer <token>` header."""
    header = next((v for k, v in metadata or () if k == "authorization"), None)
    if header is None:
        raise Unauthenticated("no credentials: send `authorization: Bearer <token>`")
    value = header.decode() if isinstance(header, bytes) else header
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the authorization header must be `Bearer <token>`")
    return token.strip()


def authorize(
    identify: Callable[[Metadata], Caller], access: Access, method: str, metadata: object
) -> Caller:
    """The caller of `method`, if its token is valid and its rule lets it call here; a
    STORE-scoped call by a bound caller is then due a store check (confirm_store_checked)."""
    caller = identify(metadata)  # type: ignore[arg-type]
    name = method.rsplit("/", 1)[-1]
    rule = access.get(name)
    if rule is None or caller.role not in rule.roles:
        raise PermissionDenied(f"the {caller.role.value} role may not call {method}")
    if caller.store and rule.scope is Scope.UNBOUND:
        raise PermissionDenied(
            f"{name} changes every store; {caller.subject} works at {caller.store} only"
        )
    bound = bool(caller.store) and rule.scope is Scope.STORE
    _STORE_CHECK.set(_StoreCheck(name) if bound else None)
    return caller


T = TypeVar("T")


class WatchedFile(Generic[T]):
    """A file (a mounted Secret: OMNI_AUTH_TOKENS_FILE, OMNI_AUTH_JWKS_FILE) read again when
    its content changes, and what `parse` makes of it."""

    def __init__(self, path: str, parse: Callable[[str], T]) -> None:
        self.path = path
        self._parse = parse
        self._seen = b""

    def read(self) -> T:
        content = Path(self.path).read_bytes()
        parsed = self._parse(content.decode())
        self._seen = content
        return parsed

    def changed(self) -> T | None:
        """What the file holds if its content changed since last read (and parses), else None."""
        content = Path(self.path).read_bytes()
        if content == self._seen:
            return None
        parsed = self._parse(content.decode())
        self._seen = content
        return parsed
