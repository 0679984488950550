"""The orders service's settings (environment variables OMNI_ORDERS_*, plus NATS_URL)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from omni.platform.settings import ServiceSettings


class OrdersSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="OMNI_ORDERS_", extra="ignore", frozen=True, populate_by_name=True
    )

    database_url: str = "sqlite+aiosqlite:///.omni/orders.db"
    grpc_port: int = 50052
    metrics_port: int = 9092
    # How long PlaceOrder waits for stock's decision when the call sets no deadline (with a
    # deadline it waits until just before it). Past it, the answer is PENDING.
    decision_wait_seconds: float = Field(5.0, ge=0, le=60)
    # Orders waiting for stock's decision, at most (all replicas together): past it PlaceOrder
    # refuses at once, UNAVAILABLE with a retry delay, instead of taking orders nobody can
    # promise a time for. About what stock decides in a few seconds.
    max_pending_orders: int = Field(1000, ge=1)
