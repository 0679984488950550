"""Console sessions: sealed, bounded in time, and only for people."""

from __future__ import annotations

import json
import time

import pytest
from cryptography.fernet import Fernet

from omni.console.sessions import Sessions, SignInRefused
from omni.platform.auth import Role, Tokens

TOKENS = Tokens.parse(
    json.dumps(
        [
            {"token": "anna", "role": "associate", "subject": "anna", "store": "STORE-1"},
            {"token": "olga", "role": "service", "subject": "olga"},
            {"token": "web", "role": "storefront"},
            {"token": "gun", "role": "scanner", "store": "STORE-1"},
        ]
    )
)
KEY = Fernet.generate_key().decode()


def test_a_person_signs_in_and_the_cookie_opens_to_the_same_session() -> None:
    sessions = Sessions(KEY, TOKENS, lifetime=60)
    session = sessions.sign_in(" anna ")
    opened = sessions.open(sessions.seal(session))
    assert opened is not None
    assert (opened.role, opened.caller.subject, opened.store) == (Role.ASSOCIATE, "anna", "STORE-1")
    assert not opened.may_choose_store


@pytest.mark.parametrize(("token", "says"), [("web", "storefront token"), ("gun", "scanner")])
def test_a_machines_token_cannot_sign_in(token: str, says: str) -> None:
    with pytest.raises(SignInRefused, match=says):
        Sessions(KEY, TOKENS, 60).sign_in(token)


@pytest.mark.parametrize("token", ["", "   ", "nobody"])
def test_a_blank_or_unknown_token_cannot_sign_in(token: str) -> None:
    with pytest.raises(SignInRefused):
        Sessions(KEY, TOKENS, 60).sign_in(token)


def test_a_session_ends_when_its_time_is_up() -> None:
    sessions = Sessions(KEY, TOKENS, lifetime=60)
    anna = sessions.sign_in("anna")
    assert sessions.open(sessions.seal(anna, started=time.time() - 59)) is not None
    # Re-sealed just now (as choosing a store does), yet started over a minute ago: over.
    assert sessions.open(sessions.seal(anna, started=time.time() - 61)) is None


def test_a_forged_or_foreign_cookie_opens_nothing() -> None:
    sessions = Sessions(KEY, TOKENS, 60)
    other = Sessions(Fernet.generate_key().decode(), TOKENS, 60)
    assert sessions.open(other.seal(other.sign_in("olga"))) is None
    assert sessions.open("not-a-cookie") is None
    assert sessions.open(None) is None


def test_a_token_removed_from_the_configuration_ends_its_sessions() -> None:
    cookie = Sessions(KEY, TOKENS, 60).seal(Sessions(KEY, TOKENS, 60).sign_in("anna"))
    without_anna = Tokens.parse(json.dumps([{"token": "olga", "role": "service"}]))
    assert Sessions(KEY, without_anna, 60).open(cookie) is None


def test_an_unbound_person_keeps_the_store_they_chose_and_a_bound_one_cannot_change() -> None:
    sessions = Sessions(KEY, TOKENS, 60)
    olga = sessions.sign_in("olga")
    assert olga.may_choose_store and olga.store == ""
    chose = type(olga)(olga.token, olga.caller, "STORE-9", olga.ends)
    assert sessions.open(sessions.seal(chose)).store == "STORE-9"  # type: ignore[union-attr]
    anna = sessions.sign_in("anna")
    moved = type(anna)(anna.token, anna.caller, "STORE-9", anna.ends)
    assert sessions.open(sessions.seal(moved)).store == "STORE-1"  # type: ignore[union-attr]
