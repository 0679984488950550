"""Idempotent consumers: a durable JetStream pull loop, and recording handled event ids."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from nats.aio.msg import Msg
from nats.js.api import DEFAULT_PREFIX, AckPolicy, ConsumerConfig
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from omni.platform import deadletters, metrics, tracing
from omni.platform.clock import utcnow
from omni.platform.db import HasConnection, is_connection_error
from omni.platform.driver import insert_ignoring_conflicts
from omni.platform.errors import Conflict, Unavailable
from omni.platform.logs import NATS_HEADER, request_scope
from omni.platform.messaging import STATUS_HEADER, NatsLink
from omni.platform.tasks import reraise_if_cancelled

log = logging.getLogger(__name__)

Handler = Callable[[Msg], Awaitable[None]]


async def unhandled(
    conn: AsyncConnection, processed: Table, consumer: str, event_ids: list[str]
) -> set[str]:
    """Records in the caller's transaction that `consumer` handled these events; returns
    those not handled before (the caller applies only their effects). As the record commits
    with the effects, a redelivered event changes nothing."""
    now = utcnow()
    rows = [{"consumer": consumer, "event_id": e, "processed_at": now} for e in set(event_ids)]
    return set(await insert_ignoring_conflicts(conn, processed, rows, "event_id"))


async def first_deliveries(
    conn: AsyncConnection, processed: Table, consumer: str, event_ids: Sequence[str]
) -> list[bool]:
    """For a batch of events handled in one transaction: whether each is to be applied, i.e.
    not handled before, nor earlier in the same batch (see `unhandled`)."""
    fresh = await unhandled(conn, processed, consumer, list(event_ids))
    firsts: list[bool] = []
    for event_id in event_ids:
        firsts.append(event_id in fresh)
        fresh.discard(event_id)
    return firsts


class FromEvent(Protocol):
    @property
    def event_id(self) -> str: ...


Tx = TypeVar("Tx", bound=HasConnection)
E = TypeVar("E", bound=FromEvent)
P = ParamSpec("P")
EventHandler = Callable[Concatenate[Tx, E, P], Awaitable[None]]


def once_per_event(
    processed: Table, consumer: str
) -> Callable[[EventHandler[Tx, E, P]], EventHandler[Tx, E, P]]:
    """A handler of what another service's event asks `(tx, command, ...)`, applied once per
    event however often it is delivered: the event's id is recorded in the handler's
    transaction (`unhandled`), and a delivery seen before changes nothing."""

    def decorate(handler: EventHandler[Tx, E, P]) -> EventHandler[Tx, E, P]:
        @functools.wraps(handler)
        async def run(tx: Tx, command: E, /, *args: P.args, **kwargs: P.kwargs) -> None:
            if await unhandled(tx.conn, processed, consumer, [command.event_id]):
                await handler(tx, command, *args, **kwargs)

        return run

    return decorate


def redelivery_delay(attempt: int, exc: BaseException) -> float:
    """How long a message waits after its `attempt`-th failed delivery: doubling from 1 s.
    A message is never dropped (it may carry an order). One that fails on a bug so retries
    about once a minute, not once a second, until a fix is deployed; one that failed because
    the database or NATS is away waits at most 5 s, to go through soon after they are back."""
    longest = 5.0 if is_transient(exc) else 60.0
    return min(longest, 2.0 ** min(max(attempt - 1, 0), 32))


def is_transient(exc: BaseException) -> bool:
    """The message is fine, the world is not (yet): an outage or a conflict that passes."""
    return isinstance(exc, Unavailable | Conflict | ConnectionError | TimeoutError) or (
        is_connection_error(exc)
    )


# A message is given to another replica when its handler stops answering for this long:
# a replica killed mid-handling holds its messages no longer than this. A handler still at
# work says so three times as often (an in-progress ack), so a slow one keeps its message.
ACK_WAIT_SECONDS = 3.0
# A handler at work longer than this is taken for stuck: its heartbeats stop, and the message
# goes to another replica (the effect is once, whichever finishes: consumers are idempotent).
STUCK_AFTER_SECONDS = 60.0


# A pull request stands this long at most; while it waits, JetStream says so this often.
PULL_EXPIRES_SECONDS = 30.0
PULL_HEARTBEAT_SECONDS = 1.0
# What JetStream answers on a pull request's reply subject besides messages: a status code.
STILL_WAITING = "100"  # an idle heartbeat
EXPIRED = "408"  # the request ended unfilled; PENDING_HEADER says by how many
ENDED = "409"  # ended otherwise (a leader changed, too many requests waiting, ...)
DESCRIPTION_HEADER = "Description"
PENDING_HEADER = "Nats-Pending-Messages"


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)


class Pulls:
    """A consumer's pull requests: messages being handled, and those asked for and not
    yet come (`credit`); together at most `batch`, give or take requests lost unseen.

    Each request has its own reply subject, so that the end of one (its unfilled part)
    is taken off the credit once, and the end of one forgotten (after a reset) not at all.
    """

    def __init__(self, batch: int, inbox: str) -> None:
        self.batch = batch
        self.inbox = inbox
        self.running: set[asyncio.Task[None]] = set()
        self.credit = 0
        self.standing: dict[str, int] = {}  # reply subject -> messages asked for
        self.asked = 0  # requests made, for their reply subjects
        self.last_heard = 0.0  # when JetStream last sent anything (a message, a heartbeat)
        self.paused = False  # a request was refused: wait a moment before the next
        self.failure = ""  # JetStream's answer that the consumer cannot go on with
        self.changed = asyncio.Event()

    def ask(self, want: int) -> str:
        """The reply subject of a new request for `want` messages."""
        self.asked += 1
        reply = f"{self.inbox}.{self.asked}"
        self.standing[reply] = want
        self.credit += want
        self.last_heard = time.monotonic()
        return reply

    def ended(self, reply: str, unfilled: int | None) -> None:
        """A request ended, `unfilled` short (None: not said, so all it still had)."""
        want = self.standing.pop(reply, None)
        if want is not None:  # else one forgotten since, or an unknown subject
            left = min(want, self.credit) if unfilled is None else unfilled
            self.credit = max(self.credit - left, 0)

    def heard(self, msg: Msg) -> bool:
        """Takes in what came on a reply subject: True for a message to handle, else a
        status (a heartbeat, a request's end, or a refusal the consumer cannot go on with)."""
        self.last_heard = time.monotonic()
        headers = msg.headers or {}
        status = headers.get(STATUS_HEADER)
        said = f"{status} {headers.get(DESCRIPTION_HEADER, '')}".strip()
        if status is None:
            self.credit = max(self.credit - 1, 0)
            return True
        if status == EXPIRED:
            unfilled = headers.get(PENDING_HEADER)
            self.ended(msg.subject, int(unfilled) if unfilled else None)
        elif status == ENDED:  # e.g. too many requests waiting: not again at once
            self.ended(msg.subject, None)
            self.paused = True
            if "deleted" in said.lower():
                self.failure = said
        elif status != STILL_WAITING:  # no such consumer (404, 503...): declare it again
            self.failure = said
        return False

    def forget(self) -> None:
        """No word from JetStream for too long: its requests are gone (NATS restarted)."""
        self.standing.clear()
        self.credit = 0

    def wanted(self) -> int:
        """How many to ask for now: none until half the room is free (or nothing is asked
        for at all), so that a busy consumer asks in large requests."""
        room = self.batch - len(self.running) - self.credit
        return room if room > 0 and (room * 2 >= self.batch or self.credit == 0) else 0

    def done(self, task: asyncio.Task[None]) -> None:
        self.running.discard(task)
        if self.wanted():
            self.changed.set()

    def wake(self) -> None:
        if self.failure or self.wanted():
            self.changed.set()


class DurableConsumer:
    """Pulls from a durable consumer and acks each message only after its handler committed.

    A handler that raises gets the message redelivered after a growing delay
    (`redelivery_delay`), counted in omni_consumer_failures_total; once it has failed on a
    bug (not an outage) the link's `dead_letter_after` times, counted across replicas, it is
    set aside as a dead letter (omni.platform.deadletters) instead. A handler cancelled (shutdown)
    gives its message back at once. The consumer is shared by every replica of the service,
    so each message is handled by one of them at a time. Handlers run concurrently, so
    messages are not handled in order: commands and events must carry enough to be applied
    in any order (e.g. quantities, not "the rest").
    """

    def __init__(
        self,
        link: NatsLink,
        *,
        stream: str,
        subject: str,
        durable: str,
        handler: Handler,
        batch: int = 64,
        ack_wait: float = ACK_WAIT_SECONDS,
        stuck_after: float = STUCK_AFTER_SECONDS,
    ) -> None:
        self._link = link
        self._stream = stream
        self._subject = subject
        self._durable = durable
        self._handler = handler
        self._batch = batch
        self._ack_wait = ack_wait
        self._stuck_after = stuck_after
        self._started: dict[int, tuple[Msg, float]] = {}  # by id: being handled, since when
        self._lag = metrics.CONSUMER_PENDING.labels(stream, durable)

    async def run(self) -> None:
        """Consumes until cancelled, riding out NATS restarts."""
        while True:
            try:
                await self._declare()
                async with _background(self._heartbeats()):
                    await self._pull()
            except Exception as exc:
                reraise_if_cancelled(exc)
                log.warning("consumer %s paused: %s", self._durable, exc)
                await asyncio.sleep(1.0)

    async def _declare(self) -> None:
        # Created, or updated to this configuration (an older ack wait, say): the server
        # applies a changed configuration of an existing durable consumer.
        config = ConsumerConfig(
            durable_name=self._durable,
            name=self._durable,
            filter_subject=self._subject,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self._ack_wait,
        )
        await self._link.js.add_consumer(self._stream, config)

    async def _pull(self) -> None:
        """Handles each message as it comes, up to `batch` at once.

        Pull requests stand: asked for as many messages as there is room for, JetStream sends
        each as it arrives (a quiet service costs no request per message, and a busy one
        gets its backlog in the same flow, so concurrent handlers share work, e.g. one stock
        transaction for many allocations). More is asked for once half the room is free; a
        request ends when filled or after PULL_EXPIRES_SECONDS. While a request waits,
        JetStream says so every PULL_HEARTBEAT_SECONDS: silence means the requests are gone
        (NATS restarted, say), and the consumer asks again.
        """
        nc = self._link.nc
        if nc is None:
            raise ConnectionError("not connected to NATS yet")
        flow = Pulls(self._batch, nc.new_inbox())

        async def arrived(msg: Msg) -> None:
            if flow.heard(msg):
                self._dispatch(msg, flow)
            flow.wake()

        sub = await nc.subscribe(f"{flow.inbox}.*", cb=arrived)
        request = f"{DEFAULT_PREFIX}.CONSUMER.MSG.NEXT.{self._stream}.{self._durable}"
        try:
            while not flow.failure:
                if flow.paused:
                    flow.paused = False
                    await asyncio.sleep(0.1)
                # Not while NATS is away: the client would keep each request to send on
                # reconnecting, and the requests of a long outage would then bring many
                # times `batch` at once.
                if nc.is_connected and (want := flow.wanted()):
                    body = {"batch": want, "expires": _ns(PULL_EXPIRES_SECONDS)}
                    body["idle_heartbeat"] = _ns(PULL_HEARTBEAT_SECONDS)
                    await nc.publish(request, json.dumps(body).encode(), reply=flow.ask(want))
                flow.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(flow.changed.wait(), PULL_HEARTBEAT_SECONDS)
                silent = time.monotonic() - flow.last_heard
                if flow.credit and silent > 3 * PULL_HEARTBEAT_SECONDS:
                    flow.forget()  # no heartbeat: the requests are gone; ask again
            raise ConnectionError(f"consumer {self._durable}: {flow.failure.strip()}")
        finally:
            # Unsubscribed first: JetStream then knows nobody waits on these pull requests
            # any more, and gives what is handed back below to a live one. (Also, else
            # drain() on shutdown waits for messages that will never be handled.)
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
            for task in flow.running:  # each gives its message back (a nak) as it stops
                task.cancel()
            if flow.running:  # before the connection goes
                await asyncio.wait(flow.running, timeout=1.0)

    def _dispatch(self, msg: Msg, flow: Pulls) -> None:
        lag = msg.metadata.num_pending  # each message tells how many wait behind it
        self._lag.set(lag)
        task = asyncio.create_task(self._handle(msg))
        flow.running.add(task)
        task.add_done_callback(flow.done)

    async def _handle(self, msg: Msg) -> None:
        try:
            failure = await self._run_handler(msg)
            if failure is None:
                await msg.ack()
            else:
                await self._failed(msg, failure)
        except asyncio.CancelledError:
            # Given back now: another replica takes it at once, not after the ack wait.
            with contextlib.suppress(Exception):
                await msg.nak()
            raise
        except Exception as exc:  # NATS went away under the ack: redelivered, done once
            reraise_if_cancelled(exc)
            log.warning("consumer %s: cannot acknowledge %s: %s", self._durable, msg.subject, exc)

    async def _run_handler(self, msg: Msg) -> Exception | None:
        """Runs the handler, with heartbeats while it works; its error, if it failed."""
        headers = msg.headers or {}
        self._started[id(msg)] = (msg, time.monotonic())
        try:
            with (
                request_scope(headers.get(NATS_HEADER)) as request_id,
                tracing.consuming(msg.subject, request_id, headers.get(tracing.TRACEPARENT_HEADER)),
            ):
                await self._handler(msg)
        except Exception as exc:
            reraise_if_cancelled(exc)
            return exc
        finally:  # no heartbeat after this: it would cut a nak's delay short
            del self._started[id(msg)]
        return None

    async def _failed(self, msg: Msg, exc: Exception) -> None:
        """Redelivered later; or, failing on a bug once too often, set aside."""
        attempt = msg.metadata.num_delivered or 1
        metrics.CONSUMER_FAILURES.labels(self._stream, self._durable).inc()
        outage = is_transient(exc)
        if not outage and await self._set_aside(msg, exc):
            return
        delay = redelivery_delay(attempt, exc)
        # An outage is said in a line (its cause is reported where it is seen); a bug with
        # its traceback.
        log.log(
            logging.WARNING if outage else logging.ERROR,
            "consumer %s: handling %s failed (attempt %d); retrying in %.0f s%s",
            self._durable,
            msg.subject,
            attempt,
            delay,
            f": {exc}" if outage else "",
            exc_info=None if outage else exc,
        )
        await msg.nak(delay=delay)

    async def _set_aside(self, msg: Msg, exc: Exception) -> bool:
        """Counts a failure on a bug; at the limit, stores `msg` as a dead letter and ends its
        deliveries. False when it is to be retried (NATS unable to count it: next time)."""
        link = self._link
        try:
            failures = await deadletters.count_failure(link.js, self._durable, msg)
            if failures < link.dead_letter_after:
                return False
            await deadletters.put(link.js, link.service, self._durable, msg, exc)
            await msg.term()
        except Exception as unstored:
            reraise_if_cancelled(unstored)
            log.warning("consumer %s: failure not counted yet: %s", self._durable, unstored)
            return False
        metrics.DEAD_LETTERS.labels(self._stream, self._durable).inc()
        log.error(
            "consumer %s: %s failed %d times; set aside as a dead letter (list and replay "
            "with `omni-%s dead-letters`)",
            self._durable,
            msg.subject,
            failures,
            link.service,
            exc_info=exc,
        )
        return True

    async def _heartbeats(self) -> None:
        """Tells JetStream, for each message handled longer than a heartbeat, that its handler
        is still at work (so the ack wait can stay short)."""
        beat = self._ack_wait / 3
        while True:
            await asyncio.sleep(beat)
            now = time.monotonic()
            for msg, since in list(self._started.values()):
                if now - since >= self._stuck_after:
                    if now - since < self._stuck_after + beat:  # said once
                        log.warning("consumer %s: %s stuck; given up", self._durable, msg.subject)
                elif now - since >= beat and id(msg) in self._started:  # not done meanwhile
                    with contextlib.suppress(Exception):
                        await msg.in_progress()


@contextlib.asynccontextmanager
async def _background(work: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    task = asyncio.create_task(work)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
