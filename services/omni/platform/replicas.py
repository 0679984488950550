"""Each replica says every few seconds that it is there, whether it is SERVING, and how many
events wait in its outbox: on core NATS (`omni.replicas.<service>`), for the operations
dashboard. Nothing is stored: a replica that stops saying so is gone after `GONE_AFTER`."""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass

from nats.aio.client import Client as NatsClient

SUBJECT = "omni.replicas"
EVERY_SECONDS = 5.0
GONE_AFTER = 3 * EVERY_SECONDS
REPLICA = f"{socket.gethostname()}/{os.getpid()}"  # the pod's name in Kubernetes


@dataclass(frozen=True)
class Heartbeat:
    service: str
    replica: str
    serving: bool
    failing: tuple[str, ...]  # the health checks that fail (database, nats)
    outbox: int  # events not yet published
    at: float  # when it was said (time.time() of the replica)

    def encode(self) -> bytes:
        return json.dumps(
            {
                "service": self.service,
                "replica": self.replica,
                "serving": self.serving,
                "failing": list(self.failing),
                "outbox": self.outbox,
                "at": self.at,
            }
        ).encode()

    @classmethod
    def decode(cls, data: bytes) -> Heartbeat | None:
        """The heartbeat, or None if `data` is not one."""
        try:
            said = json.loads(data)
            return cls(
                service=str(said["service"])[:64],
                replica=str(said["replica"])[:128],
                serving=bool(said["serving"]),
                failing=tuple(str(f)[:32] for f in said.get("failing", [])[:8]),
                outbox=int(said["outbox"]),
                at=float(said["at"]),
            )
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError):
            return None


async def announce(nc: NatsClient, service: str, failing: list[str], outbox: int) -> None:
    beat = Heartbeat(service, REPLICA, not failing, tuple(failing), outbox, time.time())
    await nc.publish(f"{SUBJECT}.{service}", beat.encode())
