"""The read model's tables (the console's own database; migrations beside this file)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Index, MetaData, String, Table

from omni.platform.db import UTCDateTime
from omni.platform.tables import SequenceId, processed_events

metadata = MetaData()

# Which consumer handled which event: recorded with the event's effect, in one transaction.
processed = processed_events(metadata)
# Pruned by age every minute: found by an index, not by reading the whole table.
Index("ix_processed_events_processed_at", processed.c.processed_at)

# Each order seen: the channel it was bought through (returns are matched against it).
orders = Table(
    "orders",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("placed_at", UTCDateTime, nullable=False, index=True),  # pruned by age
)

# Confirmed orders and their value (GMV) per minute they were placed, per channel.
sales_by_minute = Table(
    "sales_by_minute",
    metadata,
    Column("minute", UTCDateTime, primary_key=True),
    Column("channel", String(32), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("orders", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
)

# Units and revenue of confirmed orders per product, per (UTC) day they were placed.
sales_by_product = Table(
    "sales_by_product",
    metadata,
    Column("day", Date, primary_key=True),
    Column("sku", String(64), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("units", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
)

# Each pickup task as its latest event left it (`version` orders a task's events).
pickups = Table(
    "pickups",
    metadata,
    Column("task_id", String(64), primary_key=True),
    Column("order_id", String(64), nullable=False),
    Column("store_id", String(64), nullable=False),
    Column("status", String(32), nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False, index=True),  # pruned by age
    Column("ready_at", UTCDateTime, nullable=True),
    Column("hold_until", UTCDateTime, nullable=True),
    Index("ix_pickups_status_store", "status", "store_id"),
    Index("ix_pickups_ready_at", "ready_at"),
)

# Units received back, one row per line of a receipt.
returned_units = Table(
    "returned_units",
    metadata,
    Column("id", SequenceId, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("order_id", String(64), nullable=False, index=True),
    Column("returned_via", String(32), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("units", BigInteger, nullable=False),
    Column("received_at", UTCDateTime, nullable=False, index=True),
)

# Availability of each SKU at each location (the latest level: `version` orders them).
levels = Table(
    "levels",
    metadata,
    Column("location_id", String(64), primary_key=True),
    Column("sku", String(64), primary_key=True),
    Column("available", BigInteger, nullable=False),
    Column("version", BigInteger, nullable=False),
    Index("ix_levels_location_available", "location_id", "available"),
)

# Availability of each SKU across the network: the sum of its levels, kept as they change.
network = Table(
    "network_availability",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("available", BigInteger, nullable=False, index=True),
)

# What happened to each order, from the events of every service, in words.
timeline = Table(
    "timeline",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("order_id", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False, index=True),  # pruned by age
    Column("step", String(32), nullable=False),
    Column("words", String(500), nullable=False),
    Index("ix_timeline_order", "order_id", "at"),
)
