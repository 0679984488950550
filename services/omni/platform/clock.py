"""Time and id helpers, so that every timestamp is UTC and every id has one shape."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    """A new unique id such as `res_0b9d…`; the prefix tells a person what it names."""
    return f"{prefix}_{secrets.token_hex(16)}"  # 128 random bits, as a uuid4 has 122
