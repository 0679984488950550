"""A request's fingerprint, kept with its idempotency key: the same key must come with the
same request (omni.platform.idempotency). Plain Python, so commands may declare their fields
with `added` in a domain."""

from __future__ import annotations

import hashlib
from dataclasses import field, fields
from typing import Any


def request_hash(command: Any) -> str:
    """A fingerprint of a command's content, its idempotency key left out.

    Commands are frozen dataclasses of strings, numbers and tuples, so repr is canonical. A
    field added to a command after requests were fingerprinted is declared with `added`: left
    at its default it is left out, so that a request resent across the upgrade still matches.
    """
    content = [
        getattr(command, f.name)
        for f in fields(command)
        if f.name != "idempotency_key"
        and not (f.metadata.get(_ADDED) and getattr(command, f.name) == f.default)
    ]
    blob = repr((type(command).__name__, content))
    return hashlib.sha256(blob.encode()).hexdigest()


_ADDED = "omni_added_field"


def added(default: Any) -> Any:
    """A command field added later (see request_hash), with its default."""
    return field(default=default, metadata={_ADDED: True})
