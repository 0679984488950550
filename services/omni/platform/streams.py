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
# (omni.platform.deadletters): kept a month, to fix the cause and replay them.
DEAD_LETTERS = StreamSpec("DEAD_LETTERS", ["deadletter.>"], max_age_seconds=30 * 24 * 3600.0)
