"""Page tokens for lists ordered by (timestamp, id): opaque to callers, checked on the way in."""

from __future__ import annotations

import base64
from datetime import datetime

from omni.platform.errors import InvalidArgument


class PageToken:
    @staticmethod
    def after(at: datetime, last_id: str) -> str:
        """The token of the page that follows the item (at, last_id)."""
        return base64.urlsafe_b64encode(f"{at.isoformat()}|{last_id}".encode()).decode()

    @staticmethod
    def read(token: str) -> tuple[datetime, str]:
        try:
            at, last_id = base64.urlsafe_b64decode(token.encode()).decode().split("|", 1)
            if "\x00" in last_id:  # none of ours has one, and PostgreSQL refuses a NUL
                raise ValueError("NUL in the last id")
            return datetime.fromisoformat(at), last_id
        except ValueError as exc:  # binascii.Error and UnicodeDecodeError are ValueErrors
            raise InvalidArgument("page_token is not one this service gave out") from exc
