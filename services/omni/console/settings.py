"""The console's settings (environment variables OMNI_CONSOLE_*, plus OMNI_AUTH_TOKENS and
NATS_URL, shared with the services)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from omni.platform.settings import FernetKey, NatsSettings, TokenList


class ConsoleSettings(NatsSettings):
    model_config = SettingsConfigDict(
        env_prefix="OMNI_CONSOLE_", extra="ignore", frozen=True, populate_by_name=True
    )

    http_host: str = "0.0.0.0"  # a web app serves its network
    http_port: int = 8080
    # The console's own database: the dashboard's read model (SQLAlchemy URL, e.g.
    # postgresql+asyncpg://... or sqlite+aiosqlite:///console.db), migrated on start.
    database_url: str
    migrate_on_start: bool = True
    # The dashboard's stock alert: SKUs with at most this many units available network-wide.
    low_stock_at: int = Field(5, ge=0)
    # Each service's gRPC address (in Kubernetes its Service, e.g. omni-stock:50051).
    stock_target: str = "127.0.0.1:50051"
    orders_target: str = "127.0.0.1:50052"
    pickup_target: str = "127.0.0.1:50053"
    returns_target: str = "127.0.0.1:50054"
    # The CA (PEM) the services' TLS certificates chain to; empty: plaintext gRPC.
    grpc_ca_file: str = ""
    # Seals the session cookie (a Fernet key: 32 url-safe base64 bytes), the same on every
    # replica, from a secret. Required: a session must not be forgeable.
    session_key: FernetKey
    # A session ends this long after sign-in (a shift), or at sign-out.
    session_seconds: int = Field(8 * 3600, gt=0)
    # Cookies only over HTTPS; off for the plain-HTTP embedded run.
    secure_cookies: bool = True
    # The sign-in page offers one button per configured token (the embedded run only).
    dev_signin: bool = False
    # Web origins whose pages may call the HTTP/JSON API from a browser (CORS), e.g.
    # ["https://shop.example.com"]; none by default.
    cors_origins: list[str] = Field(default_factory=list)
    # The currency an endless-aisle sale is priced in.
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    auth_tokens: TokenList = Field("", validation_alias=AliasChoices("OMNI_AUTH_TOKENS"))
    log_level: str = Field("INFO", validation_alias=AliasChoices("OMNI_LOG_LEVEL"))
    log_format: Literal["json", "text"] = Field(
        "json", validation_alias=AliasChoices("OMNI_LOG_FORMAT")
    )
