"""Who is signed in: the bearer token sealed in a cookie, with the store they work at.

The cookie holds the token encrypted and authenticated (Fernet) with the console's session
key, so any replica can read it and nobody can forge or read it. A session ends at sign-out
(the cookie is deleted) or `session_seconds` after sign-in. Role, name and home store come
from the token's entry in OMNI_AUTH_TOKENS on every request, so a token removed there ends
its sessions at once.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken

from omni.platform.auth import Caller, Role, Tokens
from omni.platform.errors import Unauthenticated

COOKIE = "omni_session"
# Who may sign in: people at a store or running the network. Storefront servers and
# scanners hold tokens for machines.
PEOPLE = frozenset({Role.ASSOCIATE, Role.MANAGER, Role.SERVICE})


class SignInRefused(Exception):
    """The token cannot open a session; the message says why, in words."""


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    caller: Caller
    store: str  # the store they work at now ("" until an unbound person picks one)
    ends: float  # when the session is over (time.time())

    @property
    def role(self) -> Role:
        return self.caller.role

    @property
    def may_choose_store(self) -> bool:
        return not self.caller.store


class Sessions:
    """Opens, reads and re-seals sessions."""

    def __init__(self, key: str, tokens: Tokens, lifetime: int) -> None:
        self._fernet = Fernet(key.encode())
        self._tokens = tokens
        self.lifetime = lifetime

    def sign_in(self, token: str) -> Session:
        token = token.strip()
        if not token:
            raise SignInRefused("Enter your access token.")
        caller = self._caller(token)
        if caller is None:
            raise SignInRefused("That token is not known. Check it, or ask your manager.")
        if caller.role not in PEOPLE:
            raise SignInRefused(
                f"A {caller.role.value} token is for a machine, not a person, "
                "and cannot sign in here. Use your own associate or manager token."
            )
        return Session(token, caller, caller.store, time.time() + self.lifetime)

    def seal(self, session: Session, started: float | None = None) -> str:
        body = {"t": session.token, "s": session.store, "at": started or time.time()}
        return self._fernet.encrypt(json.dumps(body).encode()).decode()

    def started(self, cookie: str) -> float:
        return float(str(self._body(cookie)["at"]))

    def open(self, cookie: str | None) -> Session | None:
        """The session a cookie holds, or None (missing, forged, expired or revoked)."""
        if not cookie:
            return None
        try:
            body = self._body(cookie)
            started = float(str(body["at"]))
        except (InvalidToken, ValueError, KeyError, TypeError):
            return None
        if not 0 <= time.time() - started <= self.lifetime:
            return None  # over (a cookie re-sealed later still ends with its session)
        caller = self._caller(str(body["t"]))
        if caller is None or caller.role not in PEOPLE:
            return None
        store = caller.store or str(body.get("s", ""))
        return Session(str(body["t"]), caller, store, started + self.lifetime)

    def _body(self, cookie: str) -> dict[str, object]:
        raw = self._fernet.decrypt(cookie.encode(), ttl=self.lifetime)
        body = json.loads(raw)
        if not isinstance(body, dict):
            raise ValueError("not a session")
        return body

    def _caller(self, token: str) -> Caller | None:
        try:
            return self._tokens.caller([("authorization", f"Bearer {token}")])
        except Unauthenticated:
            return None
