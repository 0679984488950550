"""Reserve and Allocate, decided many at a time in one transaction under row locks.

Availability is decided by the domain on levels this transaction holds locked
(SELECT ... FOR UPDATE in one key order), and the reservations are written in the same
transaction: no other writer on any replica can slip between the check and the write.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from omni.platform.clock import new_id, utcnow
from omni.platform.db import with_retries
from omni.platform.errors import FailedPrecondition, NotFound, OmniError
from omni.platform.origin import of_batch_item
from omni.platform.outbox import attribute
from omni.platform.validation import listed
from omni.stock.domain import book as ops
from omni.stock.domain import sourcing
from omni.stock.domain.commands import Allocate, Reserve
from omni.stock.domain.events import AllocationRejected, StockReserved
from omni.stock.domain.model import InsufficientStock, Location, Reservation, ShortLine
from omni.stock.domain.sourcing import Destination
from omni.stock.service_layer import idempotency
from omni.stock.service_layer.unit_of_work import Transaction, UnitOfWork

Request = Reserve | Allocate
Outcome = Reservation | OmniError
OPERATION = "reserve"  # Reserve and Allocate share one key space: both hold stock for a key.


async def reserve_many(
    uow: UnitOfWork, requests: list[Request], known_locations: set[str]
) -> list[Outcome]:
    """One outcome per request, in order: its reservation, or the error it alone caused.

    `known_locations` caches ids known to exist; locations are never deleted, so it only grows.
    """
    return await with_retries(lambda: _reserve_many(uow, requests, known_locations))


async def _reserve_many(uow: UnitOfWork, requests: list[Request], known: set[str]) -> list[Outcome]:
    outcomes: list[Outcome | None] = [None] * len(requests)
    async with uow.transaction() as tx:
        locations = await _sourcing_locations(tx, requests)
        known.update(locations)
        unknown = {loc for r in requests for loc in _named_locations(r)} - known
        if unknown:
            known.update(await tx.repo.locations(unknown))
        valid = [i for i, r in enumerate(requests) if not _record_unknown(i, r, known, outcomes)]
        # Each claim is saved with its success already (the usual outcome), so only a refusal
        # needs its result written afterwards.
        reservation_ids = {i: new_id("res") for i in valid}
        answers = await idempotency.claim(
            tx.conn,
            OPERATION,
            [(requests[i].idempotency_key, idempotency.request_hash(requests[i])) for i in valid],
            [{"reservation_id": reservation_ids[i]} for i in valid],
        )
        owned: list[int] = []
        replays: dict[int, dict[str, Any]] = {}
        for i, answer in zip(valid, answers, strict=True):
            if isinstance(answer, OmniError):
                outcomes[i] = answer
            elif answer.stored is not None:
                replays[i] = answer.stored
            elif valid[answer.first] == i:
                owned.append(i)
        book = ops.LevelBook(await tx.repo.lock_levels(*_keys_to_lock(requests, owned)))
        results: dict[str, dict[str, Any]] = {}
        for i in owned:
            raised = len(tx.events)
            outcomes[i], result = _decide(tx, book, requests[i], locations, reservation_ids[i])
            if not isinstance(outcomes[i], Reservation):
                results[_scoped(requests[i])] = result
            attribute(tx.events[raised:], of_batch_item(i))
        await tx.save_book(book)
        await tx.repo.add_reservations([o for o in outcomes if isinstance(o, Reservation)])
        await idempotency.store(tx.conn, results)
        await _load_replays(tx, replays, outcomes)
    return [_outcome_of(i, requests, outcomes) for i in range(len(requests))]


def _decide(
    tx: Transaction,
    book: ops.LevelBook,
    req: Request,
    locations: dict[str, Location],
    reservation_id: str,
) -> tuple[Outcome, dict[str, Any]]:
    now = utcnow()
    expires = now + timedelta(seconds=req.ttl_seconds) if req.ttl_seconds else None
    try:
        plan = _plan(book, req, locations)
        res = ops.reserve(
            book,
            reservation_id=reservation_id,
            reference=req.reference,
            lines=plan,
            now=now,
            expires_at=expires,
        )
    except InsufficientStock as short:
        if isinstance(req, Allocate):
            tx.record(AllocationRejected(req.reference, req.idempotency_key, short.lines))
        return short, {
            "short": [[s.sku, s.location_id, s.requested, s.available] for s in short.lines]
        }
    except FailedPrecondition as exc:  # e.g. the pickup store does not take pickup orders
        return exc, {"refused": exc.message}
    tx.record(StockReserved(res, req.idempotency_key))
    return res, {"reservation_id": res.id}


def _plan(book: ops.LevelBook, req: Request, locations: dict[str, Location]) -> ops.LevelPlan:
    if isinstance(req, Reserve):
        return ops.merge_lines(req.lines)

    def available(sku: str, location_id: str) -> int:
        return book.level(sku, location_id).available

    wanted: dict[str, int] = {}
    for sku, qty in req.lines:
        wanted[sku] = wanted.get(sku, 0) + qty
    if req.pickup_location_id:
        return sourcing.plan_pickup(locations[req.pickup_location_id], wanted, available)
    if req.near_location_id:
        near = locations[req.near_location_id]
        elsewhere = [loc for loc in locations.values() if loc.id != near.id]
        destination = Destination(near.region, near.latitude, near.longitude)
        return sourcing.plan_shipment(elsewhere, destination, wanted, available)
    assert req.ship_to is not None
    return sourcing.plan_shipment(list(locations.values()), req.ship_to, wanted, available)


async def _sourcing_locations(tx: Transaction, requests: list[Request]) -> dict[str, Location]:
    """What allocations need, read fresh (flags change): every location if any request ships,
    else the pickup stores named; nothing for a batch of plain reservations."""
    if any(isinstance(r, Allocate) and (r.ship_to or r.near_location_id) for r in requests):
        return await tx.repo.locations()
    stores = {r.pickup_location_id for r in requests if isinstance(r, Allocate)}
    return await tx.repo.locations(stores) if stores else {}


def _named_locations(req: Request) -> set[str]:
    if isinstance(req, Reserve):
        return {loc for _, loc, _ in req.lines}
    return {loc for loc in (req.pickup_location_id, req.near_location_id) if loc}


def _record_unknown(i: int, req: Request, known: set[str], outcomes: list[Outcome | None]) -> bool:
    missing = sorted(_named_locations(req) - known)
    if missing:
        outcomes[i] = NotFound(f"unknown location(s): {listed(missing, quote=False)}")
    return bool(missing)


def _keys_to_lock(requests: list[Request], owned: list[int]) -> tuple[set[ops.Key], set[str]]:
    keys: set[ops.Key] = set()
    any_location: set[str] = set()
    for i in owned:
        req = requests[i]
        if isinstance(req, Reserve):
            keys.update((sku, loc) for sku, loc, _ in req.lines)
        elif req.pickup_location_id:
            keys.update((sku, req.pickup_location_id) for sku, _ in req.lines)
        else:
            any_location.update(sku for sku, _ in req.lines)
    return keys, any_location


async def _load_replays(
    tx: Transaction, replays: dict[int, dict[str, Any]], outcomes: list[Outcome | None]
) -> None:
    ids = {s["reservation_id"] for s in replays.values() if "reservation_id" in s}
    found = await tx.repo.get_reservations(ids) if ids else {}
    for i, stored in replays.items():
        outcomes[i] = _replay(stored, found)


def _replay(stored: dict[str, Any], found: dict[str, Reservation]) -> Outcome:
    if "reservation_id" in stored:
        return found[stored["reservation_id"]]
    if "short" in stored:
        return InsufficientStock([ShortLine(*line) for line in stored["short"]])
    return FailedPrecondition(stored["refused"])


def _outcome_of(i: int, requests: list[Request], outcomes: list[Outcome | None]) -> Outcome:
    """A request that repeated a key earlier in the same batch shares that request's outcome."""
    if outcomes[i] is not None:
        return outcomes[i]  # type: ignore[return-value]
    key = _scoped(requests[i])
    first = next(j for j, r in enumerate(requests) if _scoped(r) == key and outcomes[j] is not None)
    return outcomes[first]  # type: ignore[return-value]


def _scoped(req: Request) -> str:
    return idempotency.scoped(OPERATION, req.idempotency_key)
