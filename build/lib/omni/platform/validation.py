"""Input checks shared by every service's entrypoints; each failure is an InvalidArgument."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from omni.platform.errors import InvalidArgument

MAX_ID_LENGTH = 64
MAX_TEXT_LENGTH = 256
MAX_QUANTITY = 1_000_000
MAX_LINES = 200
_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")


def identifier(field: str, value: str) -> str:
    """A required id: 1..64 characters of letters, digits and . _ : / - ."""
    if not value:
        raise InvalidArgument(f"{field} is required")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidArgument(f"{field} is longer than {MAX_ID_LENGTH} characters")
    if not _ID_PATTERN.match(value):
        raise InvalidArgument(
            f"{field} {value!r} may only contain letters, digits and . _ : / - "
            "and must start with a letter or digit"
        )
    return value


def optional_identifier(field: str, value: str) -> str:
    """An id that may be left empty."""
    return identifier(field, value) if value else value


def text(
    field: str, value: str, *, required: bool = False, max_length: int = MAX_TEXT_LENGTH
) -> str:
    """Free text of at most `max_length` (default 256) characters."""
    if required and not value.strip():
        raise InvalidArgument(f"{field} is required")
    if len(value) > max_length:
        raise InvalidArgument(f"{field} is longer than {max_length} characters")
    return value


def quantity(field: str, value: int) -> int:
    """A unit count of at least 1 and at most 1,000,000."""
    if value <= 0:
        raise InvalidArgument(f"{field} must be at least 1, got {value}")
    if value > MAX_QUANTITY:
        raise InvalidArgument(f"{field} must be at most {MAX_QUANTITY}, got {value}")
    return value


def non_negative(field: str, value: int, *, maximum: int = MAX_QUANTITY) -> int:
    """A count that may be zero."""
    if value < 0 or value > maximum:
        raise InvalidArgument(f"{field} must be between 0 and {maximum}, got {value}")
    return value


def lines(field: str, items: Iterable[object]) -> None:
    """A non-empty list of at most 200 lines."""
    count = sum(1 for _ in items)
    if count == 0:
        raise InvalidArgument(f"{field} must have at least one line")
    if count > MAX_LINES:
        raise InvalidArgument(f"{field} has {count} lines; at most {MAX_LINES} are allowed")


def coordinate(field: str, value: float | None, limit: float) -> float | None:
    """A latitude (limit 90) or longitude (limit 180), or None."""
    if value is None:
        return None
    if not -limit <= value <= limit:
        raise InvalidArgument(f"{field} must be between -{limit} and {limit}, got {value}")
    return value


MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50


def page_size(value: int) -> int:
    """A list's page size: 0 means 50; at most 500."""
    size = value or DEFAULT_PAGE_SIZE
    if not 0 < size <= MAX_PAGE_SIZE:
        raise InvalidArgument(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {size}")
    return size


def each_once(field: str, values: Iterable[str]) -> None:
    """Lines name each value (e.g. a SKU) once: one line carries its whole quantity."""
    twice = sorted(v for v, n in Counter(values).items() if n > 1)
    if twice:
        raise InvalidArgument(
            f"each {field} may appear on one line only; put the whole quantity of "
            f"{', '.join(twice)} on one line"
        )
