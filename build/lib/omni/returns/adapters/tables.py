"""The returns service's schema (SQLAlchemy Core); migrations create exactly this."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, Text

from omni.platform.db import UTCDateTime
from omni.platform.tables import platform_tables

metadata = MetaData()
outbox, processed_events, idempotency_keys = platform_tables(metadata)

# Read models, kept from other services' events.
known_orders = Table(
    "known_orders",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("version", Integer, nullable=False),
    Column("lines", Text, nullable=False),  # JSON: [sku, unit_price, fulfilled, fulfilled_at]
)
known_locations = Table(
    "known_locations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("accepts_returns", Boolean, nullable=False),
)

returns = Table(
    "returns",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("order_id", String(64), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("location_id", String(64), nullable=False),
    Column("status", String(24), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("document", Text, nullable=False),
    Index("ix_returns_order", "order_id"),
    Index("ix_returns_customer_created", "customer_id", "created_at", "id"),
    Index("ix_returns_location_created", "location_id", "created_at", "id"),
    Index("ix_returns_created", "created_at", "id"),
)

# Scan ids already received for a return: a resent receipt changes nothing.
return_scans = Table(
    "return_scans",
    metadata,
    Column("return_id", String(64), primary_key=True),
    Column("scan_id", String(64), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)
