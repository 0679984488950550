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


@dataclass(frozen=True, slots=True)
class ReturnChanged:
    """The return as the transaction left it; what this receipt took in, and its refund."""

    rma: Return
    change: ReturnChange
    received: tuple[Received, ...] = ()
    refund: int = 0


Event = ReturnChanged
