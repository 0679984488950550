"""What the returns service asks other services to do (durable commands), kept apart from its
own events."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RestockStock:
    """Units taken in at a location: (sku, quantity, damaged) per line."""

    location_id: str
    lines: tuple[tuple[str, int, bool], ...]
    idempotency_key: str
    reference: str


Command = RestockStock
