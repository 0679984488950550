"""NATS and JetStream: connecting, declaring streams, publishing the outbox, consuming."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import ssl
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

from omni.platform.logs import NATS_HEADER
from omni.platform.outbox import OutboxMessage
from omni.platform.tasks import reraise_if_cancelled
from omni.platform.tracing import TRACEPARENT_HEADER

log = logging.getLogger(__name__)

MSG_ID_HEADER = "Nats-Msg-Id"
STATUS_HEADER = "Status"  # how nats-py gives a status reply's code (e.g. 503, no responders)
DUPLICATE_WINDOW_SECONDS = 120.0


@dataclass(frozen=True)
class NatsLogin:
    """A NATS user and its password (from a Secret in production)."""

    user: str
    password: str = field(repr=False)

    def options(self) -> dict[str, str]:
        """nats.connect's arguments: the user, and replies under its own inbox prefix (the
        only inbox its permissions let it read)."""
        return {"user": self.user, "password": self.password, "inbox_prefix": f"_INBOX.{self.user}"}


@dataclass(frozen=True)
class StreamSpec:
    """A JetStream stream a service owns and declares at start."""

    name: str
    subjects: list[str]
    work_queue: bool = False
    max_age_seconds: float = 7 * 24 * 3600.0
    # 1: keep only the latest message per subject (a last-value stream)
    max_msgs_per_subject: int = -1
    # Never cut by size (its age alone bounds it): what must not be dropped (dead letters).
    keep_all: bool = False
    extra: dict[str, object] = field(default_factory=dict)


async def connect(
    url: str,
    name: str,
    on_reconnect: Callable[[], None] = lambda: None,
    tls: ssl.SSLContext | None = None,
    login: NatsLogin | None = None,
) -> NatsClient:
    """Connects, and keeps reconnecting for ever after a loss (the outbox holds events).
    `tls` (a context trusting NATS's CA) makes the connection TLS; `login` names the user
    (omni.platform.nats_access) and its replies come back under that user's own inbox."""

    async def on_error(exc: Exception) -> None:
        log.warning("nats: %s", exc)

    client: NatsClient | None = None

    async def on_disconnect() -> None:
        if client is not None and not (client.is_draining or client.is_closed):
            log.warning("nats: disconnected; reconnecting (events wait in the outbox)")

    async def reconnected() -> None:
        log.info("nats: reconnected")
        on_reconnect()

    client = await nats.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=2,
        allow_reconnect=True,
        error_cb=on_error,
        disconnected_cb=on_disconnect,
        reconnected_cb=reconnected,
        tls=tls,
        **(login.options() if login else {}),
    )
    return client


async def ensure_streams(
    js: JetStreamContext,
    specs: Sequence[StreamSpec],
    replicas: int,
    max_bytes: int = -1,
    owned: Collection[str] | None = None,
) -> None:
    """Creates each stream missing, and updates those in `owned` (None: all) to this
    configuration; safe to run from every replica at every start. A stream another service
    owns is left as its owner set it: a replica of one service, mid-rollout, never undoes
    what the owner's new release set.

    `max_bytes` bounds each event stream besides its age (-1: age alone): past it the oldest
    events go, as past their age. Not bounded by bytes: a work queue (a command is never
    dropped, and a refused one would hold up its sender's whole outbox; the orders' backlog
    limit bounds the allocation queue instead), a stream kept whole (`keep_all`: dead
    letters), and a stream of latest values (one per subject: what it describes bounds it)."""
    for spec in specs:
        unbounded = spec.work_queue or spec.keep_all or spec.max_msgs_per_subject == 1
        config = StreamConfig(
            name=spec.name,
            subjects=spec.subjects,
            retention=RetentionPolicy.WORK_QUEUE if spec.work_queue else RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            num_replicas=replicas,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            max_age=spec.max_age_seconds,
            max_msgs_per_subject=spec.max_msgs_per_subject,
            max_bytes=-1 if unbounded else max_bytes,
            discard=DiscardPolicy.OLD,
        )
        try:
            await js.add_stream(config)
        except BadRequestError:  # it exists, configured otherwise
            if owned is None or spec.name in owned:
                await js.update_stream(config)


class JetStreamPublisher:
    """Publishes a batch to JetStream, each message with its `Nats-Msg-Id`, and waits until
    JetStream has acknowledged every one.

    Acknowledgements come back on one wildcard inbox, subscribed once, and a batch waits on a
    single future that its last acknowledgement resolves. (nats-py's publish_async keeps a
    future, a semaphore slot and a random token per message and parses each acknowledgement
    into a PubAck: it cost about as much again as sending the message.)
    """

    def __init__(self, nc: NatsClient, ack_timeout: float = 5.0) -> None:
        self._nc = nc
        self._ack_timeout = ack_timeout
        self._inbox = nc.new_inbox()
        self._waiting: dict[str, _Acks] = {}
        self._tokens = itertools.count()
        self._subscribed = False

    async def __call__(self, messages: Sequence[OutboxMessage]) -> None:
        if not messages:
            return
        if not self._subscribed:
            await self._nc.subscribe(f"{self._inbox}.*", cb=self._on_ack)
            self._subscribed = True
        acks = _Acks(len(messages))
        tokens = [str(next(self._tokens)) for _ in messages]
        try:
            for token, m in zip(tokens, messages, strict=True):
                self._waiting[token] = acks
                reply = f"{self._inbox}.{token}"
                await self._nc.publish(m.subject, m.payload, reply=reply, headers=_headers(m))
            refused = await asyncio.wait_for(acks.done, self._ack_timeout)
        except TimeoutError:
            refused = acks.refused + acks.left
        finally:
            for token in tokens:
                self._waiting.pop(token, None)
        if refused:
            # The relay keeps the rows and publishes them again (JetStream drops duplicates).
            raise ConnectionError(f"{refused} of {len(messages)} events not acknowledged")

    async def _on_ack(self, msg: Msg) -> None:
        acks = self._waiting.pop(msg.subject[len(self._inbox) + 1 :], None)
        if acks is not None:  # else the batch gave up waiting already
            acks.count(stored=_stored(msg))


class _Acks:
    """A batch's outstanding acknowledgements; `done` gives how many were refusals."""

    def __init__(self, expected: int) -> None:
        self.left = expected
        self.refused = 0
        self.done: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def count(self, *, stored: bool) -> None:
        self.left -= 1
        self.refused += not stored
        if self.left == 0 and not self.done.done():
            self.done.set_result(self.refused)


def _stored(msg: Msg) -> bool:
    """A PubAck, not an error: no status header (503: no stream listens on the subject), and
    no `error` in its JSON (e.g. the stream is full)."""
    if msg.headers and msg.headers.get(STATUS_HEADER):
        return False
    return b'"error"' not in msg.data or "error" not in json.loads(msg.data)


def _headers(message: OutboxMessage) -> dict[str, str]:
    """`Nats-Msg-Id` for de-duplication, and where the event came from, if known."""
    headers = {MSG_ID_HEADER: message.event_id}
    if message.request_id:
        headers[NATS_HEADER] = message.request_id
    if message.traceparent:
        headers[TRACEPARENT_HEADER] = message.traceparent
    return headers


class NatsLink:
    """A service's NATS connection, made in the background so that the service starts (and
    keeps its outbox) while NATS is down; `on_connect` hooks run once it is up."""

    def __init__(
        self,
        url: str,
        service: str,
        streams: Sequence[StreamSpec],
        replicas: int,
        on_reconnect: Callable[[], None] = lambda: None,
        tls: ssl.SSLContext | None = None,
        dead_letter_after: int = 10,
        login: NatsLogin | None = None,
        max_bytes: int = -1,
        owned: Collection[str] | None = None,
    ) -> None:
        self.url = url
        self._tls = tls
        self._login = login
        self._on_reconnect = on_reconnect
        self.service = service
        self._name = f"omni-{service}"
        # Its consumers set a message aside after it failed on this many deliveries.
        self.dead_letter_after = dead_letter_after
        self._streams = streams
        self._replicas = replicas
        self._max_bytes = max_bytes
        self._owned = owned
        self.nc: NatsClient | None = None
        # One for the connection's life: its reply inbox is subscribed once, on first use.
        self._publisher: JetStreamPublisher | None = None
        self.ready = asyncio.Event()

    @property
    def js(self) -> JetStreamContext:
        if self.nc is None:
            raise ConnectionError("not connected to NATS yet")
        return self.nc.jetstream()

    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    async def run(self) -> None:
        """Connects (retrying), declares the streams, then returns."""
        delay = 0.2
        while self.nc is None:
            try:
                nc = await connect(self.url, self._name, self._on_reconnect, self._tls, self._login)
                await ensure_streams(
                    nc.jetstream(), self._streams, self._replicas, self._max_bytes, self._owned
                )
                self.nc = nc
                self._publisher = JetStreamPublisher(nc)
            except Exception as exc:
                reraise_if_cancelled(exc)
                log.warning("nats: cannot connect to %s yet (%s); retrying", self.url, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self.ready.set()

    async def publish(self, messages: Sequence[OutboxMessage]) -> None:
        """The outbox relay's publish: fails (and is retried) until NATS is reachable."""
        if self._publisher is None or not self.connected():
            raise ConnectionError("NATS is not connected")
        await self._publisher(messages)

    async def close(self) -> None:
        """Drains subscriptions and pending publishes, then closes."""
        if self.nc is not None and not self.nc.is_closed:
            try:
                await asyncio.wait_for(self.nc.drain(), 2.0)
            except Exception as exc:  # e.g. a pull subscription cancelled mid-fetch
                log.info("nats: drain incomplete (%r); closing", exc)
                await self.nc.close()
