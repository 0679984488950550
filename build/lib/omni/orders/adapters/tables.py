"""The orders service's schema (SQLAlchemy Core); migrations create exactly this.

An order is one row: the columns orders are looked up and listed by, and the rest (lines,
allocations, shipments) as a JSON document, read and written whole with its row locked.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text

from omni.platform.db import UTCDateTime
from omni.platform.tables import platform_tables

metadata = MetaData()
outbox, processed_events, idempotency_keys = platform_tables(metadata)

orders = Table(
    "orders",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("status", String(24), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("document", Text, nullable=False),
    # Listing is newest first by (created_at, id), optionally for one customer or status.
    Index("ix_orders_created", "created_at", "id"),
    Index("ix_orders_customer_created", "customer_id", "created_at", "id"),
    Index("ix_orders_status_created", "status", "created_at", "id"),
)
