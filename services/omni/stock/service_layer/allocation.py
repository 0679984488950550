"""Reserve and Allocate, decided many at a time in one transaction under row locks.

Availability is decided by the domain on levels this transaction holds locked
(SELECT ... FOR UPDATE in one key order), and the reservations are written in the same
transaction: no other writer on any replica can slip between the check and the write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple
from datetime import timedelta

from omni.platform.clock import new_id, utcnow
from omni.platform.errors import FailedPrecondition, NotFound, OmniError
from omni.platform.idempotency import KeyedBatch, request_hash
from omni.platform.unit_of_work import in_transaction
from omni.platform.validation import listed
from omni.stock.domain import book as ops
from omni.stock.domain import sourcing
from omni.stock.domain.commands import Allocate, Reserve
from omni.stock.domain.model import InsufficientStock, Location, Reservation, ShortLine
from omni.stock.domain.presale import PresalePolicy, due_through
from omni.stock.domain.sourcing import Destination
from omni.stock.domain.transfers import Transfer, bring_to
from omni.stock.service_layer.unit_of_work import Transaction, keys

Request = Reserve | Allocate
Policies = dict[tuple[str, str], PresalePolicy]  # by (channel, sku)
Outcome = Reservation | OmniError
Moves = list[tuple[Transfer, Reservation]]  # transfers made for allocations, with their holds
OPERATION = "reserve"  # Reserve and Allocate share one key space: both hold stock for a key.


@in_transaction
async def reserve_many(tx: Transaction, requests: list[Request], known: set[str]) -> list[Outcome]:
    """One outcome per request, in order: its reservation, or the error it alone caused.

    `known` caches location ids known to exist; locations are never deleted, so it only grows.
    """
    batch: KeyedBatch[Reservation] = KeyedBatch(
        keys, OPERATION, [(r.idempotency_key, request_hash(r)) for r in requests]
    )
    locations = await _sourcing_locations(tx, requests)
    known.update(locations)
    unknown = {loc for r in requests for loc in _named_locations(r)} - known
    if unknown:
        known.update(await tx.repo.locations(unknown))
    for i, req in enumerate(requests):
        if missing := sorted(_named_locations(req) - known):
            batch.refuse(i, NotFound(f"unknown location(s): {listed(missing, quote=False)}"))
    # Each claim is saved with its success already (the usual outcome), so only a refusal
    # needs its result written afterwards.
    reservation_ids = {i: new_id("res") for i in range(len(requests))}
    await batch.claim(tx.conn, lambda i: {"reservation_id": reservation_ids[i]})
    await _ensure_destinations(tx, requests, batch.todo)
    book = ops.LevelBook(await tx.repo.lock_levels(*_keys_to_lock(requests, batch.todo)))
    policies = await _presale_policies(tx, requests, batch.todo)
    made: list[Reservation] = []
    moves: Moves = []
    for i in batch.todo:
        with batch.serving(i, book.events):
            try:
                reserved = _reserve(
                    book, requests[i], locations, reservation_ids[i], policies, moves
                )
                made.append(reserved)
                batch.decided(i, made[-1])
            except InsufficientStock as short:
                batch.decided(i, short, {"short": [list(astuple(s)) for s in short.lines]})
            except FailedPrecondition as exc:  # e.g. the pickup store takes no pickups
                batch.decided(i, exc, {"refused": exc.message})
    brought = {transfer.for_reservation_id for transfer, _ in moves}  # undated: by transfer
    await _date_backorders(tx, book, [r for r in made if r.id not in brought])
    await tx.save_book(book)
    await tx.repo.add_reservations(made + [held for _, held in moves])
    await tx.add_transfers([transfer for transfer, _ in moves])
    await _replay(tx, batch)
    return await batch.finish(tx.conn)


def _reserve(
    book: ops.LevelBook,
    req: Request,
    locations: dict[str, Location],
    reservation_id: str,
    policies: Policies,
    moves: Moves,
) -> Reservation:
    now = utcnow()
    expires_at = now + timedelta(seconds=req.ttl_seconds) if req.ttl_seconds else None
    if isinstance(req, Reserve):
        return ops.reserve(
            book,
            reservation_id=reservation_id,
            reference=req.reference,
            key=req.idempotency_key,
            lines=ops.merge_lines(req.lines),
            now=now,
            expires_at=expires_at,
        )
    return ops.allocate(
        book,
        reservation_id=reservation_id,
        reference=req.reference,
        key=req.idempotency_key,
        source=lambda: _source(book, req, locations),
        now=now,
        expires_at=expires_at,
        # Units brought by transfer are on a shelf elsewhere, never sold ahead.
        presell=None if req.by_transfer else _presell(book, req, locations, policies),
        channel=req.channel.value if req.channel else "",
        hold=_by_transfer(book, req, reservation_id, moves) if req.by_transfer else None,
    )


def _by_transfer(
    book: ops.LevelBook, req: Allocate, reservation_id: str, moves: Moves
) -> Callable[[ops.LevelPlan], Reservation]:
    """Holds the planned units for the customer at the near location: brought by transfer."""

    def hold(plan: ops.LevelPlan) -> Reservation:
        order, made = bring_to(
            book,
            plan,
            destination_id=req.near_location_id,
            reservation_id=reservation_id,
            reference=req.reference,
            key=req.idempotency_key,
            now=utcnow(),
            new_id=new_id,
        )
        moves.extend(made)
        return order

    return hold


async def _ensure_destinations(tx: Transaction, requests: list[Request], todo: list[int]) -> None:
    """Levels where units brought by transfer will wait, created at zero if new."""
    wanted = {
        (sku, req.near_location_id)
        for i in todo
        if isinstance(req := requests[i], Allocate) and req.by_transfer
        for sku, _ in req.lines
    }
    if wanted:
        await tx.repo.ensure_levels(wanted)


def _source(book: ops.LevelBook, req: Allocate, locations: dict[str, Location]) -> ops.LevelPlan:
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


def _presell(
    book: ops.LevelBook, req: Allocate, locations: dict[str, Location], policies: Policies
) -> Callable[[], ops.Presold] | None:
    """How the order's lines may be sold against supply on its way, if its channel may sell
    any of them ahead (omni.stock.domain.presale); else None."""
    if req.channel is None:
        return None
    channel = req.channel.value

    def room(sku: str) -> int | None:
        policy = policies.get((channel, sku))
        if policy is None or policy.room == 0:
            return 0
        sold = book.waiting.get((channel, sku), 0)  # by this batch so far
        return None if policy.room is None else max(0, policy.room - sold)

    if not any(room(sku) != 0 for sku, _ in req.lines):
        return None

    def plan() -> ops.Presold:
        wanted: dict[str, int] = {}
        for sku, qty in req.lines:
            wanted[sku] = wanted.get(sku, 0) + qty
        if req.pickup_location_id:
            store = locations[req.pickup_location_id]
            candidates, short_at = [store], store.id
        else:
            near = locations.get(req.near_location_id)
            places = [loc for loc in locations.values() if loc.ships and loc is not near]
            to = req.ship_to or Destination(near.region, near.latitude, near.longitude)  # type: ignore[union-attr]
            candidates, short_at = sourcing.rank(places, to), ""
        return sourcing.plan_presale(
            candidates,
            wanted,
            lambda sku, loc: book.level(sku, loc).available,
            lambda sku, loc: book.level(sku, loc).presellable,
            room,
            short_at,
        )

    return plan


async def _date_backorders(tx: Transaction, book: ops.LevelBook, made: list[Reservation]) -> None:
    """Lines sold ahead are due when the supply covers them. Those made in this batch are the
    newest waiting at their level, in the order they were made: each is covered once the
    units before it in the queue, and its own, are."""
    waiting = [line for res in made for line in res.lines if line.waiting]
    if not waiting:
        return
    supply = await tx.repo.supply({line.sku for line in waiting})
    ahead: dict[ops.Key, int] = {}  # units queued before the batch's next line, per level
    for line in waiting:
        key = (line.sku, line.location_id)
        level = book.level(*key)
        if key not in ahead:
            ahead[key] = level.backordered - sum(
                ln.waiting for ln in waiting if (ln.sku, ln.location_id) == key
            )
        ahead[key] += line.waiting
        line.expected_at = due_through(level, supply, ahead[key])


async def _presale_policies(tx: Transaction, requests: list[Request], todo: list[int]) -> Policies:
    """The presale policies the batch's allocations may sell under, locked: the units each
    lets wait are counted in this transaction."""
    wanted = {
        (req.channel.value, sku)
        for i in todo
        if isinstance(req := requests[i], Allocate) and req.channel is not None
        for sku, _ in req.lines
    }
    return await tx.repo.presale_policies(wanted, lock=True) if wanted else {}


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


def _keys_to_lock(requests: list[Request], todo: list[int]) -> tuple[set[ops.Key], set[str]]:
    keys: set[ops.Key] = set()
    any_location: set[str] = set()
    for i in todo:
        req = requests[i]
        if isinstance(req, Reserve):
            keys.update((sku, loc) for sku, loc, _ in req.lines)
        elif req.pickup_location_id:
            keys.update((sku, req.pickup_location_id) for sku, _ in req.lines)
        else:
            any_location.update(sku for sku, _ in req.lines)
    return keys, any_location


async def _replay(tx: Transaction, batch: KeyedBatch[Reservation]) -> None:
    """Requests done before answer as they were decided: a reservation as it is now."""
    ids = {saved["reservation_id"] for saved in batch.replays.values() if "reservation_id" in saved}
    found = await tx.repo.get_reservations(ids) if ids else {}
    for i, saved in batch.replays.items():
        if "reservation_id" in saved:
            batch.replayed(i, found[saved["reservation_id"]])
        elif "short" in saved:
            batch.replayed(i, InsufficientStock([ShortLine(*line) for line in saved["short"]]))
        else:
            batch.replayed(i, FailedPrecondition(saved["refused"]))
