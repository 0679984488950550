"""What every `omni` command shares: its one-line errors, CSV files of lines, parts of a large
file sent with a progress bar, and output that piping never cuts short."""

from __future__ import annotations

import csv
import hashlib
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp
from rich.console import Console

PART = 200  # lines per request (the API's limit)
L = TypeVar("L")


class CliError(Exception):
    """A mistake in what was typed: shown as one line."""


def out() -> Console:
    """Standard output; piped into a file or another program, lines are never cut short."""
    return Console() if sys.stdout.isatty() else Console(width=1000)


def rows(path: Path, columns: int) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each data line of a CSV file; a first line naming the
    columns (its second cell not a number) is skipped."""
    try:
        with path.open(newline="", encoding="utf-8") as f:
            for number, cells in enumerate(csv.reader(f), start=1):
                cells = [c.strip() for c in cells]
                if not any(cells):
                    continue
                if len(cells) < columns:
                    raise CliError(f"{path}:{number}: expected {columns} columns, got {len(cells)}")
                if number == 1 and not cells[1].lstrip("-").isdecimal():
                    continue  # the header
                yield number, cells
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CliError(f"cannot read {path}: {exc}") from None


def quantity(where: str, text: str, *, zero: bool = False) -> int:
    """A whole number of units from a cell or a flag (above 0, unless `zero` may be given);
    `where` names it in the error (`file.csv:3`, `--quantity`)."""
    if not text.isdecimal() or len(text) > 9 or (int(text) == 0 and not zero):
        least = 0 if zero else 1
        raise CliError(f"{where}: units must be a whole number from {least}: {text!r}")
    return int(text)


def moment(where: str, text: str) -> datetime:
    """A date (YYYY-MM-DD, taken as UTC midnight) or a full ISO time."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"{where}: {text!r} is not a date (YYYY-MM-DD)") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def key_for(what: str, target: str, path: Path) -> str:
    """An idempotency key for sending a file's lines to a target: the same file to the same
    target gives the same key (and fits the 64 characters a key may have)."""
    content = hashlib.sha256(path.read_bytes()).hexdigest()
    mixed = hashlib.sha256(f"{what}\x00{target}\x00{content}".encode()).hexdigest()
    return f"cli-{what}-{mixed[:32]}"


def parts(lines: list[L]) -> list[list[L]]:
    """A large file's lines in parts the API takes in one request."""
    return [lines[i : i + PART] for i in range(0, len(lines), PART)]


def when(stamp: Timestamp) -> str:
    """A time as a person reads it (UTC, to the minute); "-" when not set."""
    if not stamp.seconds and not stamp.nanos:
        return "-"
    return stamp.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M")


def choices(enum: Any, prefix: str) -> list[str]:
    """A proto enum's values as a flag takes them: lower case, without `prefix`, without the
    first (UNSPECIFIED)."""
    return [value.name.removeprefix(prefix).lower() for value in enum.DESCRIPTOR.values][1:]


def page_size(limit: int) -> int:
    """--limit as a list call takes it: 1 to 500."""
    if not 1 <= limit <= 500:
        raise CliError("--limit: a whole number from 1 to 500")
    return limit
