"""Page tokens for lists ordered by (timestamp, id): opaque to callers, checked on the way in."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from omni.platform import validation
from omni.platform.errors import InvalidArgument


class PageToken:
    @staticmethod
    def after(at: datetime, last_id: str) -> str:
        """The token of the page that follows the item (at, last_id)."""
        return base64.urlsafe_b64encode(f"{at.isoformat()}|{last_id}".encode()).decode()

    @staticmethod
    def read(token: str) -> tuple[datetime, str]:
        """The (at, last_id) a token of ours holds; anything else is InvalidArgument (a token
        is the caller's to alter: a time without its zone, an id with a NUL, would otherwise
        reach the database)."""
        try:
            at, last_id = base64.urlsafe_b64decode(token.encode()).decode().split("|", 1)
            when = datetime.fromisoformat(at)
            if when.tzinfo is None or not validation.is_identifier(last_id):
                raise ValueError("not a token of ours")
            return when.astimezone(UTC), last_id  # OverflowError at the ends of time
        except (ValueError, OverflowError) as exc:  # binascii.Error, UnicodeDecodeError too
            raise InvalidArgument("page_token is not one this service gave out") from exc
