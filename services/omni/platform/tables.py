"""Tables every service has in its own database: outbox, processed events, idempotency keys."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from omni.platform.db import UTCDateTime

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
SequenceId = BigInteger().with_variant(Integer(), "sqlite")


# The longest subject an event may have: stock.availability.<location>.<sku>, each id up to 64
# characters with every "." written "%2E" (omni.stock.adapters.events), is about 400.
SUBJECT_LENGTH = 512


def platform_tables(metadata: MetaData) -> tuple[Table, Table, Table]:
    """Declares (outbox, processed_events, idempotency_keys) on a service's metadata."""
    outbox = Table(
        "outbox",
        metadata,
        Column("seq", SequenceId, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("subject", String(SUBJECT_LENGTH), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("request_id", String(64), nullable=True),
        Column("traceparent", String(128), nullable=True),
        Column("created_at", UTCDateTime, nullable=False),
    )
    processed = processed_events(metadata)
    idempotency = Table(
        "idempotency_keys",
        metadata,
        Column("key", String(128), primary_key=True),
        Column("operation", String(32), nullable=False),
        Column("request_hash", String(64), nullable=False),
        # JSON of the first answer, replayed to retries.
        Column("result", Text, nullable=True),
        Column("created_at", UTCDateTime, nullable=False),
    )
    # Pruning finds what is past its retention by these, never by reading the whole table.
    Index(PROCESSED_AT_INDEX, processed.c.processed_at)
    Index(CREATED_AT_INDEX, idempotency.c.created_at)
    return outbox, processed, idempotency


PROCESSED_AT_INDEX = "ix_processed_events_processed_at"
CREATED_AT_INDEX = "ix_idempotency_keys_created_at"


def index_bookkeeping_by_age() -> None:
    """The body of each service's migration that indexes its bookkeeping tables by age, for
    pruning (omni.platform.retention): a range of old rows instead of a scan of all."""
    from alembic import op  # only ever called inside a migration

    op.create_index(PROCESSED_AT_INDEX, "processed_events", ["processed_at"])
    op.create_index(CREATED_AT_INDEX, "idempotency_keys", ["created_at"])


def processed_events(metadata: MetaData) -> Table:
    """Which consumer handled which event (omni.platform.consumer.unhandled)."""
    return Table(
        "processed_events",
        metadata,
        Column("consumer", String(64), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("processed_at", UTCDateTime, nullable=False),
    )


def add_outbox_request_id() -> None:
    """The body of each service's migration that lets outbox rows carry their request id."""
    from alembic import op  # only ever called inside a migration

    op.add_column("outbox", Column("request_id", String(64), nullable=True))


def add_outbox_traceparent() -> None:
    """The body of each service's migration that lets outbox rows carry their trace context."""
    from alembic import op  # only ever called inside a migration

    op.add_column("outbox", Column("traceparent", String(128), nullable=True))


def widen_outbox_subject() -> None:
    """The body of each service's migration that lets an outbox subject hold 512 characters
    (SQLite does not enforce a length: nothing to do there)."""
    from alembic import op  # only ever called inside a migration

    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("outbox", "subject", type_=String(SUBJECT_LENGTH))
