"""Idempotent consumers: a durable JetStream pull loop, and recording handled event ids."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from omni.platform import metrics, tracing
from omni.platform.clock import utcnow
from omni.platform.db import insert_ignoring_conflicts, is_connection_error
from omni.platform.errors import Conflict, Unavailable
from omni.platform.logs import NATS_HEADER, request_scope
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


class DurableConsumer:
    """Pulls from a durable consumer and acks each message only after its handler committed.

    A handler that raises gets the message redelivered after a growing delay
    (`redelivery_delay`), counted in omni_consumer_failures_total; the consumer is shared by
    every replica of the service, so each message is handled by one of them at a time.
    Handlers run concurrently, so messages are not handled in order: commands and events
    must carry enough to be applied in any order (e.g. quantities, not "the rest").
    """

    def __init__(
        self,
        js: JetStreamContext,
        *,
        stream: str,
        subject: str,
        durable: str,
        handler: Handler,
        batch: int = 64,
        ack_wait: float = 30.0,
    ) -> None:
        self._js = js
        self._stream = stream
        self._subject = subject
        self._durable = durable
        self._handler = handler
        self._batch = batch
        self._ack_wait = ack_wait

    async def run(self) -> None:
        """Consumes until cancelled, riding out NATS restarts."""
        while True:
            try:
                sub = await self._js.pull_subscribe(
                    self._subject,
                    durable=self._durable,
                    stream=self._stream,
                    config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=self._ack_wait),
                )
                try:
                    await self._pull(sub)
                finally:
                    # Else drain() on shutdown waits for a fetch that will never complete.
                    with contextlib.suppress(Exception):
                        await sub.unsubscribe()
            except Exception as exc:
                reraise_if_cancelled(exc)
                log.warning("consumer %s paused: %s", self._durable, exc)
                await asyncio.sleep(1.0)

    async def _pull(self, sub: JetStreamContext.PullSubscription) -> None:
        """Handles each message as it comes, up to `batch` at once.

        A message is dispatched as soon as it arrives (a fetch of many would wait to fill
        its batch); a backlog is then taken in one more fetch, so concurrent handlers can
        share work (e.g. one stock transaction for many allocations).
        """
        running: set[asyncio.Task[None]] = set()
        try:
            while True:
                while len(running) >= self._batch:
                    await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                try:
                    msgs = await sub.fetch(1, timeout=1.0)
                except TimeoutError as exc:
                    reraise_if_cancelled(exc)
                    continue
                self._dispatch(msgs, running)
                room = self._batch - len(running)
                if room > 0:
                    self._dispatch(await self._backlog(sub, room), running)
        finally:
            for task in running:  # unacknowledged: redelivered to whoever runs next
                task.cancel()

    @staticmethod
    async def _backlog(sub: JetStreamContext.PullSubscription, room: int) -> list[Msg]:
        try:
            return await sub.fetch(room, timeout=0.002)
        except TimeoutError as exc:
            reraise_if_cancelled(exc)
            return []

    def _dispatch(self, msgs: list[Msg], running: set[asyncio.Task[None]]) -> None:
        if msgs:  # each message tells how many wait behind it: 0 once caught up
            lag = msgs[-1].metadata.num_pending
            metrics.CONSUMER_PENDING.labels(self._stream, self._durable).set(lag)
        for msg in msgs:
            task = asyncio.create_task(self._handle(msg))
            running.add(task)
            task.add_done_callback(running.discard)

    async def _handle(self, msg: Msg) -> None:
        headers = msg.headers or {}
        try:
            with (
                request_scope(headers.get(NATS_HEADER)) as request_id,
                tracing.consuming(msg.subject, request_id, headers.get(tracing.TRACEPARENT_HEADER)),
            ):
                await self._handler(msg)
        except Exception as exc:
            reraise_if_cancelled(exc)
            attempt = msg.metadata.num_delivered or 1
            delay = redelivery_delay(attempt, exc)
            metrics.CONSUMER_FAILURES.labels(self._stream, self._durable).inc()
            log.exception(
                "consumer %s: handling %s failed (attempt %d); retrying in %.0f s",
                self._durable,
                msg.subject,
                attempt,
                delay,
            )
            await msg.nak(delay=delay)
            return
        await msg.ack()
