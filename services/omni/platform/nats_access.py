"""Who may publish and subscribe to what on NATS: one user per service, in one place.

Every service and the console connects as its own user (OMNI_NATS_USER, OMNI_NATS_PASSWORD)
and may touch only the subjects below: its own events, the commands it sends, the streams it
reads, and the JetStream API calls for those streams alone. The console publishes no command
and no event. The `operator` user may do anything: it replays dead letters and is what test
harnesses connect as.

The NATS of `make run` and of the tests (omni.platform.natsserver) and the production NATS
(deploy/kustomize/nats/accounts.conf, written by `make deploy-config`) are configured from
this table, so the permissions the tests run under are the ones that ship.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from omni.platform import replicas, streams
from omni.platform.messaging import NatsLogin, StreamSpec
from omni.platform.streams import (
    CONSUMER_FAILURES,
    DEAD_LETTERS,
    ORDERS_EVENTS,
    PICKUP_EVENTS,
    RETURNS_EVENTS,
    STOCK_AVAILABILITY,
    STOCK_COMMANDS,
    STOCK_EVENTS,
)

ACCOUNT = "OMNI"
OPERATOR = "operator"
JS_API = "$JS.API"


def inbox_prefix(user: str) -> str:
    """Where replies to `user` come back (its requests, JetStream acknowledgements and pulled
    messages): a prefix of its own, so that no other user can read them (NatsLogin)."""
    return NatsLogin(user, "").options()["inbox_prefix"]


@dataclass(frozen=True)
class Grant:
    """What one user may do."""

    publishes: tuple[str, ...] = ()  # subjects it publishes to (its events, its commands)
    declares: tuple[StreamSpec, ...] = ()  # streams it creates or updates at start
    reads: tuple[StreamSpec, ...] = ()  # streams it reads through durable consumers
    listens: tuple[str, ...] = ()  # plain NATS subjects it subscribes to
    asks: tuple[str, ...] = ()  # subjects it sends requests to
    answers: bool = False  # it replies to the requests it receives
    inspects: bool = False  # it lists streams and consumers (the operations dashboard)

    def permissions(self, user: str) -> dict[str, object]:
        """The nats-server `permissions` block of `user`."""
        publish = [*self.publishes, *self.asks, f"deadletter.{user}.>", f"{JS_API}.INFO"]
        if self.reads:  # its consumers count failures and set messages aside
            publish.append("failures.>")
        for stream in _names(self.declares):
            publish += [f"{JS_API}.STREAM.{verb}.{stream}" for verb in ("CREATE", "UPDATE")]
        for stream in _names((*self.declares, *self.reads, DEAD_LETTERS, CONSUMER_FAILURES)):
            publish += [f"{JS_API}.STREAM.INFO.{stream}", f"{JS_API}.STREAM.MSG.GET.{stream}"]
        for stream in _names(self.reads):
            publish += [
                f"{JS_API}.CONSUMER.CREATE.{stream}.>",
                f"{JS_API}.CONSUMER.DURABLE.CREATE.{stream}.>",
                f"{JS_API}.CONSUMER.INFO.{stream}.>",
                f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.>",
                f"$JS.ACK.{stream}.>",
            ]
        if self.inspects:
            publish += [f"{JS_API}.STREAM.LIST", f"{JS_API}.CONSUMER.LIST.*"]
        said: dict[str, object] = {
            "publish": {"allow": _unique(publish)},
            "subscribe": {"allow": _unique([*self.listens, f"{inbox_prefix(user)}.>"])},
        }
        if self.answers:
            said["allow_responses"] = True
        return said


def _names(specs: tuple[StreamSpec, ...]) -> list[str]:
    return _unique([spec.name for spec in specs])


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _heartbeat(service: str) -> str:
    return f"{replicas.SUBJECT}.{service}"


# Every service declares the dead-letter streams, and the streams it publishes to and reads
# from, so that it can start before the service owning them (see omni.platform.streams).
_SHARED = (DEAD_LETTERS, CONSUMER_FAILURES)

GRANTS: Mapping[str, Grant] = {
    "stock": Grant(
        publishes=(
            streams.STOCK_EVENTS_PREFIX + ">",
            streams.AVAILABILITY_PREFIX + ">",
            _heartbeat("stock"),
        ),
        declares=(STOCK_EVENTS, STOCK_AVAILABILITY, STOCK_COMMANDS, *_SHARED),
        reads=(STOCK_COMMANDS,),
        # Watchers follow levels and channel views; replicas answer allocation requests.
        listens=(
            streams.AVAILABILITY_PREFIX + ">",
            streams.STOCK_EVENTS_PREFIX + "channel_view_changed",
            streams.STOCK_ALLOCATE_REQUEST,
        ),
        answers=True,
    ),
    "orders": Grant(
        publishes=(
            streams.ORDERS_EVENTS_PREFIX + ">",
            streams.STOCK_COMMAND.format(">"),
            _heartbeat("orders"),
        ),
        declares=(
            ORDERS_EVENTS,
            STOCK_EVENTS,
            STOCK_COMMANDS,
            PICKUP_EVENTS,
            RETURNS_EVENTS,
            *_SHARED,
        ),
        reads=(STOCK_EVENTS, PICKUP_EVENTS, RETURNS_EVENTS),
        # Order watchers follow its own events; replicas answer lookups by returns.
        listens=(streams.ORDERS_EVENTS_PREFIX + ">", streams.ORDERS_GET_REQUEST),
        asks=(streams.STOCK_ALLOCATE_REQUEST,),
        answers=True,
    ),
    "pickup": Grant(
        publishes=(streams.PICKUP_EVENTS_PREFIX + ">", _heartbeat("pickup")),
        declares=(PICKUP_EVENTS, ORDERS_EVENTS, *_SHARED),
        reads=(ORDERS_EVENTS,),
    ),
    "returns": Grant(
        # Returned units go back on sale: the one stock command returns may send.
        publishes=(
            streams.RETURNS_EVENTS_PREFIX + ">",
            streams.STOCK_COMMAND.format("restock"),
            _heartbeat("returns"),
        ),
        declares=(RETURNS_EVENTS, ORDERS_EVENTS, STOCK_EVENTS, STOCK_COMMANDS, *_SHARED),
        reads=(ORDERS_EVENTS, STOCK_EVENTS),
        asks=(streams.ORDERS_GET_REQUEST,),
    ),
    # The console reads: its read model's consumers, the live pages' hints, the replicas'
    # heartbeats, and consumer lag for the dashboard. It declares no stream.
    "console": Grant(
        reads=(ORDERS_EVENTS, PICKUP_EVENTS, RETURNS_EVENTS, STOCK_AVAILABILITY),
        listens=(streams.PICKUP_EVENTS_PREFIX + ">", replicas.SUBJECT + ".>"),
        inspects=True,
    ),
}

USERS = (*GRANTS, OPERATOR)


def password_variable(user: str) -> str:
    """The environment variable the production nats-server reads `user`'s password from."""
    return f"OMNI_NATS_{user.upper()}_PASSWORD"


def server_config(passwords: Mapping[str, str] | None = None) -> str:
    """The nats-server configuration of the Omni account and its users. With `passwords`
    (user -> password, the embedded run) they are written in; without, each is read from
    the server's environment (`password_variable`), as production's come from Secrets."""
    users = []
    for user in USERS:
        if passwords is None:
            password = f"${password_variable(user)}"  # a variable: nats-server expands it
        else:
            password = json.dumps(passwords[user])
        if user == OPERATOR:
            permissions = json.dumps({"publish": ">", "subscribe": ">"})
        else:
            permissions = json.dumps(GRANTS[user].permissions(user), indent=2)
            permissions = permissions.replace("\n", "\n        ")
        users.append(
            f"      {{\n        user: {json.dumps(user)}\n        password: {password}\n"
            f"        permissions: {permissions}\n      }}"
        )
    listed = "\n".join(users)
    return (
        "# Generated from omni.platform.nats_access (`make deploy-config`); do not edit.\n"
        "# One user per service, each allowed only its own subjects and JetStream calls.\n"
        f"accounts {{\n  {ACCOUNT} {{\n    jetstream: enabled\n    users: [\n{listed}\n    ]\n"
        "  }\n}\n"
    )
