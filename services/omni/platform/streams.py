"""Every JetStream stream and event subject of the system, in one place (the catalogue of
what each carries: docs/events.md).

A service declares the streams it publishes to and the ones it consumes from (declaring is
idempotent), so it can start before the service that owns them and lose nothing meanwhile.
"""

from __future__ import annotations

from omni.platform.messaging import StreamSpec

STOCK_EVENTS_PREFIX = "stock.events."
AVAILABILITY_PREFIX = "stock.availability."
ORDERS_EVENTS_PREFIX = "orders.events."
PICKUP_EVENTS_PREFIX = "pickup.events."
SHIP_TASK_EVENTS_PREFIX = PICKUP_EVENTS_PREFIX + "ship."  # a location's ship tasks
RETURNS_EVENTS_PREFIX = "returns.events."
STOCK_COMMAND = "stock.commands.{}"
# Request/reply (core NATS, a queue group of the answering service's replicas).
STOCK_ALLOCATE_REQUEST = "stock.rpc.allocate"
ORDERS_GET_REQUEST = "orders.rpc.get"


def availability_subject(location_id: str, sku: str) -> str:
    """Where a level's changes are published; subscribe with "*" for either token."""
    return f"{AVAILABILITY_PREFIX}{subject_token(location_id)}.{subject_token(sku)}"


def subject_token(value: str) -> str:
    """Ids may contain "." (a NATS token separator); "%" cannot occur in ids, so this is safe."""
    return value.replace(".", "%2E") if value != "*" else value


STOCK_EVENTS = StreamSpec("STOCK_EVENTS", ["stock.events.>"])
# The latest change of each (location, sku): the current availability, replayable. Kept
# however old (max age 0): a level that has not changed for a week is still the current one.
STOCK_AVAILABILITY = StreamSpec(
    "STOCK_AVAILABILITY", ["stock.availability.>"], max_msgs_per_subject=1, max_age_seconds=0.0
)
# Commands for stock (allocate, release, commit); each is taken by one stock replica.
STOCK_COMMANDS = StreamSpec("STOCK_COMMANDS", ["stock.commands.>"], work_queue=True)
ORDERS_EVENTS = StreamSpec("ORDERS_EVENTS", ["orders.events.>"])
PICKUP_EVENTS = StreamSpec("PICKUP_EVENTS", ["pickup.events.>"])
RETURNS_EVENTS = StreamSpec("RETURNS_EVENTS", ["returns.events.>"])
# Messages whose handling kept failing, set aside by every service's consumers
# (omni.platform.deadletters). Kept as long as the events themselves (7 days), which is less
# than consumers remember what they handled (8 days): a replay never repeats an effect.
DEAD_LETTERS = StreamSpec("DEAD_LETTERS", ["deadletter.>"], keep_all=True)
# How many times each message has failed on a bug so far, across replicas (the latest count
# per message; a day is far longer than a message takes to fail ten times).
CONSUMER_FAILURES = StreamSpec(
    "CONSUMER_FAILURES", ["failures.>"], max_msgs_per_subject=1, max_age_seconds=24 * 3600.0
)
