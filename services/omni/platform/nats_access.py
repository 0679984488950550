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
import secrets
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
    owns: tuple[StreamSpec, ...] = ()  # streams whose configuration it sets (create, update)
    # Others' streams it uses: it may create one missing (so that it can start before the
    # owner and lose nothing meanwhile), never change one.
    uses: tuple[StreamSpec, ...] = ()
    # Its durable consumers: (stream, consumer name). It may create, read and acknowledge
    # these and no other, so no user can drain or stall another's.
    consumes: tuple[tuple[StreamSpec, str], ...] = ()
    listens: tuple[str, ...] = ()  # plain NATS subjects it subscribes to
    asks: tuple[str, ...] = ()  # subjects it sends requests to
    answers: bool = False  # it replies to the requests it receives
    inspects: bool = False  # it lists streams and consumers (the operations dashboard)
    declares: bool = True  # it declares streams (the platform's among them) at start

    def permissions(self, user: str) -> dict[str, object]:
        """The nats-server `permissions` block of `user`."""
        publish = [*self.publishes, *self.asks, f"deadletter.{user}.>", f"{JS_API}.INFO"]
        owned = _names((*self.owns, *SHARED)) if self.declares else []
        for stream in owned:
            publish += [f"{JS_API}.STREAM.{verb}.{stream}" for verb in ("CREATE", "UPDATE")]
        used = [name for name in _names(self.uses) if name not in owned]
        publish += [f"{JS_API}.STREAM.CREATE.{stream}" for stream in used]
        read = _names(tuple(stream for stream, _ in self.consumes))
        if self.consumes:  # its consumers count failures and set messages aside
            read = _unique([*read, *_names(SHARED)])
        for stream in _unique([*owned, *used, *read]):
            publish += [f"{JS_API}.STREAM.INFO.{stream}", f"{JS_API}.STREAM.MSG.GET.{stream}"]
        for spec, consumer in self.consumes:
            stream = spec.name
            publish += [
                f"{JS_API}.CONSUMER.CREATE.{stream}.{consumer}.>",
                f"{JS_API}.CONSUMER.DURABLE.CREATE.{stream}.{consumer}",
                f"{JS_API}.CONSUMER.INFO.{stream}.{consumer}",
                f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.{consumer}",
                f"$JS.ACK.{stream}.{consumer}.>",
                f"failures.{consumer}.>",  # how often each message failed (dead letters)
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

    def owned(self) -> set[str]:
        """The streams whose configuration this user sets (omni.platform.messaging)."""
        return set(_names((*self.owns, *SHARED))) if self.declares else set()


def _names(specs: tuple[StreamSpec, ...]) -> list[str]:
    return _unique([spec.name for spec in specs])


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _heartbeat(service: str) -> str:
    return f"{replicas.SUBJECT}.{service}"


def _consumers(stream: StreamSpec, *names: str) -> tuple[tuple[StreamSpec, str], ...]:
    return tuple((stream, name) for name in names)


# The platform's own streams (dead letters, failure counts): every service sets them alike.
SHARED = (DEAD_LETTERS, CONSUMER_FAILURES)
# The consumer names below are the ones each service's code gives its consumers (its
# entrypoints/nats_api.py; the console's figures/recording.py): a name missing here is
# refused by NATS, and every test fails on a refusal.
GRANTS: Mapping[str, Grant] = {
    "stock": Grant(
        publishes=(
            streams.STOCK_EVENTS_PREFIX + ">",
            streams.AVAILABILITY_PREFIX + ">",
            _heartbeat("stock"),
        ),
        owns=(STOCK_EVENTS, STOCK_AVAILABILITY, STOCK_COMMANDS),
        consumes=_consumers(
            STOCK_COMMANDS,
            *(f"stock-{c}" for c in ("allocate", "release", "commit", "write_off", "restock")),
            "stock-correct",
        ),
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
        owns=(ORDERS_EVENTS,),
        uses=(STOCK_EVENTS, STOCK_COMMANDS, PICKUP_EVENTS, RETURNS_EVENTS),
        consumes=(
            *_consumers(
                STOCK_EVENTS,
                "orders-stock-reserved",
                "orders-stock-allocation_rejected",
                "orders-stock-backorder",
            ),
            *_consumers(
                PICKUP_EVENTS,
                "orders-pickup-collected",
                "orders-pickup-expired",
                "orders-pickup-shortage",
                "orders-pickup-ship-shipped",
                "orders-pickup-ship-rejected",
            ),
            *_consumers(
                RETURNS_EVENTS,
                "orders-returns-refund_issued",
                "orders-returns-exchange_ordered",
                "orders-returns-cancelled",
            ),
        ),
        # Order watchers follow its own events; replicas answer lookups by returns.
        listens=(streams.ORDERS_EVENTS_PREFIX + ">", streams.ORDERS_GET_REQUEST),
        asks=(streams.STOCK_ALLOCATE_REQUEST,),
        answers=True,
    ),
    "pickup": Grant(
        publishes=(streams.PICKUP_EVENTS_PREFIX + ">", _heartbeat("pickup")),
        owns=(PICKUP_EVENTS,),
        uses=(ORDERS_EVENTS,),
        consumes=_consumers(
            ORDERS_EVENTS,
            *(
                f"pickup-orders-{e}"
                for e in ("confirmed", "shortage", "reallocated", "backorder", "cancelled")
            ),
            *(
                f"pickup-ship-{e}"
                for e in (
                    "confirmed",
                    "reallocated",
                    "backorder",
                    "shipped",
                    "line_rejected",
                    "cancelled",
                )
            ),
        ),
    ),
    "returns": Grant(
        # Returned units go back on sale: the one stock command returns may send.
        publishes=(
            streams.RETURNS_EVENTS_PREFIX + ">",
            streams.STOCK_COMMAND.format("restock"),
            _heartbeat("returns"),
        ),
        owns=(RETURNS_EVENTS,),
        uses=(ORDERS_EVENTS, STOCK_EVENTS, STOCK_COMMANDS),
        consumes=(
            *_consumers(ORDERS_EVENTS, "returns-orders"),
            *_consumers(STOCK_EVENTS, "returns-locations"),
        ),
        asks=(streams.ORDERS_GET_REQUEST,),
    ),
    # The console reads: its read model's consumers, the live pages' hints, the replicas'
    # heartbeats, and consumer lag for the dashboard. It declares no stream and publishes
    # no event and no command (only its consumers' acknowledgements and failure counts).
    "console": Grant(
        consumes=(
            *_consumers(ORDERS_EVENTS, "console-orders"),
            *_consumers(PICKUP_EVENTS, "console-pickup"),
            *_consumers(RETURNS_EVENTS, "console-returns"),
            *_consumers(STOCK_AVAILABILITY, "console-availability"),
        ),
        listens=(streams.PICKUP_EVENTS_PREFIX + ">", replicas.SUBJECT + ".>"),
        inspects=True,
        declares=False,
    ),
}

USERS = (*GRANTS, OPERATOR)


def new_password() -> str:
    """A random password nats-server can read from its environment (a letter first, then
    letters, digits, _ and -): omni.platform.settings.NATS_PASSWORD."""
    return "n" + secrets.token_urlsafe(24)


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
