"""Time and id helpers, so that every timestamp is UTC and every id has one shape."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    """A new unique id such as `res_0b9d…`; the prefix tells a person what it names."""
    return f"{prefix}_{random_hex()}"  # 128 random bits, as a uuid4 has 122


class _RandomPool:
    """Bytes from the operating system's random source (as `secrets` uses), read 4 KiB at a
    time: one system call serves 256 ids instead of one each (several per reservation)."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._pool = b""
        self._at = 0

    def take(self, count: int) -> bytes:
        with self._lock:
            if self._at + count > len(self._pool):
                self._pool, self._at = os.urandom(self._size), 0
            start, self._at = self._at, self._at + count
            return self._pool[start : self._at]

    def forget(self) -> None:
        """In a forked child: it must not hand out its parent's bytes again."""
        self._pool, self._at = b"", 0
        self._lock = threading.Lock()


_POOL = _RandomPool()
os.register_at_fork(after_in_child=_POOL.forget)


def random_hex(nbytes: int = 16) -> str:
    """`nbytes` random bytes as hex, e.g. for an id."""
    return _POOL.take(nbytes).hex()
