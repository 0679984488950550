"""The system's health as the dashboard shows it: each replica from its heartbeat
(omni.platform.replicas), and each durable consumer's lag from JetStream itself."""

from __future__ import annotations

import time
from dataclasses import dataclass

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from omni.platform.replicas import GONE_AFTER, SUBJECT, Heartbeat


class Replicas:
    """The latest heartbeat of every replica heard from recently (in memory: each console
    replica listens to every heartbeat itself)."""

    def __init__(self) -> None:
        self._latest: dict[tuple[str, str], tuple[Heartbeat, float]] = {}

    subject = f"{SUBJECT}.>"

    async def on_heartbeat(self, msg: Msg) -> None:
        beat = Heartbeat.decode(msg.data)
        if beat is not None:
            self._latest[beat.service, beat.replica] = (beat, time.monotonic())

    def current(self) -> list[Heartbeat]:
        """Replicas heard from within GONE_AFTER seconds, by service; the rest forgotten."""
        now = time.monotonic()
        for key, (_, heard) in list(self._latest.items()):
            if now - heard > GONE_AFTER:
                del self._latest[key]
        return sorted((beat for beat, _ in self._latest.values()), key=_by_service)


def _by_service(beat: Heartbeat) -> tuple[str, str]:
    return beat.service, beat.replica


@dataclass(frozen=True)
class Lag:
    stream: str
    consumer: str
    waiting: int  # not yet delivered
    in_hand: int  # delivered, not yet acknowledged


@dataclass(frozen=True)
class Streams:
    lags: list[Lag]
    dead_letters: int


async def stream_health(js: JetStreamContext) -> Streams:
    """Every durable consumer's backlog (not watchers' short-lived ones), and how many dead
    letters wait for a person."""
    lags, dead = [], 0
    for stream in await js.streams_info():
        name = stream.config.name or ""
        if name == "DEAD_LETTERS":
            dead = stream.state.messages
        for info in await js.consumers_info(name):
            if not info.config.durable_name:
                continue
            lags.append(
                Lag(name, info.name, int(info.num_pending or 0), int(info.num_ack_pending or 0))
            )
    lags.sort(key=lambda lag: (-(lag.waiting + lag.in_hand), lag.stream, lag.consumer))
    return Streams(lags, dead)
