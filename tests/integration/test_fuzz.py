"""Hostile input on every RPC of every service, built from the protos by Hypothesis: whatever a
caller sends, the answer is a clear status — never INTERNAL or UNKNOWN, never a hang — nothing
is logged as an error, and the service stays SERVING. On SQLite and on PostgreSQL.

OMNI_FUZZ_EXAMPLES sets the examples per service (default 150, spread over its RPCs, at least
12 each, so that `make test` stays well under 15 minutes); thousands find what that many do
not (see docs/development.md). OMNI_FUZZ_SEED picks
another seed than the fixed one (runs are reproducible without it). That a refused request
changes nothing is left to the bad-input tests: consumers and expiry change the databases
meanwhile."""

from __future__ import annotations

import asyncio
import logging
import os
import zlib
from collections.abc import Coroutine
from typing import Any, TypeVar

import grpc
import pytest
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import Phase, given, seed, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from omni.common.v1 import common_pb2 as cpb
from omni.orders.v1 import orders_pb2 as opb
from omni.pickup.v1 import pickup_pb2 as ppb
from omni.platform.natsserver import EmbeddedNats
from omni.platform.service import Service
from omni.returns.v1 import returns_pb2 as rpb
from omni.stock.v1 import stock_pb2 as spb
from tests import fuzzing
from tests.conftest import NewDatabase
from tests.helpers.running import TOKENS, Stock, authorized, running_orders, running_stock
from tests.helpers.stock import add_location, receive
from tests.integration.test_orders import order_request
from tests.integration.test_pickup import bopis, order_for_pickup, ready_with_code, task_of
from tests.integration.test_returns import create, return_request, shipped_order, shop_running

EXAMPLES = int(os.environ.get("OMNI_FUZZ_EXAMPLES", "150"))
MIN_EXAMPLES = 12  # per RPC
SEED = int(os.environ.get("OMNI_FUZZ_SEED", "0"))
BUGS = (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)
RPCS = "omni_rpc_total"  # the services' count of finished calls, by status code
MAX_STATUS_MESSAGE_BYTES = 1000  # docs/api.md, Errors
# Half the calls as a trusted system, half as the other roles (store-bound ones at STORE-1).
ROLES = st.just("service") | st.sampled_from([r for r in TOKENS if r != "service"])
UNARY_TIMEOUT = 10.0  # a unary call not answered by then hangs (PlaceOrder waits ~tens of ms)
STREAM_TIMEOUT = 1.0  # a watch is cut after its first two answers, or this
SCAN_TIMEOUT = 5.0  # a scanner stream ends once every scan sent is answered
# grpc's aio client reports this INTERNAL itself when the server ends a stream of requests
# while the client is still writing (grpc/grpc#36066, about one refused Scan in three): the
# client lost the server's status. What the server answered is then told by its own count of
# finished calls (omni_rpc_total), checked for every call.
CLIENT_LOST_STATUS = "Internal error from Core"
STORE = "STORE-1"
A, B = "SKU-A", "SKU-B"
# Ids at the edge of the grammar: 64 characters, all but the first a "." (which NATS subjects
# carry escaped, three times as long).
DOTTED_LOCATION, DOTTED_SKU = "L" + "." * 63, "S" + "." * 63

T = TypeVar("T")


class ErrorLog(logging.Handler):
    """Keeps every ERROR a service logs (a handler's unexpected error, a consumer's bug)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        taken, self.records = self.records, []
        return [self.format(r) for r in taken]


def _problems(method: MethodDescriptor, answer: fuzzing.Answer) -> list[str]:
    """What is wrong with an answer (nothing: a clear status, or a success)."""
    problems = []
    code = answer.code
    lost = method.client_streaming and answer.details == CLIENT_LOST_STATUS
    if code in BUGS and not lost:
        problems.append(f"answered {code.name}: {answer.details!r}")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED and not method.server_streaming:
        problems.append(f"no answer within {UNARY_TIMEOUT}s (a hang)")
    if code != grpc.StatusCode.OK and not answer.details:
        problems.append(f"answered {code.name} without saying why")
    if len(answer.details.encode()) > MAX_STATUS_MESSAGE_BYTES:
        problems.append(f"a status message of {len(answer.details.encode())} bytes")
    bugs = [c for c in answer.in_band_codes() if c in (b.value[0] for b in BUGS)]
    if bugs:
        problems.append(f"an answer carries status code(s) {bugs}: {answer.answers}")
    return problems


async def _serving(health: health_pb2_grpc.HealthStub) -> bool:
    """The service answers SERVING (again) within a few seconds."""
    for _ in range(50):
        try:
            reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
            if reply.status == health_pb2.HealthCheckResponse.SERVING:
                return True
        except grpc.aio.AioRpcError:
            pass
        await asyncio.sleep(0.1)
    return False


def _bugs_answered(service: str, method: str) -> float:
    """How many calls of `method` the service has ended INTERNAL or UNKNOWN, by its metrics."""
    labels = {"service": service, "method": method}
    counts = (REGISTRY.get_sample_value(RPCS, labels | {"code": c.name}) for c in BUGS)
    return sum(count or 0.0 for count in counts)


async def hunt(service: ServiceDescriptor, app: Service, pool: fuzzing.Pool) -> list[str]:
    """Runs Hypothesis over every RPC of `service` served by `app`; returns each RPC's smallest
    failing example, described (empty: none failed)."""
    port = app.port
    loop = asyncio.get_running_loop()
    requests = fuzzing.Requests(pool)
    channels = {role: authorized(f"127.0.0.1:{port}", role) for role in TOKENS}
    health = health_pb2_grpc.HealthStub(channels["service"])
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)

    def run(coroutine: Coroutine[Any, Any, T]) -> T:
        # Hypothesis drives from a worker thread; the services and gRPC live on this loop.
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    def check_method(method: MethodDescriptor) -> None:
        payload = requests.payloads(method.input_type)
        batch = st.lists(payload, max_size=3) if method.client_streaming else st.tuples(payload)
        deadline = (
            SCAN_TIMEOUT
            if method.client_streaming
            else STREAM_TIMEOUT
            if method.server_streaming
            else UNARY_TIMEOUT
        )

        @seed(zlib.crc32(method.full_name.encode()) + SEED)
        @settings(
            max_examples=max(MIN_EXAMPLES, EXAMPLES // len(service.methods)),
            deadline=None,  # each example is a real call: its time is the machine's
            database=None,  # nothing kept in the working tree; a failure prints its example
            report_multiple_bugs=False,
            phases=[p for p in Phase if p is not Phase.explain],  # it would name our lines
        )
        @given(payloads=batch, role=ROLES)
        def check(payloads: list[fuzzing.Payload], role: str) -> None:
            errors.take()
            bugs_before = _bugs_answered(app.name, method.name)
            answer = run(fuzzing.call(channels[role], method, payloads, deadline=deadline))
            problems = _problems(method, answer)
            if not run(_serving(health)):
                problems.append("the service is not SERVING afterwards")
            if _bugs_answered(app.name, method.name) > bugs_before:
                problems.append("the service counted the call INTERNAL or UNKNOWN")
            problems += [f"logged {line}" for line in errors.take()]
            assert not problems, f"{role} sent {list(payloads)}:\n  " + "\n  ".join(problems)

        check()

    def every_method() -> list[str]:
        failures = []
        for method in service.methods:
            try:
                check_method(method)
            except Exception as exc:
                failures.append(f"{method.full_name}: {_described(exc)}")
        return failures

    try:
        return await asyncio.to_thread(every_method)
    finally:
        logging.getLogger().removeHandler(errors)
        for channel in channels.values():
            await channel.close()


def _described(exc: BaseException) -> str:
    """The failure Hypothesis settled on, with its notes (the example); for one it could not
    reproduce (a flaky failure), each failure it saw."""
    notes = "\n".join(getattr(exc, "__notes__", []))
    inner = exc.exceptions if isinstance(exc, BaseExceptionGroup) else ()
    return "\n".join([f"{exc}", notes, *(_described(e) for e in inner)])


def _report(failures: list[str]) -> str:
    return f"{len(failures)} RPC(s) mishandled hostile input:\n\n" + "\n\n".join(failures)


async def _stocked(stock: Stock) -> dict[str, list[str]]:
    """Locations, levels, a barcode and a reservation to aim at; what names them."""
    await add_location(stock.stub, "WH-N", region="north", latitude=59.3, longitude=18.1)
    store = spb.LOCATION_KIND_STORE
    await add_location(stock.stub, STORE, kind=store, ships=False, pickup=True, region="north")
    await add_location(stock.stub, "STORE-2", kind=store, accepts_returns=True)
    await add_location(stock.stub, DOTTED_LOCATION)
    for sku in (A, B, DOTTED_SKU):
        await receive(stock.stub, sku, "WH-N", 50)
    for sku in (A, B):
        await receive(stock.stub, sku, STORE, 20)
    await stock.stub.RegisterBarcodes(
        spb.RegisterBarcodesRequest(barcodes=[spb.Barcode(code="0123456789012", sku=A)])
    )
    line = spb.ReserveLine(sku=A, location_id="WH-N", quantity=1)
    held = await stock.stub.Reserve(
        spb.ReserveRequest(idempotency_key="cart-1", reference="cart-1", lines=[line])
    )
    page = await stock.stub.ListMovements(
        spb.ListMovementsRequest(sku=A, location_id="WH-N", page_size=1)
    )
    return {
        "sku": [A, B, DOTTED_SKU],
        "location_id": ["WH-N", STORE, "STORE-2", DOTTED_LOCATION],
        "target_location_id": ["WH-N", STORE, DOTTED_LOCATION],
        "id": [held.reservation.id, "WH-N"],
        "reservation_id": [held.reservation.id],
        "reference": ["cart-1"],
        "barcode": ["0123456789012"],
        "code": ["0123456789012"],
        "page_token": [page.next_page_token],
        "region": ["north"],
    }


@pytest.mark.timeout(max(300, EXAMPLES))
async def test_stock_answers_any_request_with_a_clear_status_and_stays_serving(
    new_database: NewDatabase, nats_server: EmbeddedNats
) -> None:
    async with running_stock(await new_database("stock"), nats_server) as stock:
        await stock.app.nats.ready.wait()
        pool = await _stocked(stock)
        failures = await hunt(spb.DESCRIPTOR.services_by_name["StockService"], stock.app, pool)
    assert not failures, _report(failures)


@pytest.mark.timeout(max(300, EXAMPLES))
async def test_orders_answers_any_request_with_a_clear_status_and_stays_serving(
    new_database: NewDatabase, nats_server: EmbeddedNats
) -> None:
    async with (
        running_stock(await new_database("stock"), nats_server) as stock,
        running_orders(await new_database("orders"), nats_server) as orders,
    ):
        for app in (stock.app, orders.app):
            await app.nats.ready.wait()
        pool = await _stocked(stock)
        shipped = (await orders.stub.PlaceOrder(order_request("order-1", {A: 2}))).order
        await orders.stub.RecordShipment(
            opb.RecordShipmentRequest(
                order_id=shipped.id,
                shipment_id="box-1",
                location_id="WH-N",
                lines=[opb.ShipmentLine(sku=A, quantity=1)],
            )
        )
        at_store = {"pickup": cpb.PickupAt(location_id=STORE)}
        pickup = (await orders.stub.PlaceOrder(order_request("order-2", {B: 1}, **at_store))).order
        page = await orders.stub.ListOrders(opb.ListOrdersRequest(page_size=1))
        pool |= {
            "id": [shipped.id, pickup.id],
            "order_id": [shipped.id, pickup.id],
            "customer_id": ["cust-1"],
            "currency": ["EUR"],
            "page_token": [page.next_page_token],
        }
        failures = await hunt(opb.DESCRIPTOR.services_by_name["OrdersService"], orders.app, pool)
    assert not failures, _report(failures)


@pytest.mark.timeout(max(300, EXAMPLES))
async def test_pickup_answers_any_request_with_a_clear_status_and_stays_serving(
    new_database: NewDatabase, nats_server: EmbeddedNats
) -> None:
    urls = {name: await new_database(name) for name in ("stock", "orders", "pickup")}
    async with bopis(urls, nats_server) as shop:
        placed = await task_of(shop, (await order_for_pickup(shop, {A: 2})).id)
        ready = await task_of(shop, (await order_for_pickup(shop, {A: 1})).id)
        code = await ready_with_code(shop, ready)
        picking = await task_of(shop, (await order_for_pickup(shop, {B: 2})).id)
        await shop.pickup.stub.StartPicking(
            ppb.StartPickingRequest(id=picking.id, associate_id="assoc-1")
        )
        await shop.pickup.stub.RecordPick(
            ppb.RecordPickRequest(id=picking.id, scan_id="s-1", sku=B)
        )
        page = await shop.pickup.stub.ListPickups(
            ppb.ListPickupsRequest(store_id=STORE, page_size=1)
        )
        pool = {
            "id": [placed.id, ready.id, picking.id],
            "store_id": [STORE, "WH-N"],
            "sku": [A, B],
            "associate_id": ["assoc-1"],
            "manager_id": ["mgr-1"],
            "code": [code],
            "page_token": [page.next_page_token],
        }
        failures = await hunt(
            ppb.DESCRIPTOR.services_by_name["PickupService"], shop.pickup.app, pool
        )
    assert not failures, _report(failures)


@pytest.mark.timeout(max(300, EXAMPLES))
async def test_returns_answers_any_request_with_a_clear_status_and_stays_serving(
    new_database: NewDatabase, nats_server: EmbeddedNats
) -> None:
    urls = {name: await new_database(name) for name in ("stock", "orders", "returns")}
    async with shop_running(urls, nats_server) as shop:
        order = await shipped_order(shop, A, 3)
        rma = await create(shop, return_request(order.id, {A: 1}, STORE))
        await create(shop, return_request(order.id, {A: 1}, STORE))  # a second page
        page = await shop.returns.stub.ListReturns(
            rpb.ListReturnsRequest(location_id=STORE, page_size=1)
        )
        pool = {
            "id": [rma.id],
            "order_id": [order.id],
            "location_id": [STORE, "STORE-2", "WH-N", "STORE-NO"],
            "sku": [A],
            "customer_id": ["cust-1"],
            "manager_id": ["mgr-1"],
            "reason": ["too small"],
            "page_token": [page.next_page_token],
        }
        failures = await hunt(
            rpb.DESCRIPTOR.services_by_name["ReturnsService"], shop.returns.app, pool
        )
    assert not failures, _report(failures)
