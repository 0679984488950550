"""One handler per returns command, each one transaction: load and lock, decide, save."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

from omni.platform.auth import Role, current_caller
from omni.platform.clock import new_id, utcnow
from omni.platform.errors import NotFound, OmniError, Unavailable
from omni.platform.idempotency import Saved, once
from omni.platform.unit_of_work import in_transaction
from omni.returns.domain import commands
from omni.returns.domain.model import (
    KnownLocation,
    KnownOrder,
    NotFulfilled,
    Override,
    ReplacementNews,
    Return,
    UnknownLocation,
    UnknownOrder,
)
from omni.returns.service_layer.unit_of_work import Transaction, UnitOfWork, keys

# Whether this service has read every location event published so far.
CaughtUp = Callable[[], Awaitable[bool]]
# The order as the orders service has it now (None: no such order); Unavailable if it cannot
# be asked.
FetchOrder = Callable[[str], Awaitable[KnownOrder | None]]


@in_transaction
async def learn_order(tx: Transaction, order: KnownOrder) -> None:
    """An order as one of its events told it; an older version than known changes nothing."""
    await tx.repo.learn_order(order)


@in_transaction
async def learn_location(tx: Transaction, location: KnownLocation) -> None:
    await tx.repo.learn_location(location)


async def create_return(
    uow: UnitOfWork,
    cmd: commands.CreateReturn,
    *,
    window: timedelta,
    fetch_order: FetchOrder,
    locations_caught_up: CaughtUp,
) -> Return:
    """Opens a return if every check passes, once per idempotency key.

    The read model may lag behind orders: an order it does not know, or a line it does not
    know as fulfilled, is asked of the orders service itself (over NATS) before refusing; if
    orders cannot answer, the refusal is UNAVAILABLE (retry), never final. An unknown location
    is final only once the locations consumer has nothing left to read.
    """
    caller = current_caller()
    caller.require_store(cmd.location_id)  # store staff open returns at their own store
    if cmd.override is not None:
        caller.require(Role.MANAGER, "overriding the return window")
        if caller.role is Role.MANAGER:  # recorded as who it really was
            cmd = replace(cmd, override=Override(caller.subject, cmd.override.reason))
    try:
        return await _create(uow, cmd, window)
    except UnknownLocation as refused:
        await _final_unless_lagging(refused, locations_caught_up)
        raise
    except (UnknownOrder, NotFulfilled):
        fresh = await fetch_order(cmd.order_id)  # the orders service's own answer
        if fresh is not None:
            await learn_order(uow, fresh)
    try:
        return await _create(uow, cmd, window)
    except UnknownLocation as refused:
        await _final_unless_lagging(refused, locations_caught_up)
        raise


async def _final_unless_lagging(refused: OmniError, caught_up: CaughtUp) -> None:
    if not await caught_up():
        raise Unavailable(
            f"{refused.message}, as far as returns has heard: it is still reading the latest "
            "events; retry in a moment"
        ) from refused


async def _opened_before(tx: Transaction, cmd: commands.CreateReturn, saved: Saved) -> Return:
    return await _get(tx, saved["return_id"])


@in_transaction
@once(keys, "return", saved=lambda rma: {"return_id": rma.id}, replay=_opened_before)
async def _create(tx: Transaction, cmd: commands.CreateReturn, window: timedelta) -> Return:
    location = await tx.repo.location(cmd.location_id)
    # Locked: one return at a time per order, so two cannot both take the last units.
    order = await tx.repo.order(cmd.order_id, lock=True)
    rma = Return.open(
        new_id("rma"),
        order_id=cmd.order_id,
        channel=cmd.channel,
        location_id=cmd.location_id,
        lines=cmd.lines,
        override=cmd.override,
        order=order,
        location=location,
        earlier=await tx.repo.for_order(cmd.order_id),
        now=utcnow(),
        window=window,
        exchange=cmd.exchange,
    )
    await tx.add(rma)
    return rma


@in_transaction
async def cancel_return(tx: Transaction, cmd: commands.CancelReturn) -> Return:
    """Withdrawn before anything arrived; cancelling twice is harmless."""
    rma = await _get(tx, cmd.return_id, lock=True)
    current_caller().require_store(rma.location_id)
    if rma.cancel(cmd.reason or "withdrawn", utcnow()):
        await tx.save(rma)
    return rma


@in_transaction
async def follow_replacement(tx: Transaction, cmd: commands.FollowReplacement) -> None:
    """An exchange's replacement order changed: confirmed, rejected or cancelled."""
    rma = await tx.repo.get(cmd.return_id, lock=True)
    if rma is None:
        return  # not this service's (or gone): nothing to follow
    news = ReplacementNews(
        cmd.order_id, cmd.version, cmd.state, dict(cmd.cancelled), dict(cmd.sent)
    )
    if rma.follow_replacement(news, utcnow()):
        await tx.save(rma)


@in_transaction
async def receive_return(tx: Transaction, cmd: commands.ReceiveReturn) -> Return:
    """Takes in what arrived; lines whose scan id was seen before are skipped."""
    rma = await _get(tx, cmd.return_id, lock=True)
    current_caller().require_store(rma.location_id)  # received where it is brought
    fresh = await tx.repo.fresh_scans(rma.id, [r.scan_id for r in cmd.received])
    received = [r for r in cmd.received if r.scan_id in fresh]
    if rma.receive(received, utcnow()):
        await tx.save(rma)
    return rma


async def _get(tx: Transaction, return_id: str, *, lock: bool = False) -> Return:
    rma = await tx.repo.get(return_id, lock=lock)
    if rma is None:
        raise NotFound(f"return {return_id} does not exist")
    return rma
