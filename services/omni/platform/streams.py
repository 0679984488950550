"""Every JetStream stream of the system, in one place.

A service declares the streams it publishes to and the ones it consumes from (declaring is
idempotent), so it can start before the service that owns them and lose nothing meanwhile.
"""

from __future__ import annotations

from omni.platform.messaging import StreamSpec

STOCK_EVENTS = StreamSpec("STOCK_EVENTS", ["stock.events.>"])
# The latest change of each (location, sku): the current availability, replayable.
STOCK_AVAILABILITY = StreamSpec(
    "STOCK_AVAILABILITY", ["stock.availability.>"], max_msgs_per_subject=1
)
# Commands for stock (allocate, release, commit); each is taken by one stock replica.
STOCK_COMMANDS = StreamSpec("STOCK_COMMANDS", ["stock.commands.>"], work_queue=True)
ORDERS_EVENTS = StreamSpec("ORDERS_EVENTS", ["orders.events.>"])
PICKUP_EVENTS = StreamSpec("PICKUP_EVENTS", ["pickup.events.>"])
RETURNS_EVENTS = StreamSpec("RETURNS_EVENTS", ["returns.events.>"])
# Messages whose handling kept failing, set aside by every service's consumers
# (omni.platform.deadletters). Kept as long as the events themselves (7 days), which is less
# than consumers remember what they handled (8 days): a replay never repeats an effect.
DEAD_LETTERS = StreamSpec("DEAD_LETTERS", ["deadletter.>"])
# How many times each message has failed on a bug so far, across replicas (the latest count
# per message; a day is far longer than a message takes to fail ten times).
CONSUMER_FAILURES = StreamSpec(
    "CONSUMER_FAILURES", ["failures.>"], max_msgs_per_subject=1, max_age_seconds=24 * 3600.0
)
