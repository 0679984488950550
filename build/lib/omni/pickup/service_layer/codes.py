"""Pickup codes: short and typeable, drawn at random, kept only as a slow salted hash, and
sealed (encrypted) for the notification system that tells the customer."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken

# No 0/O, 1/I/L: nothing a customer can misread. 31**8 ≈ 8.5e11 codes; with five tries
# before a lock, a guess succeeds about once in 1.7e11 attempts.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 8
# scrypt: tens of milliseconds per check, so a stolen table is not a list of codes.
_N, _R, _P = 2**14, 8, 1


def new_code() -> str:
    """A fresh code, shown as XXXX-XXXX."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalize(code: str) -> str:
    """What the customer typed, as the code was issued: case, spaces and dashes ignored."""
    return "".join(c for c in code.upper() if c not in " -")


def _scrypt(code: str, salt: bytes) -> bytes:
    return hashlib.scrypt(normalize(code).encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)


async def hash_code(code: str) -> str:
    salt = secrets.token_bytes(16)
    digest = await asyncio.to_thread(_scrypt, code, salt)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


async def matches(code: str, stored: str) -> bool:
    """Whether `code` is the one `stored` was made from (in constant time)."""
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt" or len(normalize(code)) != LENGTH:
        return False
    actual = await asyncio.to_thread(_scrypt, code, base64.b64decode(salt))
    return hmac.compare_digest(actual, base64.b64decode(digest))


class Sealer:
    """Encrypts codes for the notification system, which holds the same key."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def seal(self, code: str) -> str:
        return self._fernet.encrypt(code.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("not a code sealed with this key") from exc
