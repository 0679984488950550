"""What the returns service tells others: facts about returns (what it asks of other services
is in `outgoing`)."""

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
    CANCELLED = "cancelled"  # withdrawn before anything arrived
    EXCHANGE_ORDERED = "exchange_ordered"  # the replacement is to be placed (by orders)
    EXCHANGE_CONFIRMED = "exchange_confirmed"  # the replacement order is confirmed
    EXCHANGE_FAILED = "exchange_failed"  # no replacement, or an exchanged unit never came
    EXCHANGE_CANCELLED = "exchange_cancelled"  # the replacement order or the return cancelled
    EXCHANGE_UPDATED = "exchange_updated"  # units of the replacement cancelled: refunded


@dataclass(frozen=True, slots=True)
class ReturnChanged:
    """The return as the transaction left it; what this receipt took in; money now due to
    the customer (`refund`) or from them (`charge`), in minor units."""

    rma: Return
    change: ReturnChange
    received: tuple[Received, ...] = ()
    refund: int = 0
    charge: int = 0


Event = ReturnChanged
