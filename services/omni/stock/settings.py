"""The stock service's settings (environment variables OMNI_STOCK_*, plus NATS_URL)."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from omni.platform.settings import ServiceSettings


class StockSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="OMNI_STOCK_", extra="ignore", frozen=True, populate_by_name=True
    )

    database_url: str = "sqlite+aiosqlite:///.omni/stock.db"
    grpc_port: int = 50051
    metrics_port: int = 9091
    # How often due reservations are expired (promised "within about a second").
    expiry_interval_seconds: float = 0.5
    # Expired, released and committed reservations are purged this long after their last
    # change (the ledger keeps what they did); far beyond the streams' 7 days, so no event or
    # command still in flight names one that is gone.
    reservation_retention_hours: float = Field(30 * 24, ge=24 * 8)

    @model_validator(mode="after")
    def _reservations_outlive_their_keys(self) -> StockSettings:
        # A request replayed from its idempotency key answers with its reservation: the
        # reservation must still be there as long as the key is.
        if self.reservation_retention_hours <= self.bookkeeping_retention_hours:
            raise ValueError(
                "OMNI_STOCK_RESERVATION_RETENTION_HOURS must be longer than "
                "OMNI_STOCK_BOOKKEEPING_RETENTION_HOURS"
            )
        return self

    # How often levels with backorders are settled: units that reached the shelf given to the
    # orders waiting for them, promises the supply no longer covers cut, due dates moved.
    backorder_interval_seconds: float = 1.0
    # Reserve/Allocate requests decided per transaction, and such transactions in flight per
    # process. One keeps batches large (a commit and a set of statements serve many callers);
    # replicas and other processes still write concurrently.
    reserve_batch_max: int = 256
    reserve_batch_workers: int = 1
    # Reservations do not linger by default: measured on PostgreSQL with 16, 32 and 64 callers,
    # waiting for more (3 or 5 ms) saved CPU per call but served 5 to 20% fewer calls a second.
    batch_linger_seconds: float = Field(0.0, ge=0, le=0.1)
