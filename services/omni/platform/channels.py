"""The sales channels, as every service's domain names them (the wire's are
omni.common.v1.Channel; omni.platform.wire converts)."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    WEB = "WEB"
    APP = "APP"
    POS = "POS"
    MARKETPLACE = "MARKETPLACE"
    CALL_CENTER = "CALL_CENTER"


class RejectionReason(StrEnum):
    """Why a store could not fill units given to it, which says how its stock is corrected
    (omni.common.v1.RejectionReason)."""

    NOT_IN_STOCK = "NOT_IN_STOCK"  # none there: on_hand of the SKU becomes zero
    MISMATCH = "MISMATCH"  # fewer there than counted: on_hand drops by the units
    DAMAGED = "DAMAGED"  # there but unsellable: moved to damaged
    NO_VARIANCE = "NO_VARIANCE"  # there and sellable: only released
