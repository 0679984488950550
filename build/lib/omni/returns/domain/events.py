"""What the returns service tells others: facts about returns, and restocks for stock."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omni.returns.domain.model import Received, Return


class ReturnChange(StrEnum):
    """The `<type>` of `returns.events.<type>`."""

    AUTHORIZED = "authorized"
    RECEIVED = "received"
    REFUND_ISSUED = "refund_issued"


@dataclass(frozen=True, slots=True)
class ReturnChanged:
    """The return as the transaction left it; what this receipt took in, and its refund."""

    rma: Return
    change: ReturnChange
    received: tuple[Received, ...] = ()
    refund: int = 0


@dataclass(frozen=True, slots=True)
class RestockStock:
    """Units taken in at a location: (sku, quantity, damaged) per line."""

    location_id: str
    lines: tuple[tuple[str, int, bool], ...]
    idempotency_key: str
    reference: str


Event = ReturnChanged | RestockStock
