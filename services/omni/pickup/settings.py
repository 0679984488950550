"""The pickup service's settings (environment variables OMNI_PICKUP_*, plus NATS_URL)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from omni.platform.settings import FernetKey, ServiceSettings


class PickupSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="OMNI_PICKUP_", extra="ignore", frozen=True, populate_by_name=True
    )

    database_url: str = "sqlite+aiosqlite:///.omni/pickup.db"
    grpc_port: int = 50053
    metrics_port: int = 9093
    # How long a READY order is held for the customer (3 days by default).
    hold_seconds: float = Field(3 * 24 * 3600.0, gt=0)
    # How often tasks past their hold are expired.
    expiry_interval_seconds: float = 1.0
    # The key (Fernet: 32 url-safe base64 bytes) that seals pickup codes for the notification
    # system, which holds the same key. Required: without it no customer could learn a code.
    code_key: FernetKey
