"""What callers ask of the returns service, checked and free of wire types."""

from __future__ import annotations

from dataclasses import dataclass

from omni.platform.fingerprints import added
from omni.returns.domain.model import ExchangeAsked, Override, Received, ReplacementState


@dataclass(frozen=True, slots=True)
class CreateReturn:
    idempotency_key: str
    order_id: str
    channel: str
    lines: tuple[tuple[str, int, str], ...]  # (sku, quantity, reason)
    location_id: str
    override: Override | None = None
    exchange: ExchangeAsked | None = added(None)  # noqa: RUF009 (a dataclasses.field)


@dataclass(frozen=True, slots=True)
class ReceiveReturn:
    return_id: str
    received: tuple[Received, ...]


@dataclass(frozen=True, slots=True)
class CancelReturn:
    return_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class FollowReplacement:
    """The replacement order of an exchange, as one of its events told it."""

    return_id: str
    order_id: str
    version: int
    state: ReplacementState
    cancelled: tuple[tuple[str, int], ...] = ()  # (sku, units cancelled) of the replacement
    sent: tuple[tuple[str, int], ...] = ()  # (sku, units that left) of the replacement


@dataclass(frozen=True, slots=True)
class ListReturns:
    order_id: str = ""
    customer_id: str = ""
    location_id: str = ""
    status: str = ""
    page_size: int = 50
    page_token: str = ""
