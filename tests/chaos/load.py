"""Mixed Reserve + PlaceOrder load from asyncio gRPC clients spread over both replicas of each
service, retrying the way a real client does (the same idempotency key, a deadline per call),
with every answer and every acknowledged reservation and order recorded."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc

from omni.common.v1 import common_pb2 as cpb
from omni.orders.v1 import orders_pb2 as opb
from omni.orders.v1 import orders_pb2_grpc
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc

# A fault may make a replica unreachable, a transaction lose a race, or an answer late: the
# outcome is unknown and the same request is sent again (its key makes that safe).
RETRYABLE = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.DEADLINE_EXCEEDED,
}
BUGS = {"INTERNAL", "UNKNOWN"}
RESERVE_DEADLINE = 3.0
ORDER_DEADLINE = 5.0
RESERVE_TTL_SECONDS = 3600  # far beyond any run: no reservation expires while it is checked
PLENTIFUL = [f"P{i}" for i in range(8)]
LOCATIONS = ["WH-A", "WH-B"]
REGIONS = ["north", "south"]
SAMPLES_PER_CODE = 5


@dataclass
class Request:
    """One logical request (one idempotency key), however many times it was sent."""

    kind: str  # "Reserve" or "PlaceOrder"
    key: str
    message: Any
    phase: str
    final: str = ""  # "" while its outcome is unknown; else OK, FAILED_PRECONDITION, ...
    answer: Any = None  # the reservation or order of the last OK answer
    answered_ids: set[str] = field(default_factory=set)


@dataclass
class PendingAnswer:
    """PlaceOrder answered PENDING: when that answer came, so the harness can tell later
    whether the order had been decided well before it."""

    phase: str
    order_id: str
    answered_at: float  # time.time()


@dataclass
class Ledger:
    """Everything the clients saw, per phase."""

    requests: list[Request] = field(default_factory=list)
    codes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    samples: dict[str, dict[str, list[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    pending_answers: list[PendingAnswer] = field(default_factory=list)

    def record(self, phase: str, kind: str, target: str, code: str, message: str) -> None:
        self.codes[phase][f"{kind} {code}"] += 1
        if code != "OK":
            seen = self.samples[phase][f"{kind} {code}"]
            if len(seen) < SAMPLES_PER_CODE:
                seen.append(f"{target} {time.strftime('%X')}: {message}")

    def of_kind(self, kind: str) -> list[Request]:
        return [r for r in self.requests if r.kind == kind]


def reserve_request(key: str, rng: random.Random, hot: str) -> pb.ReserveRequest:
    skus = rng.sample([*PLENTIFUL, hot, hot], rng.choice((1, 2)))
    lines = {(s, rng.choice(LOCATIONS)): rng.choice((1, 2)) for s in skus}
    return pb.ReserveRequest(
        idempotency_key=key,
        reference=key,
        ttl_seconds=RESERVE_TTL_SECONDS,
        lines=[pb.ReserveLine(sku=s, location_id=loc, quantity=q) for (s, loc), q in lines.items()],
    )


def order_request(key: str, rng: random.Random, hot: str, ahead: str) -> opb.PlaceOrderRequest:
    """An order of 1 or 2 SKUs: plentiful ones, the phase's scarce one, or (a third of them)
    its SKU on a purchase order the web may sell ahead (backordered, within a cap)."""
    skus = set(rng.sample([*PLENTIFUL, hot, hot], rng.choice((1, 2))))
    if rng.random() < 1 / 3:
        skus.add(ahead)
    return opb.PlaceOrderRequest(
        idempotency_key=key,
        channel=cpb.CHANNEL_WEB,
        customer_id=key,  # one customer per request: the orders of a key can be listed
        currency="EUR",
        lines=[
            opb.PlaceOrderLine(sku=s, quantity=rng.choice((1, 2)), unit_price=100) for s in skus
        ],
        ship=cpb.ShipTo(region=rng.choice(REGIONS)),
    )


class Load:
    """Workers that each send one request after another until told to stop."""

    def __init__(
        self,
        ledger: Ledger,
        stock: Sequence[stock_pb2_grpc.StockServiceStub],
        orders: Sequence[orders_pb2_grpc.OrdersServiceStub],
        targets: dict[str, list[str]],
        seed: int = 14,
    ) -> None:
        self.ledger = ledger
        self.stock = stock
        self.orders = orders
        self.targets = targets
        self.rng = random.Random(seed)
        self._serial = itertools.count()

    async def run(
        self, phase: str, hot: str, ahead: str, workers: int, stop: asyncio.Event
    ) -> None:
        """`workers` reserving and `workers` ordering, until `stop` is set."""
        await asyncio.gather(
            *(self._worker(phase, "Reserve", hot, ahead, i, stop) for i in range(workers)),
            *(self._worker(phase, "PlaceOrder", hot, ahead, i, stop) for i in range(workers)),
        )

    async def _worker(
        self, phase: str, kind: str, hot: str, ahead: str, index: int, stop: asyncio.Event
    ) -> None:
        while not stop.is_set():
            key = f"{phase}-{kind[0].lower()}{next(self._serial)}"
            message = (
                reserve_request(key, self.rng, hot)
                if kind == "Reserve"
                else order_request(key, self.rng, hot, ahead)
            )
            request = Request(kind, key, message, phase)
            self.ledger.requests.append(request)
            await self.send(request, phase, first=index, stop=stop)

    async def send(
        self, request: Request, phase: str, *, first: int, stop: asyncio.Event | None
    ) -> None:
        """Sends until the outcome is known (or `stop` is set: then it stays unknown, and is
        resent by `settle`). Each retry goes to the other replica."""
        for attempt in itertools.count():
            replica = (first + attempt) % 2
            code = await self._attempt(request, phase, replica)
            if code is None:
                return
            if stop is not None and stop.is_set():
                return
            await asyncio.sleep(min(1.0, 0.05 * 2**attempt) * self.rng.uniform(0.5, 1.5))

    async def _attempt(self, request: Request, phase: str, replica: int) -> str | None:
        """One call; None once the outcome is known, else the retryable code."""
        target = self.targets[request.kind][replica]
        try:
            if request.kind == "Reserve":
                reply = await self.stock[replica].Reserve(request.message, timeout=RESERVE_DEADLINE)
                answer = reply.reservation
            else:
                reply = await self.orders[replica].PlaceOrder(
                    request.message, timeout=ORDER_DEADLINE
                )
                answer = reply.order
        except grpc.aio.AioRpcError as exc:
            self.ledger.record(phase, request.kind, target, exc.code().name, exc.details() or "")
            if exc.code() in RETRYABLE:
                return exc.code().name
            request.final = exc.code().name
            return None
        self.ledger.record(phase, request.kind, target, "OK", "")
        request.final, request.answer = "OK", answer
        request.answered_ids.add(answer.id)
        if request.kind == "PlaceOrder" and answer.status == opb.ORDER_STATUS_PENDING:
            self.ledger.codes[phase]["PlaceOrder answered PENDING"] += 1
            self.ledger.pending_answers.append(PendingAnswer(phase, answer.id, time.time()))
        return None

    async def settle(self, phase: str, within: float = 60.0) -> None:
        """Once everything is back: every request whose outcome is unknown (or that got an
        INTERNAL/UNKNOWN) is sent again, as its client would, until its outcome is known."""
        open_ = [r for r in self.ledger.requests if r.final in ("", *BUGS)]
        room = asyncio.Semaphore(16)

        async def resend(request: Request) -> None:
            async with room:
                request.final = ""
                with contextlib.suppress(TimeoutError):  # still unknown: a check reports it
                    await asyncio.wait_for(self.send(request, phase, first=0, stop=None), within)

        await asyncio.gather(*(resend(r) for r in open_))
