"""Reserve and Allocate, decided many at a time in one transaction under row locks.

Availability is decided by the domain on levels this transaction holds locked
(SELECT ... FOR UPDATE in one key order), and the reservations are written in the same
transaction: no other writer on any replica can slip between the check and the write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple, dataclass, field
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
from omni.stock.domain.sourcing import Destination, SourcingRule
from omni.stock.domain.transfers import Transfer, bring_to
from omni.stock.service_layer.unit_of_work import Transaction, keys

Request = Reserve | Allocate
Policies = dict[tuple[str, str], PresalePolicy]  # by (channel, sku)
Outcome = Reservation | OmniError
Moves = list[tuple[Transfer, Reservation]]  # transfers made for allocations, with their holds


@dataclass
class Sourcing:
    """What sourcing ship orders needs beyond the levels: the channels' sourcing rules, the
    ship orders given today to the locations with a daily capacity (their rows locked in this
    transaction), and the places this batch's allocations took."""

    day: str
    taken: dict[str, int] = field(default_factory=dict)
    rules: dict[str, list[SourcingRule]] = field(default_factory=dict)  # by channel
    charges: list[tuple[str, str, str]] = field(default_factory=list)  # (reservation, loc, day)

    def takes(self, loc: Location) -> bool:
        return loc.takes_ship_orders(self.taken.get(loc.id, 0))

    def charge(
        self, reservation_id: str, sources: set[str], locations: dict[str, Location]
    ) -> None:
        for loc in sorted(sources):
            if locations[loc].daily_capacity is not None:
                self.taken[loc] = self.taken.get(loc, 0) + 1
                self.charges.append((reservation_id, loc, self.day))


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
    load = await _daily_load(tx, requests, batch.todo, locations)
    load.rules = await _sourcing_rules(tx, requests, batch.todo)  # after the levels' locks
    made: list[Reservation] = []
    moves: Moves = []
    for i in batch.todo:
        with batch.serving(i, book.events):
            try:
                reserved = _reserve(
                    book, requests[i], locations, reservation_ids[i], policies, moves, load
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
    if load.charges:
        await tx.repo.save_load(load.day, {loc: load.taken[loc] for _, loc, _ in load.charges})
        await tx.repo.add_charges(load.charges)
    await _replay(tx, batch)
    return await batch.finish(tx.conn)


def _reserve(
    book: ops.LevelBook,
    req: Request,
    locations: dict[str, Location],
    reservation_id: str,
    policies: Policies,
    moves: Moves,
    load: Sourcing,
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
    # Ship orders go only where a location takes more today (omni.stock.domain.model.Location).
    rules = load.rules.get(req.channel.value, []) if req.channel else []
    named = {req.pickup_location_id, req.near_location_id}
    open_ = {
        k: loc
        for k, loc in locations.items()
        if k in named or (k not in req.excluded and load.takes(loc))
    }
    made = ops.allocate(
        book,
        reservation_id=reservation_id,
        reference=req.reference,
        key=req.idempotency_key,
        source=lambda: _source(book, req, open_, rules),
        now=now,
        expires_at=expires_at,
        # Units brought by transfer are on a shelf elsewhere, never sold ahead.
        presell=None if req.by_transfer else _presell(book, req, open_, policies, rules),
        channel=req.channel.value if req.channel else "",
        hold=_by_transfer(book, req, reservation_id, moves) if req.by_transfer else None,
    )
    if not req.pickup_location_id:
        sources = {line.location_id for line in made.lines}
        if req.by_transfer:  # the places are taken where the transfers leave
            sources = {t.origin_id for t, _ in moves if t.for_reservation_id == made.id}
        load.charge(made.id, sources, locations)
    return made


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


async def _sourcing_rules(
    tx: Transaction, requests: list[Request], todo: list[int]
) -> dict[str, list[SourcingRule]]:
    """The sourcing rules of the channels the batch's ship orders come from."""
    channels = {
        req.channel.value
        for i in todo
        if isinstance(req := requests[i], Allocate)
        and req.channel is not None
        and not req.pickup_location_id
    }
    return await tx.repo.sourcing_rules(channels) if channels else {}


async def _daily_load(
    tx: Transaction, requests: list[Request], todo: list[int], locations: dict[str, Location]
) -> Sourcing:
    """Today's load of the locations with a daily capacity, locked, if the batch ships."""
    load = Sourcing(utcnow().date().isoformat())
    ships = any(
        isinstance(req := requests[i], Allocate) and not req.pickup_location_id for i in todo
    )
    limited = [loc.id for loc in locations.values() if loc.daily_capacity is not None]
    if ships and limited:
        load.taken = await tx.repo.lock_load(limited, load.day)
    return load


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


def _source(
    book: ops.LevelBook,
    req: Allocate,
    locations: dict[str, Location],
    rules: list[SourcingRule],
) -> ops.LevelPlan:
    """Where the units come from: the pickup store; else the channel's sourcing rules, in
    order, if it has any; else the default sourcing."""

    def available(sku: str, location_id: str) -> int:
        return book.level(sku, location_id).available

    wanted: dict[str, int] = {}
    for sku, qty in req.lines:
        wanted[sku] = wanted.get(sku, 0) + qty
    if req.pickup_location_id:
        return sourcing.plan_pickup(locations[req.pickup_location_id], wanted, available)
    if req.near_location_id:
        near = locations[req.near_location_id]
        places = [loc for loc in locations.values() if loc.id != near.id]
        destination = Destination(near.region, near.latitude, near.longitude)
    else:
        assert req.ship_to is not None
        places, destination = list(locations.values()), req.ship_to
    if rules:
        return sourcing.plan_by_rules(rules, places, destination, wanted, available)
    return sourcing.plan_shipment(places, destination, wanted, available)


def _presell(
    book: ops.LevelBook,
    req: Allocate,
    locations: dict[str, Location],
    policies: Policies,
    rules: list[SourcingRule],
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

        def presell(candidates: list[Location], short_at: str = "") -> ops.Presold:
            return sourcing.plan_presale(
                candidates,
                wanted,
                lambda sku, loc: book.level(sku, loc).available,
                lambda sku, loc: book.level(sku, loc).presellable,
                room,
                short_at,
            )

        if req.pickup_location_id:
            store = locations[req.pickup_location_id]
            return presell([store], store.id)
        near = locations.get(req.near_location_id)
        places = [loc for loc in locations.values() if loc.ships and loc is not near]
        to = req.ship_to or Destination(near.region, near.latitude, near.longitude)  # type: ignore[union-attr]
        if rules:  # rule by rule, as the shelf alone was sourced
            return sourcing.by_rules(
                rules,
                places,
                to,
                wanted,
                lambda admitted: presell(sourcing.rank(admitted, to)),
                lambda presold: presold[0],
            )
        return presell(sourcing.rank(places, to))

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
