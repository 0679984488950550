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
from collections.abc import AsyncIterator, Iterable

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from omni.platform.errors import Unavailable
from omni.platform.messaging import NatsLink
from omni.stock import convert
from omni.stock.adapters.events import availability_subject
from omni.stock.domain.model import StockLevel
from omni.stock.service_layer import queries
from omni.stock.service_layer.unit_of_work import UnitOfWork
from omni.stock.v1 import messaging_pb2 as msg_pb
from omni.stock.v1 import stock_pb2 as pb

log = logging.getLogger(__name__)
Key = tuple[str, str]  # (sku, location_id)


class Watcher:
    """One client's view: the latest level not yet sent, per key it watches."""

    def __init__(self, skus: Iterable[str], location_ids: Iterable[str]) -> None:
        self.skus = set(skus)
        self.location_ids = set(location_ids)  # empty: every location
        self._sent: dict[Key, int] = {}
        self._pending: dict[Key, pb.StockLevel] = {}
        self._ready = asyncio.Event()

    def wants(self, sku: str, location_id: str) -> bool:
        return sku in self.skus and (not self.location_ids or location_id in self.location_ids)

    def offer(self, level: pb.StockLevel) -> None:
        """Keeps `level` if it is newer than what was sent or is waiting for this key."""
        key = (level.sku, level.location_id)
        if not self.wants(*key):
            return
        waiting = self._pending.get(key)
        if level.version <= max(self._sent.get(key, -1), waiting.version if waiting else -1):
            return
        self._pending[key] = level
        self._ready.set()

    @property
    def waiting(self) -> int:
        """Levels held for this watcher: never more than the keys it watches."""
        return len(self._pending)

    async def levels(self) -> AsyncIterator[pb.StockLevel]:
        """Each key's newest level, as soon as the reader is ready for it."""
        while True:
            await self._ready.wait()
            self._ready.clear()
            batch, self._pending = self._pending, {}
            for key, level in batch.items():
                if level.version > self._sent.get(key, -1):
                    self._sent[key] = level.version
                    yield level


class AvailabilityHub:
    """This replica's watchers and the NATS subscriptions they need (counted, shared)."""

    def __init__(self, link: NatsLink, uow: UnitOfWork) -> None:
        self._link = link
        self._uow = uow
        self._watchers: set[Watcher] = set()
        self._subscriptions: dict[str, tuple[Subscription, int]] = {}

    @property
    def watchers(self) -> int:
        return len(self._watchers)

    @property
    def most_waiting(self) -> int:
        """The most levels held for one watcher (bounded by that watcher's keys)."""
        return max((w.waiting for w in self._watchers), default=0)

    async def watch(self, skus: list[str], location_ids: list[str]) -> AsyncIterator[pb.StockLevel]:
        """The current levels first, then every change, for as long as the caller reads."""
        if not self._link.connected():
            raise Unavailable("availability updates are unavailable (NATS is unreachable)")
        watcher = Watcher(skus, location_ids)
        subjects = _subjects(skus, location_ids)
        # Subscribe before reading the snapshot, so that no change falls between the two.
        await self._subscribe(subjects)
        self._watchers.add(watcher)
        try:
            await self._snapshot(watcher)
            async for level in watcher.levels():
                yield level
        finally:
            self._watchers.discard(watcher)
            await self._unsubscribe(subjects)

    async def resync(self) -> None:
        """After NATS was away (changes may have been missed): current levels from the database."""
        for watcher in list(self._watchers):
            await self._snapshot(watcher)

    async def _snapshot(self, watcher: Watcher) -> None:
        view = await queries.availability(
            self._uow, sorted(watcher.skus), sorted(watcher.location_ids)
        )
        found = {(lv.sku, lv.location_id) for lv in view.levels}
        missing = [StockLevel(s, loc) for s in watcher.skus for loc in watcher.location_ids
                   if (s, loc) not in found]  # fmt: skip
        for level in [*view.levels, *missing]:
            watcher.offer(convert.level_to_proto(level))

    async def _on_change(self, msg: Msg) -> None:
        try:
            level = msg_pb.StockLevelChanged.FromString(msg.data).level
        except Exception:
            log.warning("ignoring an undecodable message on %s", msg.subject)
            return
        for watcher in self._watchers:
            watcher.offer(level)

    async def _subscribe(self, subjects: list[str]) -> None:
        assert self._link.nc is not None
        for subject in subjects:
            sub, count = self._subscriptions.get(subject, (None, 0))
            if sub is None:
                sub = await self._link.nc.subscribe(subject, cb=self._on_change)
            self._subscriptions[subject] = (sub, count + 1)

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


def _subjects(skus: list[str], location_ids: list[str]) -> list[str]:
    locations = location_ids or ["*"]
    return sorted({availability_subject(loc, sku) for sku in skus for loc in locations})
