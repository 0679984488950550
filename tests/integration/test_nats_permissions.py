"""NATS locked down per service, on a real nats-server configured as production's is
(omni.platform.nats_access): each user may publish and read only its own subjects. (That every
service can do its work under these permissions, every other test shows: a refusal fails it.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.js.api import ConsumerConfig

from omni.platform import nats_access, streams
from omni.platform.messaging import NatsLogin, connect, ensure_streams
from omni.platform.natsserver import EmbeddedNats
from tests.helpers.checks import eventually

EVERY_STREAM = [
    streams.STOCK_EVENTS,
    streams.STOCK_AVAILABILITY,
    streams.STOCK_COMMANDS,
    streams.ORDERS_EVENTS,
    streams.PICKUP_EVENTS,
    streams.RETURNS_EVENTS,
]
COMMANDS = ["allocate", "release", "commit", "write_off", "restock", "correct"]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[EmbeddedNats]:
    with EmbeddedNats(tmp_path / "nats") as running:
        operator = await nats.connect(running.operator_url)
        await ensure_streams(operator.jetstream(), EVERY_STREAM, replicas=1)
        await operator.close()
        yield running


@asynccontextmanager
async def logged_in(server: EmbeddedNats, login: NatsLogin) -> AsyncIterator[NatsClient]:
    nc = await connect(server.url, f"test-{login.user}", login=login)
    try:
        yield nc
    finally:
        await nc.close()


async def stored(server: EmbeddedNats, stream: str) -> int:
    """How many messages `stream` holds (asked as the operator)."""
    operator = await nats.connect(server.operator_url)
    try:
        return int((await operator.jetstream().stream_info(stream)).state.messages)
    finally:
        await operator.close()


async def refused(server: EmbeddedNats, what: str, subject: str) -> None:
    """Until the server has logged refusing `what` ("Publish", "Subscription") on `subject`."""

    async def logged() -> bool:
        return any(f'{what} Violation - Subject "{subject}"' in v for v in server.violations())

    await eventually(logged, within=5)


async def test_the_console_can_publish_no_command_and_no_event(server: EmbeddedNats) -> None:
    async with logged_in(server, server.login("console")) as console:
        subjects = [streams.STOCK_COMMAND.format(c) for c in COMMANDS] + [
            "stock.events.received",
            "stock.availability.L1.SKU",
            "orders.events.placed",
            "pickup.events.collected",
            "returns.events.refund_issued",
        ]
        for subject in subjects:
            await console.publish(subject, b"forged")
        await console.flush()
        for subject in subjects:
            await refused(server, "Publish", subject)
    for stream in EVERY_STREAM:
        assert await stored(server, stream.name) == 0, stream.name


async def test_the_console_cannot_take_commands_off_the_work_queue(server: EmbeddedNats) -> None:
    """Creating a consumer on STOCK_COMMANDS (which would take commands meant for stock) is a
    JetStream API call outside its grant, and so is deleting a stream."""
    async with logged_in(server, server.login("console")) as console:
        js = console.jetstream(timeout=1.0)
        with pytest.raises(nats.errors.TimeoutError):
            await js.add_consumer("STOCK_COMMANDS", ConsumerConfig(durable_name="thief"))
        with pytest.raises(nats.errors.TimeoutError):
            await js.delete_stream("STOCK_EVENTS")
        with pytest.raises(nats.errors.TimeoutError):
            await js.update_stream(name="ORDERS_EVENTS", subjects=["orders.events.>"])
    await refused(server, "Publish", "$JS.API.CONSUMER.DURABLE.CREATE.STOCK_COMMANDS.thief")
    await refused(server, "Publish", "$JS.API.STREAM.DELETE.STOCK_EVENTS")
    await refused(server, "Publish", "$JS.API.STREAM.UPDATE.ORDERS_EVENTS")


async def test_a_consumer_is_its_owners_alone_and_a_stream_its_owners_to_change(
    server: EmbeddedNats,
) -> None:
    """Pickup's consumer of order events: the console (or anyone else) can neither pull from
    it (draining what pickup should handle) nor acknowledge for it; and pickup, which uses
    the orders' stream, may create it if missing but never change it."""
    operator = await nats.connect(server.operator_url)
    await operator.jetstream().add_consumer(
        "ORDERS_EVENTS", ConsumerConfig(durable_name="pickup-orders-confirmed")
    )
    await operator.close()
    async with logged_in(server, server.login("console")) as console:
        pull = await console.jetstream().pull_subscribe_bind(
            "pickup-orders-confirmed", "ORDERS_EVENTS"
        )
        with pytest.raises(nats.errors.TimeoutError):
            await pull.fetch(1, timeout=1.0)
    await refused(
        server, "Publish", "$JS.API.CONSUMER.MSG.NEXT.ORDERS_EVENTS.pickup-orders-confirmed"
    )
    async with logged_in(server, server.login("pickup")) as pickup:
        js = pickup.jetstream(timeout=1.0)
        with pytest.raises(nats.errors.TimeoutError):
            await js.update_stream(name="ORDERS_EVENTS", subjects=["orders.events.>"], max_age=1)
        # Its own consumer it may pull from.
        mine = await js.pull_subscribe_bind("pickup-orders-confirmed", "ORDERS_EVENTS")
        with pytest.raises(nats.errors.TimeoutError):  # nothing there: no refusal, no message
            await mine.fetch(1, timeout=0.5)
    await refused(server, "Publish", "$JS.API.STREAM.UPDATE.ORDERS_EVENTS")
    assert not [v for v in server.violations() if "user:pickup" in v and "MSG.NEXT" in v]


@pytest.mark.parametrize(
    ("user", "subject"),
    [
        ("stock", "orders.events.confirmed"),  # another service's events
        ("stock", "stock.commands.restock"),  # stock takes its commands; it does not send them
        ("orders", "stock.events.reserved"),
        ("orders", "returns.events.refund_issued"),
        ("pickup", "stock.commands.commit"),  # pickup asks orders, never stock directly
        ("pickup", "orders.events.shipped"),
        ("returns", "stock.commands.allocate"),  # returns may only put units back on sale
        ("returns", "deadletter.stock.stock-allocate"),  # another service's dead letters
    ],
)
async def test_a_service_publishing_outside_its_subjects_is_refused(
    server: EmbeddedNats, user: str, subject: str
) -> None:
    async with logged_in(server, server.login(user)) as nc:
        await nc.publish(subject, b"forged")
        await nc.flush()
        await refused(server, "Publish", subject)
    for stream in EVERY_STREAM:
        assert await stored(server, stream.name) == 0, stream.name


async def test_a_service_may_publish_its_own_events(server: EmbeddedNats) -> None:
    """The other side of the refusals above: the grant lets a service do its work."""
    async with logged_in(server, server.login("returns")) as returns:
        js = returns.jetstream()
        await js.publish("returns.events.opened", b"ok")
        await js.publish("stock.commands.restock", b"ok")
    assert await stored(server, "RETURNS_EVENTS") == 1
    assert await stored(server, "STOCK_COMMANDS") == 1
    assert server.violations() == []


async def test_nobody_reads_another_users_replies_or_the_commands(server: EmbeddedNats) -> None:
    """Replies come back under each user's own inbox; nobody but stock reads its commands."""
    async with logged_in(server, server.login("console")) as console:
        await console.subscribe(f"{nats_access.inbox_prefix('orders')}.>")
        await console.subscribe("stock.commands.>")
        await console.flush()
    await refused(server, "Subscription", "_INBOX.orders.>")
    await refused(server, "Subscription", "stock.commands.>")


async def test_a_wrong_password_is_no_login(server: EmbeddedNats) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(
            server.url,
            user="stock",
            password="guessed",
            allow_reconnect=False,
            max_reconnect_attempts=0,
            connect_timeout=2,
        )
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):  # nor none
        await nats.connect(server.url, allow_reconnect=False, connect_timeout=2)


def test_production_passwords_are_read_from_the_environment_not_written() -> None:
    """The configuration production renders (deploy/render.py; kept fresh by a test in
    test_deploy.py) names each password as a variable its pods get from the Secret."""
    config = nats_access.server_config()
    for user in nats_access.USERS:
        assert f"password: ${nats_access.password_variable(user)}\n" in config
    assert 'password: "' not in config


async def test_the_console_sets_its_failing_messages_aside_as_any_consumer_does(
    server: EmbeddedNats,
) -> None:
    """Reading only, the console still counts its consumers' failures and sets a message
    aside as a dead letter (omni.platform.deadletters), on its own subjects."""
    operator = await nats.connect(server.operator_url)
    await ensure_streams(operator.jetstream(), list(nats_access.SHARED), replicas=1)
    await operator.close()
    async with logged_in(server, server.login("console")) as console:
        js = console.jetstream()
        await js.publish("failures.console-orders.ORDERS_EVENTS.7", b"1")
        last = await js.get_last_msg("CONSUMER_FAILURES", "failures.console-orders.ORDERS_EVENTS.7")
        assert last.data == b"1"
        await js.publish("deadletter.console.console-orders", b"set aside")
        with pytest.raises(nats.errors.TimeoutError):  # not another consumer's count
            await js.publish("failures.pickup-orders-confirmed.ORDERS_EVENTS.7", b"9", timeout=1)
    assert [v for v in server.violations() if "user:console" in v] == [
        v for v in server.violations() if "failures.pickup-orders-confirmed" in v
    ]
