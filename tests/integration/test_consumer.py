"""Durable consumers on a real nats-server: each message handled once in effect, retried with
a growing delay, given back at once when its handler stops, taken over within seconds when its
replica dies, and set aside as a dead letter when it keeps failing on a bug."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import nats as nats_py
import pytest
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from omni.platform import consumer, deadletters
from omni.platform.db import write_transaction
from omni.platform.errors import Conflict, Unavailable
from omni.platform.messaging import MSG_ID_HEADER, NatsLink, StreamSpec
from omni.platform.natsserver import EmbeddedNats
from omni.platform.streams import CONSUMER_FAILURES, DEAD_LETTERS
from tests.helpers.checks import eventually
from tests.integration.conftest import PROCESSED, TALLY

EVENTS = StreamSpec("TEST_EVENTS", ["test.events.>"])
Handler = Callable[[Msg], Awaitable[None]]


@contextlib.asynccontextmanager
async def connected(url: str, dead_letter_after: int = 10) -> AsyncIterator[NatsLink]:
    """A service's NATS link (as Service makes it), with the test stream and dead letters."""
    streams = [EVENTS, DEAD_LETTERS, CONSUMER_FAILURES]
    link = NatsLink(url, "test", streams, 1, dead_letter_after=dead_letter_after)
    await link.run()
    try:
        yield link
    finally:
        await link.close()


@contextlib.asynccontextmanager
async def consuming(
    link: NatsLink, handler: Handler, durable: str = "test", **options: float
) -> AsyncIterator[asyncio.Task[None]]:
    """A DurableConsumer running in the background, stopped (cancelled) on exit."""
    runner = asyncio.create_task(
        consumer.DurableConsumer(
            link,
            stream=EVENTS.name,
            subject="test.events.>",
            durable=durable,
            handler=handler,
            **options,  # type: ignore[arg-type]
        ).run()
    )
    try:
        yield runner
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner


async def publish(link: NatsLink, msg_id: str, **headers: str) -> None:
    await link.js.publish("test.events.x", b"payload", headers={MSG_ID_HEADER: msg_id, **headers})


async def test_a_redelivered_event_changes_nothing(
    platform_engine: AsyncEngine, nats_server: EmbeddedNats
) -> None:
    """The consumer records the event id with its effect; JetStream redelivers (nak) and a
    publisher resends under another message id: the effect happens once per event id."""
    deliveries = 0

    async def handle(msg: Msg) -> None:
        nonlocal deliveries
        deliveries += 1
        async with write_transaction(platform_engine) as conn:
            event_id = msg.headers["event-id"] if msg.headers else ""
            if await consumer.unhandled(conn, PROCESSED, "test-consumer", [event_id]):
                await conn.execute(TALLY.update().values(count=TALLY.c.count + 1))
        if msg.headers and msg.headers[MSG_ID_HEADER] == "m1" and msg.metadata.num_delivered == 1:
            raise RuntimeError("crash after commit, before ack")  # forces a redelivery

    async with connected(nats_server.operator_url) as link:
        for i, msg_id in enumerate(["m1", "m2", "m3"]):  # m2 resends the event of m1
            await publish(link, msg_id, **{"event-id": "e1" if i < 2 else "e2"})
        async with consuming(link, handle):
            await eventually(lambda: _at_least(lambda: deliveries, 4), within=10)
            async with platform_engine.connect() as conn:
                assert (await conn.execute(select(TALLY.c.count))).scalar_one() == 2


async def test_a_failing_message_is_retried_later_and_later(nats_server: EmbeddedNats) -> None:
    delivered_at: list[float] = []
    labels = {"stream": EVENTS.name, "durable": "test-retries"}
    failures_before = REGISTRY.get_sample_value("omni_consumer_failures_total", labels) or 0

    async def handle(msg: Msg) -> None:
        delivered_at.append(time.monotonic())
        if len(delivered_at) <= 2:
            raise RuntimeError("a bug, say")

    async with connected(nats_server.operator_url) as link, consuming(link, handle, "test-retries"):
        await publish(link, "r1")
        await eventually(lambda: _at_least(lambda: len(delivered_at), 3), within=15)
        first_wait, second_wait = (b - a for a, b in itertools.pairwise(delivered_at))
        assert first_wait >= 0.9 and second_wait >= 1.8  # 1 s, then 2 s: backing off
        failures = REGISTRY.get_sample_value("omni_consumer_failures_total", labels)
        assert failures == failures_before + 2
        await eventually(lambda: _all_acked(link, "test-retries"), within=5)


async def test_a_quiet_consumer_asks_for_many_messages_at_once(nats_server: EmbeddedNats) -> None:
    """Pull requests stand: messages trickling in one by one come through the request already
    waiting, not a request (and a timeout) each, and a backlog comes in the same flow."""
    handled: list[str] = []
    watcher = await nats_py.connect(nats_server.operator_url)
    asked: list[bytes] = []

    async def note(msg: Msg) -> None:
        asked.append(msg.data)

    await watcher.subscribe(f"$JS.API.CONSUMER.MSG.NEXT.{EVENTS.name}.test-quiet", cb=note)
    await watcher.flush()

    async def handle(msg: Msg) -> None:
        handled.append(msg.header[MSG_ID_HEADER] if msg.header else "")

    try:
        async with (
            connected(nats_server.operator_url) as link,
            consuming(link, handle, "test-quiet", batch=8),
        ):
            for n in range(12):  # one at a time, each handled before the next is sent
                await publish(link, f"quiet-{n}")
                await eventually(lambda n=n: _at_least(lambda: len(handled), n + 1), within=5)
            for n in range(40):  # then a crowd, five times the room
                await publish(link, f"crowd-{n}")
            await eventually(lambda: _at_least(lambda: len(handled), 52), within=10)
            await eventually(lambda: _all_acked(link, "test-quiet"), within=5)
    finally:
        await watcher.close()
    assert len(handled) == 52
    # The first request for 8, then one each time half the room is free: the 12 single
    # messages cost 4 requests (a fetch per message made 53 requests for these 52).
    assert 2 <= len(asked) <= 3 + 40 // 4 + 2, asked
    assert all(json.loads(body)["batch"] <= 8 for body in asked)


async def test_a_consumer_deleted_under_it_is_declared_again(nats_server: EmbeddedNats) -> None:
    """JetStream ends the standing requests of a consumer that is gone (deleted, or lost
    with NATS's store) and refuses new ones: the consumer declares itself again and goes
    on, instead of asking in vain."""
    handled: list[str] = []

    async def handle(msg: Msg) -> None:
        handled.append(msg.header[MSG_ID_HEADER] if msg.header else "")

    async with connected(nats_server.operator_url) as link, consuming(link, handle, "test-gone"):
        await publish(link, "before")
        await eventually(lambda: _at_least(lambda: len(handled), 1), within=5)
        await link.js.delete_consumer(EVENTS.name, "test-gone")
        await publish(link, "after")
        await eventually(lambda: _contains(handled, "after"), within=10)


@pytest.mark.parametrize(
    ("attempt", "failure", "delay"),
    [
        (1, RuntimeError("bug"), 1.0),
        (2, RuntimeError("bug"), 2.0),
        (3, RuntimeError("bug"), 4.0),
        (7, RuntimeError("bug"), 60.0),
        (10**6, RuntimeError("bug"), 60.0),
        (2, Unavailable("database down"), 2.0),
        (7, Unavailable("database down"), 5.0),
        (7, ConnectionError("NATS down"), 5.0),
        (7, Conflict("too many concurrent changes"), 5.0),
    ],
)
def test_redelivery_waits_double_each_time_up_to_a_minute_or_5_s_for_an_outage(
    attempt: int, failure: Exception, delay: float
) -> None:
    assert consumer.redelivery_delay(attempt, failure) == delay


async def test_a_handler_stopped_mid_message_gives_it_back_at_once(
    nats_server: EmbeddedNats,
) -> None:
    """Stopped (a replica shutting down), a handler gives its message back (a nak): another
    takes it at once, not when the ack wait (10 s here) runs out."""
    await _taken_over(nats_server.operator_url, {"ack_wait": 10}, stop_first=True)


async def test_a_message_held_by_a_killed_replica_is_handled_by_another_within_seconds(
    nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    """A replica killed (-9) while handling a message never acks or naks it: the short ack
    wait (3 s, not 30) hands it to the surviving replica."""
    async with connected(nats_server.operator_url) as link:
        replica = _replica_stuck_in_its_handler(nats_server.operator_url, tmp_path)
        try:
            await eventually(lambda: _held_by_one(link), within=20)
            await publish(link, "k1")
            await eventually(lambda: _ack_pending(link, 1), within=10)
        finally:
            replica.kill()
            replica.wait()
        handled_at: list[float] = []

        async def handle(msg: Msg) -> None:
            handled_at.append(time.monotonic())

        async with consuming(link, handle):  # well within the 30 s it took before
            await eventually(lambda: _at_least(lambda: len(handled_at), 1), within=8)


async def test_a_slow_handler_keeps_its_message_past_the_ack_wait(
    nats_server: EmbeddedNats,
) -> None:
    deliveries = 0

    async def slow(msg: Msg) -> None:
        nonlocal deliveries
        deliveries += 1
        await asyncio.sleep(5)  # well past the 2 s ack wait: its heartbeats keep it

    async with connected(nats_server.operator_url) as link, consuming(link, slow, ack_wait=2.0):
        await publish(link, "w1")
        await eventually(lambda: _all_acked(link, "test"), within=10)
    assert deliveries == 1


async def test_a_handler_stuck_past_its_limit_loses_its_message_to_another(
    nats_server: EmbeddedNats,
) -> None:
    """A handler hung (say on a database that stopped answering) stops its heartbeats after
    `stuck_after`: the message is delivered again (to another replica, or to this one's next
    pull) instead of waiting on it for ever."""
    await _taken_over(
        nats_server.operator_url, {"ack_wait": 1.0, "stuck_after": 2.0}, stop_first=False
    )


async def _taken_over(url: str, options: dict[str, float], *, stop_first: bool) -> None:
    """A message whose handler never returns is handled by another consumer: the first one
    stopped before the other starts, or left running beside it."""
    started = asyncio.Event()
    handled = asyncio.Event()

    async def hung(msg: Msg) -> None:
        if started.is_set():  # delivered to the stuck consumer again: it has recovered
            handled.set()
            return
        started.set()
        await asyncio.Event().wait()

    async def handle(msg: Msg) -> None:
        handled.set()

    async with connected(url) as link, contextlib.AsyncExitStack() as first:
        await publish(link, "t1")
        await first.enter_async_context(consuming(link, hung, **options))
        await started.wait()
        if stop_first:
            await first.aclose()
        async with consuming(link, handle, ack_wait=options["ack_wait"]):
            await asyncio.wait_for(handled.wait(), 5 if stop_first else 10)


async def test_a_message_failing_on_a_bug_is_set_aside_listed_and_replayed(
    nats_server: EmbeddedNats,
) -> None:
    labels = {"stream": EVENTS.name, "durable": "test"}
    dead_before = REGISTRY.get_sample_value("omni_dead_letters_total", labels) or 0
    fixed = False
    handled: list[bytes] = []

    async def handle(msg: Msg) -> None:
        if not fixed:
            raise KeyError("a bug: field 'x' missing")
        handled.append(msg.data)

    async with connected(nats_server.operator_url, dead_letter_after=2) as link:
        await publish(link, "p1", **{"Omni-Request-Id": "req-7"})
        async with consuming(link, handle):
            letters = await eventually(lambda: _dead_letters(link), within=10)
            assert await _all_acked(link, "test")  # not redelivered any more
        [letter] = letters
        assert (letter.subject, letter.durable, letter.deliveries) == ("test.events.x", "test", 2)
        assert letter.error == "KeyError: \"a bug: field 'x' missing\""
        assert letter.headers == {MSG_ID_HEADER: "p1", "Omni-Request-Id": "req-7"}
        assert letter.payload == b"payload"
        dead = REGISTRY.get_sample_value("omni_dead_letters_total", labels)
        assert dead == dead_before + 1

        fixed = True
        async with consuming(link, handle):
            await deadletters.replay(link.js, letter)
            await eventually(lambda: _at_least(lambda: len(handled), 1), within=10)
        assert handled == [b"payload"]
        assert await _dead_letters(link) == []


async def test_only_failures_on_a_bug_count_towards_setting_a_message_aside(
    nats_server: EmbeddedNats,
) -> None:
    deliveries = 0

    async def handle(msg: Msg) -> None:
        nonlocal deliveries
        deliveries += 1
        if deliveries == 1:
            raise Unavailable("the database is unavailable")  # not counted
        raise KeyError("a bug")

    async with connected(nats_server.operator_url, dead_letter_after=2) as link:
        await publish(link, "b1")
        async with consuming(link, handle):
            [letter] = await eventually(lambda: _dead_letters(link), within=15)
        assert letter.deliveries == 3  # set aside on its second failure on the bug


async def test_a_message_failing_for_an_outage_is_never_set_aside(
    nats_server: EmbeddedNats,
) -> None:
    deliveries = 0

    async def handle(msg: Msg) -> None:
        nonlocal deliveries
        deliveries += 1
        if deliveries <= 2:
            raise Unavailable("the database is unavailable")

    async with connected(nats_server.operator_url, dead_letter_after=1) as link:
        await publish(link, "o1")
        async with consuming(link, handle):
            await eventually(lambda: _at_least(lambda: deliveries, 3), within=10)
            await eventually(lambda: _all_acked(link, "test"), within=5)
        assert await _dead_letters(link) == []


def test_the_dead_letter_command_lists_and_replays_by_sequence(
    nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    asyncio.run(_set_aside_one(nats_server.operator_url))
    database = f"sqlite+aiosqlite:///{tmp_path}/stock.db"  # never opened by this command
    # Replaying republishes on the original subject: the operator's act, with its login.
    env = {**os.environ, **nats_server.env("operator"), "OMNI_STOCK_DATABASE_URL": database}

    def omni_stock(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "omni.stock", "dead-letters", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    listed = omni_stock("list")
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    seq, _when, durable, subject, deliveries, error = line.split("\t")
    assert (durable, subject, deliveries) == ("stock-test", "test.events.x", "1 deliveries")
    assert error == "RuntimeError: boom"
    assert omni_stock("replay").returncode == 2  # says what to name
    assert omni_stock("replay", "999").returncode == 1
    replayed = omni_stock("replay", seq)
    assert replayed.returncode == 0, replayed.stderr
    assert omni_stock("list").stdout == ""
    assert (
        asyncio.run(_messages_on(nats_server.operator_url, "test.events.x")) == 2
    )  # and the replay


async def _messages_on(url: str, subject: str) -> int:
    async with connected(url) as link:
        info = await link.js.stream_info(EVENTS.name, subjects_filter=subject)
        return int(info.state.messages)


async def _set_aside_one(url: str) -> None:
    link = NatsLink(url, "stock", [EVENTS, DEAD_LETTERS, CONSUMER_FAILURES], 1, dead_letter_after=1)
    await link.run()

    async def boom(msg: Msg) -> None:
        raise RuntimeError("boom")

    try:
        await publish(link, "c1")
        async with consuming(link, boom, "stock-test"):
            await eventually(lambda: _dead_letters(link), within=10)
    finally:
        await link.close()


def _replica_stuck_in_its_handler(url: str, folder: Path) -> subprocess.Popen[bytes]:
    """Another process consuming as "test" whose handler never returns (a replica to kill)."""
    script = folder / "replica.py"
    script.write_text(
        "import asyncio, sys\n"
        "from tests.integration.test_consumer import connected, consuming, _never\n"
        "async def main():\n"
        "    async with connected(sys.argv[1]) as link, consuming(link, _never) as task:\n"
        "        await task\n"
        "asyncio.run(main())\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen([sys.executable, str(script), url], env=env)


async def _never(msg: Msg) -> None:
    await asyncio.Event().wait()


async def _held_by_one(link: NatsLink) -> bool:
    """The other replica is pulling (its pull request waits at the consumer)."""
    try:
        info = await link.js.consumer_info(EVENTS.name, "test")
    except NotFoundError:  # not made yet
        return False
    return bool(info.num_waiting >= 1)


async def _ack_pending(link: NatsLink, count: int) -> bool:
    try:
        info = await link.js.consumer_info(EVENTS.name, "test")
    except NotFoundError:  # not made yet: the consumer creates it as it starts
        return False
    return bool(info.num_ack_pending == count)


async def _all_acked(link: NatsLink, durable: str) -> bool:
    try:
        info = await link.js.consumer_info(EVENTS.name, durable)
    except NotFoundError:  # not made yet
        return False
    return bool(info.num_ack_pending == 0 and info.num_pending == 0)


async def _dead_letters(link: NatsLink) -> list[deadletters.DeadLetter]:
    return [letter async for letter in deadletters.listed(link.js, link.service)]


async def _at_least(value: Callable[[], int], minimum: int) -> bool:
    return value() >= minimum


async def _contains(items: list[str], item: str) -> bool:
    return item in items
