"""Amounts are kept in a currency's minor units (cents, or yen): how many decimals each
currency has, and an amount in a person's notation, for every client that shows money
(the console, the command line)."""

from __future__ import annotations

# ISO 4217 minor units that are not 2 (the rest of the world's currencies use cents).
_NO_DECIMALS = frozenset(
    ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV")
) | {"XAF", "XOF", "XPF"}
_THREE_DECIMALS = ("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND")
_MINOR_DIGITS = {**dict.fromkeys(_NO_DECIMALS, 0), **dict.fromkeys(_THREE_DECIMALS, 3)}


def digits(currency: str) -> int:
    return _MINOR_DIGITS.get(currency.upper(), 2)


def money(minor: int, currency: str) -> str:
    """4999, "USD" → "49.99 USD"; 500, "JPY" → "500 JPY"."""
    places = digits(currency)
    return f"{minor / 10**places:,.{places}f} {currency}"
