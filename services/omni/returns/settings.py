"""The returns service's settings (environment variables OMNI_RETURNS_*, plus NATS_URL)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from omni.platform.settings import ServiceSettings


class ReturnsSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="OMNI_RETURNS_", extra="ignore", frozen=True, populate_by_name=True
    )

    database_url: str = "sqlite+aiosqlite:///.omni/returns.db"
    grpc_port: int = 50054
    metrics_port: int = 9094
    # How long after fulfilment a line may be returned without a manager (30 days).
    window_seconds: float = Field(30 * 24 * 3600.0, gt=0)
