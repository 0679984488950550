"""Input checks shared by every service's entrypoints; each failure is an InvalidArgument."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from omni.platform.errors import InvalidArgument
from omni.platform.money import MAX_ORDER_TOTAL, MAX_UNIT_PRICE  # noqa: F401 (re-exported)

MAX_ID_LENGTH = 64
MAX_TEXT_LENGTH = 256
MAX_QUANTITY = 1_000_000
MAX_LINES = 200
# How much of a caller's value an error message quotes, and how many values of a list.
MAX_QUOTED = 40
MAX_LISTED = 5
# fullmatch: with match and "$", a trailing newline would pass.
_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]*")
# Control characters (C0, DEL, C1) and the Unicode line and paragraph separators: none belongs
# in one line of text (a name, a reference, a reason), and PostgreSQL refuses NUL outright.
_NOT_IN_A_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def quoted(value: str) -> str:
    """A caller's value for an error message: escaped, and cut to its first 40 characters
    (an error must never echo unbounded input: gRPC carries the message in a header)."""
    if len(value) <= MAX_QUOTED:
        return repr(value)
    return f"{value[:MAX_QUOTED]!r}… ({len(value)} characters)"


def listed(values: Sequence[str], *, quote: bool = True) -> str:
    """Values for an error message: the first five (quoted, unless they are valid ids), and
    how many more there are."""
    shown = ", ".join(quoted(v) if quote else v for v in values[:MAX_LISTED])
    more = len(values) - MAX_LISTED
    return f"{shown} and {more} more" if more > 0 else shown


def is_identifier(value: str) -> bool:
    """1..64 characters of letters, digits and . _ : / - , starting with a letter or digit."""
    return 0 < len(value) <= MAX_ID_LENGTH and _ID_PATTERN.fullmatch(value) is not None


def identifier(field: str, value: str) -> str:
    """A required id: 1..64 characters of letters, digits and . _ : / - ."""
    if not value:
        raise InvalidArgument(f"{field} is required")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidArgument(f"{field} is longer than {MAX_ID_LENGTH} characters")
    if not _ID_PATTERN.fullmatch(value):
        raise InvalidArgument(
            f"{field} {quoted(value)} may only contain letters, digits and . _ : / - "
            "and must start with a letter or digit"
        )
    return value


def optional_identifier(field: str, value: str) -> str:
    """An id that may be left empty."""
    return identifier(field, value) if value else value


def text(
    field: str, value: str, *, required: bool = False, max_length: int = MAX_TEXT_LENGTH
) -> str:
    """One line of free text of at most `max_length` (default 256) characters, without
    control characters."""
    if required and not value.strip():
        raise InvalidArgument(f"{field} is required")
    if len(value) > max_length:
        raise InvalidArgument(f"{field} is longer than {max_length} characters")
    bad = _NOT_IN_A_LINE.search(value)
    if bad is not None:
        raise InvalidArgument(
            f"{field} may not contain control characters or line breaks; "
            f"found {bad.group()!r} at position {bad.start()}"
        )
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
            f"{listed(twice)} on one line"
        )


def refuse_nul(message: Message, data: bytes) -> None:
    """Refuses a message with a NUL (U+0000) in any string field, at any depth: PostgreSQL
    cannot store one, and no field of ours means one. `data` is the message's wire form."""
    # A string's bytes are on the wire as they are: with no 0x00 byte anywhere, no string can
    # hold a NUL. That search costs tens of nanoseconds; the walk, microseconds.
    if b"\x00" not in data:
        return
    path = nul_path(message)
    if path is not None:
        raise InvalidArgument(f"{path} may not contain a NUL character (U+0000)")


def nul_path(message: Message) -> str | None:
    """The path (e.g. `lines[0].reason`) of the first string in `message` that holds a NUL,
    looking into nested messages, repeated fields, map keys and values; None if none does."""
    for field, value in message.ListFields():
        for path, kind, item in _values(field, value):
            if kind.type == FieldDescriptor.TYPE_STRING and "\x00" in item:
                return path
            if kind.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE:
                inner = nul_path(item)
                if inner is not None:
                    return f"{path}.{inner}"
    return None


def _values(field: FieldDescriptor, value: Any) -> Iterator[tuple[str, FieldDescriptor, Any]]:
    """(path, descriptor, value) of each value a set field holds: itself, each item of a
    repeated field, the key and the value of each map entry."""
    entry = field.message_type
    if entry is not None and entry.GetOptions().map_entry:
        for key, item in value.items():
            here = f"{field.name}[{quoted(key) if isinstance(key, str) else key}]"
            yield here, entry.fields_by_name["key"], key
            yield here, entry.fields_by_name["value"], item
    elif field.is_repeated:
        for i, item in enumerate(value):
            yield f"{field.name}[{i}]", field, item
    else:
        yield field.name, field, value
