"""WatchAvailability: every replica follows the levels its watchers want over NATS.

A change committed through any replica is published (outbox) on
stock.availability.<location>.<sku>; each replica subscribes only to the keys its watchers
want, and hands each change to those watchers. A watcher keeps just the latest unsent level per
key: a slow reader costs memory bounded by its keys, skips intermediate versions, never slows
anyone else, and versions never go backwards.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError

from omni.platform.errors import Unavailable
from omni.platform.messaging import NatsLink
from omni.platform.streams import STOCK_EVENTS_PREFIX, availability_subject
from omni.platform.wire import CHANNELS_FROM_PROTO
from omni.stock import convert
from omni.stock.domain.channels import Channel, ChannelView
from omni.stock.domain.model import Location, StockLevel
from omni.stock.domain.purchasing import due_by
from omni.stock.service_layer import queries
from omni.stock.service_layer.unit_of_work import UnitOfWork
from omni.stock.v1 import messaging_pb2 as msg_pb
from omni.stock.v1 import stock_pb2 as pb

log = logging.getLogger(__name__)
Key = tuple[str, str]  # (sku, location_id)
CHANNEL_VIEWS_SUBJECT = STOCK_EVENTS_PREFIX + "channel_view_changed"


class Promises:
    """With a `by` time: what a watcher's keys, and its SKUs network-wide, may promise by then
    — each level's availability plus the supply due there by then (omni.stock.domain.purchasing
    .due_by), kept up to date as levels change; the supply is read again by the hub when a
    level's incoming units change."""

    def __init__(self, by: datetime) -> None:
        self.by = by
        self.due: dict[Key, int] = {}
        self.levels: dict[Key, pb.StockLevel] = {}
        self.sent: dict[Key, int] = {}
        self.network_sent: dict[str, int] = {}

    def set_due(self, skus: Iterable[str], due: dict[Key, int]) -> None:
        """What is now due by the time at each location of these SKUs."""
        wanted = set(skus)
        self.due = {k: v for k, v in self.due.items() if k[0] not in wanted} | due

    def incoming_changed(self, level: pb.StockLevel) -> bool:
        """Whether the supply due may have changed with this level (its incoming moved)."""
        known = self.levels.get((level.sku, level.location_id))
        return known is None or known.incoming != level.incoming

    def promised(self, level: pb.StockLevel, seen: Callable[[int, str], int]) -> int:
        due = self.due.get((level.sku, level.location_id), 0)
        held = StockLevel(
            level.sku,
            level.location_id,
            level.on_hand,
            level.reserved,
            level.safety_stock,
            incoming=level.incoming,
            backordered=level.backordered,
        )
        return seen(held.available_with(due), level.location_id)  # the domain's rule


class Watcher:
    """One client's view: per key it watches, the latest level not yet sent; per SKU, the
    network availability (over locations that ship) when it changed.

    With a channel, availability is as that channel sees it; a changed channel view changes it
    without a new version, so a level is sent again when either moved forward.
    """

    def __init__(
        self,
        skus: Iterable[str],
        location_ids: Iterable[str],
        view: ChannelView | None = None,
        places: dict[str, Location] | None = None,
        by: datetime | None = None,
    ) -> None:
        self.promises = Promises(by) if by is not None else None
        self._promised_pending: dict[Key, int] = {}
        self._network_promised_pending: dict[str, int] = {}
        self.skus = set(skus)
        self.location_ids = set(location_ids)  # empty: every location
        self.view = view
        self.places = places or {}
        self._sent: dict[Key, pb.StockLevel] = {}
        self._pending: dict[Key, pb.StockLevel] = {}
        self._shipping: dict[str, dict[str, pb.StockLevel]] = {s: {} for s in self.skus}
        self._network_sent: dict[str, int] = {}
        self._network_pending: dict[str, int] = {}
        self._ready = asyncio.Event()

    @property
    def channel(self) -> Channel | None:
        return self.view.channel if self.view else None

    def wants(self, sku: str, location_id: str) -> bool:
        return sku in self.skus and (not self.location_ids or location_id in self.location_ids)

    def offer(self, level: pb.StockLevel, *, as_seen: bool = False) -> None:
        """Takes a level of one of its SKUs (any location): keeps it if it is newer than what
        was sent or waits for its key, and counts it towards network availability.

        `as_seen`: its `available` is already as this watcher's channel sees it.
        """
        if level.sku not in self.skus:
            return
        if self.promises is not None:
            self._promise(level)
        if self.view is not None and not as_seen:
            level = self._as_seen(level)
        self._count_for_network(level)
        key = (level.sku, level.location_id)
        if self.wants(*key) and _moved_on(level, self._pending.get(key) or self._sent.get(key)):
            self._pending[key] = level
            self._ready.set()

    def settle_network(self) -> None:
        """Queues each SKU's network availability that differs from what was sent (all of
        them, the first time)."""
        for sku, levels in self._shipping.items():
            total = sum(lv.available for lv in levels.values())
            if total != self._network_sent.get(sku):
                self._network_pending[sku] = total
                self._ready.set()

    def _count_for_network(self, level: pb.StockLevel) -> None:
        place = self.places.get(level.location_id)
        if place is None or not place.ships:
            return
        known = self._shipping[level.sku]
        if _moved_on(level, known.get(level.location_id)):
            known[level.location_id] = level
            if self._network_sent or self._network_pending:  # after the first values
                self.settle_network()

    def _promise(self, level: pb.StockLevel) -> None:
        """Takes a level (as stored, not as a channel sees it) into what may be promised."""
        promises = self.promises
        assert promises is not None
        key = (level.sku, level.location_id)
        known = promises.levels.get(key)
        if known is not None and known.version > level.version:
            return
        promises.levels[key] = level
        self.repromise(level.sku)

    def repromise(self, sku: str) -> None:
        """Queues what changed in the SKU's promises (after a level, or the supply due)."""
        promises = self.promises
        assert promises is not None
        network = 0
        for (each, location_id), level in promises.levels.items():
            if each != sku:
                continue
            units = promises.promised(level, self._seen)
            place = self.places.get(location_id)
            if place is not None and place.ships:
                network += units
            if self.wants(sku, location_id) and units != promises.sent.get((sku, location_id)):
                self._promised_pending[(sku, location_id)] = units
                self._ready.set()
        if network != promises.network_sent.get(sku):
            self._network_promised_pending[sku] = network
            self._ready.set()

    def _seen(self, units: int, location_id: str) -> int:
        if self.view is None:
            return units
        place = self.places.get(location_id)
        return self.view.available(units, place.kind if place else None)

    def _as_seen(self, level: pb.StockLevel) -> pb.StockLevel:
        assert self.view is not None
        place = self.places.get(level.location_id)
        seen = pb.StockLevel()
        seen.CopyFrom(level)
        seen.available = self.view.available(level.available, place.kind if place else None)
        return seen

    @property
    def waiting(self) -> int:
        """Updates held for this watcher: never more than twice its keys plus its SKUs."""
        return (
            len(self._pending)
            + len(self._network_pending)
            + len(self._promised_pending)
            + len(self._network_promised_pending)
        )

    async def updates(self) -> AsyncIterator[pb.WatchAvailabilityResponse]:
        """Each key's newest level, then changed network availabilities, as the reader is
        ready for them."""
        while True:
            await self._ready.wait()
            self._ready.clear()
            batch, self._pending = self._pending, {}
            networks, self._network_pending = self._network_pending, {}
            for key, level in batch.items():
                if _moved_on(level, self._sent.get(key)):
                    self._sent[key] = level
                    yield pb.WatchAvailabilityResponse(level=level)
            for sku, total in networks.items():
                if total != self._network_sent.get(sku):
                    self._network_sent[sku] = total
                    network = pb.NetworkAvailability(sku=sku, available=total)
                    yield pb.WatchAvailabilityResponse(network=network)
            if self.promises is not None:
                async for update in self._promised_updates(self.promises):
                    yield update

    async def _promised_updates(
        self, promises: Promises
    ) -> AsyncIterator[pb.WatchAvailabilityResponse]:
        keys, self._promised_pending = self._promised_pending, {}
        networks, self._network_promised_pending = self._network_promised_pending, {}
        for (sku, location_id), units in keys.items():
            if units != promises.sent.get((sku, location_id)):
                promises.sent[(sku, location_id)] = units
                promised = pb.PromisedAvailability(
                    sku=sku, location_id=location_id, available=units
                )
                yield pb.WatchAvailabilityResponse(promised=promised)
        for sku, units in networks.items():
            if units != promises.network_sent.get(sku):
                promises.network_sent[sku] = units
                network = pb.NetworkAvailability(sku=sku, available=units)
                yield pb.WatchAvailabilityResponse(network_promised=network)


def _moved_on(level: pb.StockLevel, last: pb.StockLevel | None) -> bool:
    """Newer than `last`: a later version, or the same version seen differently (channel)."""
    if last is None or level.version > last.version:
        return True
    return level.version == last.version and level.available != last.available


class AvailabilityHub:
    """This replica's watchers and the NATS subscriptions they need (counted, shared)."""

    def __init__(self, link: NatsLink, uow: UnitOfWork) -> None:
        self._link = link
        self._uow = uow
        self._watchers: set[Watcher] = set()
        self._subscriptions: dict[str, tuple[Subscription, int]] = {}

    @property
    def watchers(self) -> int:
        """Open WatchAvailability streams on this replica."""
        return len(self._watchers)

    @property
    def most_waiting(self) -> int:
        """The most levels held for one watcher (bounded by that watcher's keys)."""
        return max((w.waiting for w in self._watchers), default=0)

    async def watch(
        self,
        skus: list[str],
        location_ids: list[str],
        channel: Channel | None = None,
        by: datetime | None = None,
    ) -> AsyncIterator[pb.WatchAvailabilityResponse]:
        """The current levels first, then every change, for as long as the caller reads."""
        if not self._link.connected():
            raise Unavailable("availability updates are unavailable (NATS is unreachable)")
        view = ChannelView(channel) if channel else None
        watcher = Watcher(skus, location_ids, view, by=by)
        # Every location of each SKU: network availability counts those the watcher did not ask for.
        subjects = sorted({availability_subject("*", sku) for sku in skus})
        if channel:  # a changed view must reach this watcher even when no level changes
            subjects.append(CHANNEL_VIEWS_SUBJECT)
        # Subscribe before reading the snapshot, so that no change falls between the two.
        self._watchers.add(watcher)
        taken: list[str] = []
        try:
            await self._subscribe(subjects, taken)
            await self._snapshot(watcher)
            async for update in watcher.updates():
                yield update
        finally:
            self._watchers.discard(watcher)
            await self._unsubscribe(taken)

    async def resync(self) -> None:
        """After NATS was away (changes may have been missed): current levels from the database."""
        for watcher in list(self._watchers):
            await self._snapshot(watcher)

    async def _snapshot(self, watcher: Watcher) -> None:
        """Offers the watcher the current levels of its SKUs everywhere (and, with a channel,
        its current view); then its network availabilities."""
        watcher.places = {loc.id: loc for loc, _ in await queries.list_locations(self._uow)}
        if watcher.channel is not None:
            async with self._uow.reader() as repo:
                watcher.view = await queries.channel_view(repo, watcher.channel)
        skus = sorted(watcher.skus)
        view = await queries.availability(self._uow, skus, [], watcher.channel)
        found = {(lv.sku, lv.location_id) for lv, _ in view.levels}
        missing = [
            (StockLevel(s, loc), 0)
            for s in skus
            for loc in sorted(watcher.location_ids)
            if (s, loc) not in found
        ]
        promises = watcher.promises
        if promises is not None:
            promises.set_due(skus, await self._due(promises.by, skus))
        # No await from here on: the levels and what is due are taken in together.
        for level, seen in [*view.levels, *missing]:
            watcher.offer(convert.level_to_proto(level, seen), as_seen=True)
        watcher.settle_network()
        if promises is not None:
            for sku in skus:
                watcher.repromise(sku)

    async def _due(self, by: datetime, skus: list[str]) -> dict[Key, int]:
        """What is due by `by` at each location of these SKUs, read afresh."""
        async with self._uow.reader() as repo:
            return due_by(await repo.supply(skus), by)

    async def _on_change(self, msg: Msg) -> None:
        try:
            if msg.subject == CHANNEL_VIEWS_SUBJECT:
                changed = msg_pb.ChannelViewChanged.FromString(msg.data).view
                channel = CHANNELS_FROM_PROTO.get(changed.channel)
                for watcher in [w for w in self._watchers if w.channel == channel]:
                    await self._snapshot(watcher)
                return
            level = msg_pb.StockLevelChanged.FromString(msg.data).level
        except DecodeError:
            log.warning("ignoring an undecodable message on %s", msg.subject)
            return
        for watcher in list(self._watchers):
            promises = watcher.promises
            if promises is not None and promises.incoming_changed(level):
                # Its supply moved: what is due is read again, then taken in with the level.
                promises.set_due([level.sku], await self._due(promises.by, [level.sku]))
            watcher.offer(level)

    async def _subscribe(self, subjects: list[str], taken: list[str]) -> None:
        """Subscribes (shared between watchers); `taken` collects what to give back."""
        assert self._link.nc is not None
        new = False
        for subject in subjects:
            sub, count = self._subscriptions.get(subject, (None, 0))
            if sub is None:
                sub, new = await self._link.nc.subscribe(subject, cb=self._on_change), True
            self._subscriptions[subject] = (sub, count + 1)
            taken.append(subject)
        if new:
            await self._subscribed()

    async def _subscribed(self) -> None:
        """subscribe() only queues the SUB; a change published before NATS has it would be
        lost between a watcher's snapshot and its first update. A round trip makes sure
        NATS has it before the snapshot is read."""
        assert self._link.nc is not None
        try:
            await self._link.nc.flush(timeout=2)
        except (NatsError, TimeoutError) as exc:
            raise Unavailable("availability updates are unavailable (NATS did not answer)") from exc

    async def _unsubscribe(self, subjects: list[str]) -> None:
        for subject in subjects:
            sub, count = self._subscriptions[subject]
            if count > 1:
                self._subscriptions[subject] = (sub, count - 1)
                continue
            del self._subscriptions[subject]
            try:
                await sub.unsubscribe()
            except Exception as exc:  # the connection is closing: nothing to release
                log.debug("unsubscribe %s: %s", subject, exc)
