"""Order changes delivered to callers waiting on this replica (PlaceOrder, WatchOrder).

Changes come from NATS (`orders.events.>`, whichever replica made them), straight from
this replica's own commits (so a local change is seen even while NATS is away), and from the
store, read once a second for orders watched longer (a notification missed). A watcher
keeps only the newest version: a slow one skips intermediate versions, never the last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg

from omni.orders.v1 import messaging_pb2 as msg_pb
from omni.orders.v1 import orders_pb2 as pb
from omni.platform.messaging import NatsLink
from omni.platform.outbox import OutboxMessage
from omni.platform.streams import ORDERS_EVENTS_PREFIX
from omni.platform.tasks import repeat

log = logging.getLogger(__name__)


class OrderWatch:
    """The newest version of one order seen since the watch began."""

    def __init__(self) -> None:
        self.latest: pb.Order | None = None
        self._fresh = asyncio.Event()

    def offer(self, order: pb.Order) -> None:
        if self.latest is None or order.version > self.latest.version:
            self.latest = order
            self._fresh.set()

    async def next(self) -> pb.Order:
        """Waits for a version newer than the last one returned."""
        await self._fresh.wait()
        self._fresh.clear()
        assert self.latest is not None
        return self.latest

    async def until(self, done: Callable[[pb.Order], bool], within: float) -> pb.Order | None:
        """The first version for which `done` holds, or the latest one after `within` s."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while self.latest is None or not done(self.latest):
                    await self.next()
        return self.latest


# The stored versions of some orders (those that exist).
ReadOrders = Callable[[list[str]], Awaitable[list[pb.Order]]]


class OrderHub:
    """Delivers each order's changes to its watchers, from notifications; and, as one can be
    missed (NATS restarting, the change made by another replica), reads every order watched
    longer than `every` seconds from the store once in each `every`: one query a replica."""

    def __init__(self, link: NatsLink, read: ReadOrders, every: float = 1.0) -> None:
        self._link = link
        self._read = read
        self._every = every
        self._watches: dict[str, set[OrderWatch]] = {}
        self._since: dict[str, float] = {}  # order id: when its first watch began

    async def subscribe(self) -> None:
        assert self._link.nc is not None
        await self._link.nc.subscribe(ORDERS_EVENTS_PREFIX + ">", cb=self._on_message)

    @contextlib.contextmanager
    def watch(self, order_id: str) -> Iterator[OrderWatch]:
        watch = OrderWatch()
        self._watches.setdefault(order_id, set()).add(watch)
        self._since.setdefault(order_id, time.monotonic())
        try:
            yield watch
        finally:
            watches = self._watches[order_id]
            watches.discard(watch)
            if not watches:
                del self._watches[order_id]
                del self._since[order_id]

    async def run(self) -> None:
        """Refreshes watched orders from the store until cancelled."""
        await repeat("refreshing watched orders", self.refresh, self._every)

    async def refresh(self) -> None:
        """Offers the stored version of each order watched for `every` seconds or more."""
        due = time.monotonic() - self._every
        ids = [order_id for order_id, since in self._since.items() if since <= due]
        if ids:
            for order in await self._read(ids):
                for watch in self._watches.get(order.id, ()):
                    watch.offer(order)

    def committed(self, messages: Sequence[OutboxMessage]) -> None:
        """The unit of work's hook: this replica's own changes, right after commit."""
        for message in messages:
            if message.subject.startswith(ORDERS_EVENTS_PREFIX):
                self._deliver(message.payload)

    async def _on_message(self, msg: Msg) -> None:
        self._deliver(msg.data)

    def _deliver(self, payload: bytes) -> None:
        if not self._watches:
            return  # nobody waits: not even worth parsing
        try:
            order = msg_pb.OrderChanged.FromString(payload).order
        except DecodeError:
            log.warning("ignoring an undecodable order event")
            return
        for watch in self._watches.get(order.id, ()):
            watch.offer(order)
