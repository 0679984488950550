"""Signed tokens (JWT) from an identity provider, beside (or instead of) the token list.

A token is accepted when it is signed with an asymmetric algorithm by one of the configured
keys (a JWKS: from a file, read again when it changes, or from a URL, fetched again every
OMNI_AUTH_JWKS_REFRESH_SECONDS and soon after a token names a key not seen yet), names our
issuer and audience, has a subject, and has not expired. Its role comes from the claim
`omni_role` and, for scanners, associates and managers, the store they work at from
`omni_store` (the same rules as the token list's). Keys rotate by publishing the new key
beside the old one; a key removed is refused from the next read on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import urllib.request
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import jwt

from omni.platform.auth import BINDABLE, Caller, Role, bound_store
from omni.platform.errors import PermissionDenied, Unauthenticated, Unavailable
from omni.platform.tasks import reraise_if_cancelled

log = logging.getLogger(__name__)

# Asymmetric only: a JWKS holds public keys, and a symmetric algorithm would let anyone who
# has the public key sign.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
LEEWAY_SECONDS = 30.0  # clocks differ a little between the provider and us
CACHED = 4096  # verified tokens remembered (a storefront sends the same one on every call)
MAX_JWKS_BYTES = 1 << 20
FETCH_SECONDS = 5.0


def looks_signed(token: str) -> bool:
    """A JWT's compact form: three base64url parts."""
    return token.count(".") == 2


class KeySet:
    """The public keys of a JWKS, by key id."""

    def __init__(self, jwks: Mapping[str, Any]) -> None:
        """An empty set (`{"keys": []}`) is a set: every signed token is refused, as when a
        provider withdraws a compromised key that was its only one."""
        if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
            raise ValueError('not a JWKS: a JSON object with a "keys" list')
        keys: list[jwt.PyJWK] = []
        if jwks["keys"]:
            try:
                keys = jwt.PyJWKSet.from_dict(dict(jwks)).keys
            except (jwt.PyJWKSetError, jwt.PyJWKError, TypeError, AttributeError) as exc:
                raise ValueError(f"not a usable JWKS: {exc}") from None
        self._by_id = {key.key_id or "": key for key in keys if _usable(key)}
        if jwks["keys"] and not self._by_id:
            raise ValueError("the JWKS has no public key for an asymmetric algorithm")

    @classmethod
    def parse(cls, text: str) -> KeySet:
        return cls(json.loads(text))

    def key(self, key_id: str | None) -> jwt.PyJWK | None:
        if key_id is None and len(self._by_id) == 1:
            return next(iter(self._by_id.values()))
        return self._by_id.get(key_id or "")


def _usable(key: jwt.PyJWK) -> bool:
    return key.algorithm_name in ALGORITHMS and key.public_key_use in (None, "sig")


class SignedTokens:
    """Verifies signed tokens against the keys in use, and remembers the ones it verified
    until they expire (forgotten when the keys change)."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        roles: frozenset[Role] = frozenset(Role) - {Role.SERVICE},
        role_claim: str = "omni_role",
        store_claim: str = "omni_store",
    ) -> None:
        self._issuer = issuer
        self._audience = audience
        self._roles = roles
        self._role_claim = role_claim
        self._store_claim = store_claim
        self._keys: KeySet | None = None
        self._verified: OrderedDict[str, tuple[Caller, float]] = OrderedDict()
        self.unknown_key = asyncio.Event()  # a token named a key not in the set: read it again

    def use(self, keys: KeySet) -> None:
        self._keys = keys
        self._verified.clear()
        self.unknown_key.clear()

    def caller(self, token: str) -> Caller:
        remembered = self._verified.get(token)
        if remembered is not None and remembered[1] > time.time():
            self._verified.move_to_end(token)
            return remembered[0]
        if self._keys is None:
            raise Unavailable("the signing keys are not loaded yet; try again shortly")
        try:
            key_id = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise Unauthenticated("the token is not a well-formed signed token") from None
        key = self._keys.key(key_id if isinstance(key_id, str) else None)
        if key is None:
            self.unknown_key.set()
            raise Unauthenticated("the token is signed with a key Omni does not know")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[key.algorithm_name],
                audience=self._audience,
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"the signed token is refused: {str(exc)[:120]}") from None
        caller = self._caller(claims)
        self._verified[token] = (caller, float(claims["exp"]) + LEEWAY_SECONDS)
        if len(self._verified) > CACHED:
            self._verified.popitem(last=False)
        return caller

    def _caller(self, claims: Mapping[str, Any]) -> Caller:
        """The caller its claims name. Only the roles configured for signed tokens (not
        `service` unless allowed); and a scanner, associate or manager names the store it
        works at, or "*" for any: a missing store is refused, never taken as every store."""
        named = claims.get(self._role_claim)
        role = next((r for r in self._roles if r.value == named), None)
        if role is None:
            names = ", ".join(sorted(r.value for r in self._roles))
            raise PermissionDenied(f"the token's {self._role_claim} claim must be one of {names}")
        subject = claims["sub"]
        store = claims.get(self._store_claim)
        try:
            if not isinstance(subject, str) or not subject:
                raise ValueError("the sub claim must be a string")
            if role in BINDABLE:
                if not isinstance(store, str) or not store:
                    raise ValueError(f'{self._store_claim} must name a store, or "*" for any')
                store = "" if store == "*" else store
            store = bound_store(role, store or "")
        except ValueError as exc:
            raise PermissionDenied(f"the token's claims are refused: {exc}") from None
        return Caller(role, subject[:128], store)


async def fetch_jwks(url: str) -> KeySet:
    """The key set published at `url` (an identity provider's jwks_uri)."""

    def get() -> bytes:
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=FETCH_SECONDS) as answer:
            body: bytes = answer.read(MAX_JWKS_BYTES + 1)
        if len(body) > MAX_JWKS_BYTES:
            raise ValueError("the JWKS is larger than 1 MB")
        return body

    return KeySet.parse((await asyncio.to_thread(get)).decode())


async def follow_jwks(url: str, signed: SignedTokens, every: float, soonest: float) -> None:
    """Keeps the keys published at `url` in use: fetched now, then every `every` seconds, and
    sooner (never more often than every `soonest` seconds) when a token names a key not seen
    yet, or the last fetch failed. A failed fetch keeps the keys in use."""
    while True:
        try:
            signed.use(await fetch_jwks(url))
            log.info("signing keys read from %s", url)
        except Exception as exc:  # any failure (a bad answer, a bug) keeps the loop alive
            reraise_if_cancelled(exc)
            signed.unknown_key.set()  # try again soon
            log.warning("cannot read the signing keys from %s (the ones in use stay): %s", url, exc)
        await asyncio.sleep(soonest)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(signed.unknown_key.wait(), max(every - soonest, 0.0))
