"""Dead letters: a message whose handling keeps failing on a bug is set aside, with its error,
in one stream; it is counted, listed and replayed once the cause is fixed. Never dropped.

A dead letter keeps the message as it was (subject, payload, headers, so the same event id)
and says where it came from in `Omni-Dead-*` headers. Replaying publishes it again on its
subject: consumers record what they handled, so one that had handled it changes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from omni.platform.messaging import MSG_ID_HEADER, NatsLink
from omni.platform.streams import CONSUMER_FAILURES, DEAD_LETTERS

_PREFIX = "Omni-Dead-"
_SUBJECT, _STREAM, _SEQUENCE = f"{_PREFIX}Subject", f"{_PREFIX}Stream", f"{_PREFIX}Sequence"
_DURABLE, _DELIVERIES, _ERROR = f"{_PREFIX}Durable", f"{_PREFIX}Deliveries", f"{_PREFIX}Error"
MAX_ERROR_LENGTH = 500
_NOT_IN_HEADER = re.compile(r"[\x00-\x1f\x7f]+")  # header values are one line


async def count_failure(js: JetStreamContext, durable: str, msg: Msg) -> int:
    """Counts one more failure (not an outage) of `msg` by `durable`; how many so far."""
    meta = msg.metadata
    key = f"failures.{durable}.{meta.stream}.{meta.sequence.stream}"
    try:
        last = await js.get_last_msg(CONSUMER_FAILURES.name, key)
        count = int(last.data or b"0") + 1
    except NotFoundError:
        count = 1
    await js.publish(key, str(count).encode())
    return count


def subject(service: str, durable: str) -> str:
    return f"deadletter.{service}.{durable}"


def describe(exc: BaseException) -> str:
    """The error as one short line (a header value)."""
    text = _NOT_IN_HEADER.sub(" ", f"{type(exc).__name__}: {exc}").strip()
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"


async def put(
    js: JetStreamContext, service: str, durable: str, msg: Msg, exc: BaseException
) -> None:
    """Stores `msg` as a dead letter; raises unless JetStream stored it. Set aside twice (a
    crash before the original was terminated), it is stored once."""
    meta = msg.metadata
    headers = {k: v for k, v in (msg.headers or {}).items() if not k.startswith(_PREFIX)}
    origin = {
        _SUBJECT: msg.subject,
        _STREAM: meta.stream,
        _SEQUENCE: str(meta.sequence.stream),
        _DURABLE: durable,
        _DELIVERIES: str(meta.num_delivered),
        _ERROR: describe(exc),
        # The dead letter's own id: the original's keeps its place in the replayed message.
        MSG_ID_HEADER: f"dead:{meta.stream}:{meta.sequence.stream}",
    }
    if MSG_ID_HEADER in headers:
        origin[f"{_PREFIX}Msg-Id"] = headers[MSG_ID_HEADER]
    await js.publish(subject(service, durable), msg.data, headers={**headers, **origin})


@dataclass(frozen=True)
class DeadLetter:
    """One message set aside, as listed."""

    seq: int  # its place in DEAD_LETTERS: what `replay` takes
    time: datetime | None
    durable: str
    subject: str  # where it was published, and will be again
    stream: str
    stream_seq: int
    deliveries: int
    error: str
    payload: bytes
    headers: dict[str, str]  # the original message's, to publish it again as it was


async def listed(js: JetStreamContext, service: str) -> AsyncIterator[DeadLetter]:
    """The service's dead letters, oldest first."""
    seq = 1
    while True:
        try:
            raw = await js.get_msg(DEAD_LETTERS.name, seq, subject(service, ">"), next=True)
        except NotFoundError:
            return
        yield _read(raw.seq or seq, raw.time, raw.data or b"", raw.headers or {})
        seq = (raw.seq or seq) + 1


async def get(js: JetStreamContext, service: str, seq: int) -> DeadLetter | None:
    """One of the service's dead letters, or None."""
    try:
        raw = await js.get_msg(DEAD_LETTERS.name, seq)
    except NotFoundError:
        return None
    if not (raw.subject or "").startswith(subject(service, "")):
        return None
    return _read(seq, raw.time, raw.data or b"", raw.headers or {})


async def replay(js: JetStreamContext, letter: DeadLetter) -> None:
    """Publishes the message again on its subject, then removes the dead letter.

    Under a message id of its own (JetStream would drop the original's as a duplicate for two
    minutes), made from the dead letter's: a replay resent is stored once. Consumers know the
    event by the id in its payload, so one that had handled it changes nothing."""
    headers = dict(letter.headers)
    headers[MSG_ID_HEADER] = f"replay:{letter.seq}:{headers.get(MSG_ID_HEADER, '')}"
    await js.publish(letter.subject, letter.payload, headers=headers)
    await js.delete_msg(DEAD_LETTERS.name, letter.seq)


def _read(seq: int, time: datetime | None, data: bytes, headers: dict[str, str]) -> DeadLetter:
    original = {k: v for k, v in headers.items() if not k.startswith(_PREFIX)}
    if f"{_PREFIX}Msg-Id" in headers:
        original[MSG_ID_HEADER] = headers[f"{_PREFIX}Msg-Id"]
    else:
        original.pop(MSG_ID_HEADER, None)
    return DeadLetter(
        seq=seq,
        time=time,
        durable=headers.get(_DURABLE, ""),
        subject=headers.get(_SUBJECT, ""),
        stream=headers.get(_STREAM, ""),
        stream_seq=int(headers.get(_SEQUENCE, "0")),
        deliveries=int(headers.get(_DELIVERIES, "0")),
        error=headers.get(_ERROR, ""),
        payload=data,
        headers=original,
    )


def add_command(commands: Any) -> None:
    """`dead-letters [list | replay SEQ... | replay --all]` on a service's command line."""
    dead = commands.add_parser("dead-letters", help="list or replay messages set aside")
    dead.add_argument(
        "action", nargs="?", default="list", choices=["list", "replay"], help="(default: list)"
    )
    dead.add_argument("seqs", nargs="*", type=int, metavar="SEQ", help="dead letters to replay")
    dead.add_argument("--all", action="store_true", help="replay every dead letter")


async def command(link: NatsLink, args: argparse.Namespace) -> int:
    """Lists the service's dead letters, or replays some; the exit status."""
    try:
        await asyncio.wait_for(link.run(), 10.0)
    except TimeoutError:
        print(f"cannot reach NATS at {link.url}", file=sys.stderr)
        return 1
    try:
        if args.action == "list":
            return await _print_list(link)
        return await _replay_chosen(link, args.seqs, args.all)
    finally:
        await link.close()


async def _print_list(link: NatsLink) -> int:
    count = 0
    async for letter in listed(link.js, link.service):
        count += 1
        when = letter.time.isoformat(timespec="seconds") if letter.time else "?"
        print(
            f"{letter.seq}\t{when}\t{letter.durable}\t{letter.subject}\t"
            f"{letter.deliveries} deliveries\t{letter.error}"
        )
    print(f"{count} dead letter(s) for {link.service}", file=sys.stderr)
    return 0


async def _replay_chosen(link: NatsLink, seqs: list[int], every: bool) -> int:
    if every:
        seqs = [letter.seq async for letter in listed(link.js, link.service)]
    elif not seqs:
        print("name the dead letters to replay (SEQ as listed), or give --all", file=sys.stderr)
        return 2
    missing = 0
    for seq in seqs:
        letter = await get(link.js, link.service, seq)
        if letter is None:
            print(f"{seq}: no such dead letter of {link.service}", file=sys.stderr)
            missing += 1
            continue
        await replay(link.js, letter)
        print(f"{seq}: replayed on {letter.subject}")
    return 1 if missing else 0
