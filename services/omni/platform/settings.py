"""Typed settings read from the environment, shared by every service; defaults run embedded."""

from __future__ import annotations

import base64
import binascii
import os
import re
import ssl
from typing import Annotated, Literal, Self, TypeVar
from urllib.parse import urlsplit

import grpc
from pydantic import (
    AfterValidator,
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from omni.platform.auth import Role, Tokens
from omni.platform.messaging import NatsLogin
from omni.platform.tls import CertificateFiles

AnySettings = TypeVar("AnySettings", bound=BaseSettings)


def read_settings(prog: str, settings_type: type[AnySettings]) -> AnySettings:
    """The settings from the environment; a bad or missing one stops `prog` with a line that
    names it (no traceback)."""
    try:
        return settings_type()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SystemExit(f"{prog}: bad setting ({problems}); see docs/configuration.md") from None


def read_database_url(prog: str, settings_type: type[BaseSettings]) -> str:
    """Only the database URL of these settings (<prefix>DATABASE_URL, else its default): what
    `migrate` needs, so that a migration job holds no other secret."""
    name = f"{settings_type.model_config.get('env_prefix', '')}DATABASE_URL"
    default = settings_type.model_fields["database_url"].default
    url = os.environ.get(name) or (default if isinstance(default, str) else "")
    if not url:
        raise SystemExit(f"{prog}: bad setting ({name} is required); see docs/configuration.md")
    return url


def fernet_key(value: str) -> str:
    """A Fernet key (32 url-safe base64 bytes), or a ValueError saying how to make one."""
    try:
        if len(base64.urlsafe_b64decode(value.encode())) == 32:
            return value
    except (binascii.Error, ValueError):
        pass
    raise ValueError(
        "must be 32 url-safe base64-encoded bytes (make one with "
        '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key())"`)'
    )


def token_list(value: str) -> str:
    """OMNI_AUTH_TOKENS as given, if it parses (see omni.platform.auth)."""
    try:
        Tokens.parse(value)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"OMNI_AUTH_TOKENS is not a valid token list: {exc}") from None
    return value


FernetKey = Annotated[str, AfterValidator(fernet_key)]
TokenList = Annotated[str, AfterValidator(token_list)]


# nats-server reads each password from its environment as configuration text: a letter
# first (a digit first reads as a number or a size), then letters, digits, _ and -.
NATS_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]{15,127}")


class NatsSettings(BaseSettings):
    """How a process reaches NATS: shared by every service and the console, so no prefix.
    NATS is reached over TLS when NATS_URL is tls://...; OMNI_NATS_CA_FILE names the CA to
    trust (else the system's). OMNI_NATS_USER and OMNI_NATS_PASSWORD (from a Secret) name the
    process's own NATS user (omni.platform.nats_access); none for a NATS without users."""

    nats_url: str = Field(
        "nats://127.0.0.1:4222", validation_alias=AliasChoices("NATS_URL", "OMNI_NATS_URL")
    )
    nats_ca_file: str = Field("", validation_alias=AliasChoices("OMNI_NATS_CA_FILE"))
    nats_user: str = Field("", validation_alias=AliasChoices("OMNI_NATS_USER"))
    nats_password: SecretStr = Field(
        SecretStr(""), validation_alias=AliasChoices("OMNI_NATS_PASSWORD")
    )

    @model_validator(mode="after")
    def _whole_login(self) -> Self:
        password = self.nats_password.get_secret_value()
        if bool(self.nats_user) != bool(password):
            raise ValueError("OMNI_NATS_USER and OMNI_NATS_PASSWORD go together")
        if password and not NATS_PASSWORD.fullmatch(password):
            raise ValueError(
                "OMNI_NATS_PASSWORD must be 16 to 128 of A-Z a-z 0-9 _ -, a letter first"
                " (as nats-server can read it; deploy/dev-secrets.sh makes such ones)"
            )
        return self

    def nats_tls(self) -> ssl.SSLContext | None:
        """The TLS context for NATS, when it trusts a CA of its own."""
        return ssl.create_default_context(cafile=self.nats_ca_file) if self.nats_ca_file else None

    def nats_login(self) -> NatsLogin | None:
        if not self.nats_user:
            return None
        return NatsLogin(self.nats_user, self.nats_password.get_secret_value())


class ServiceSettings(NatsSettings):
    """What every service needs. Subclasses set env_prefix (OMNI_STOCK_, OMNI_ORDERS_, ...)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    database_url: str
    grpc_host: str = "[::]"
    grpc_port: int
    db_pool_size: int = 10
    # How long a batched transaction may wait while more requests keep arriving, only when they
    # come in a crowd (omni.platform.batcher). For orders' PlaceOrder under load on PostgreSQL,
    # 5 ms serves about a fifth more calls per second; stock sets its own default (off).
    batch_linger_seconds: float = Field(0.005, ge=0, le=0.1)
    migrate_on_start: bool = True
    # Shared by every service, so it carries no service prefix.
    # Each stream's size at most, besides its age (7 days): the oldest events go first; the
    # command queue refuses new commands instead (senders keep them in their outboxes). 0:
    # age alone. Every service declares the streams, so set it alike for all (shared).
    stream_max_gib: float = Field(1.0, ge=0, validation_alias=AliasChoices("OMNI_STREAM_MAX_GIB"))
    stream_replicas: int = Field(
        1, validation_alias=AliasChoices("OMNI_STREAM_REPLICAS"), ge=1, le=5
    )
    log_level: str = Field("INFO", validation_alias=AliasChoices("OMNI_LOG_LEVEL"))
    # json: one object a line, for log collectors; text: for a terminal (`make run`).
    log_format: Literal["json", "text"] = Field(
        "json", validation_alias=AliasChoices("OMNI_LOG_FORMAT")
    )
    # TLS. The gRPC server serves TLS only (no plaintext) when given a certificate and its key
    # (PEM files, e.g. mounted from a cert-manager Secret).
    tls_cert_file: str = Field("", validation_alias=AliasChoices("OMNI_TLS_CERT_FILE"))
    tls_key_file: str = Field("", validation_alias=AliasChoices("OMNI_TLS_KEY_FILE"))
    # Bearer tokens and their roles (JSON; see omni.platform.auth). Empty: every call refused.
    auth_tokens: TokenList = Field("", validation_alias=AliasChoices("OMNI_AUTH_TOKENS"))
    # Or the same list in a file (a mounted Secret), read again whenever it changes, so tokens
    # rotate without a restart. Given, it is used instead of OMNI_AUTH_TOKENS.
    auth_tokens_file: str = Field("", validation_alias=AliasChoices("OMNI_AUTH_TOKENS_FILE"))
    auth_tokens_check_seconds: float = Field(
        5.0, gt=0, validation_alias=AliasChoices("OMNI_AUTH_TOKENS_CHECK_SECONDS")
    )

    # Signed tokens (JWT) beside the token list (omni.platform.signed): the identity
    # provider's public keys (a JWKS) in a file, read again when it changes, or at a URL,
    # fetched again every OMNI_AUTH_JWKS_REFRESH_SECONDS; and the issuer and audience a token
    # must name. Its role is the claim omni_role; a store-bound caller's store, omni_store.
    auth_jwks_file: str = Field("", validation_alias=AliasChoices("OMNI_AUTH_JWKS_FILE"))
    auth_jwks_url: str = Field("", validation_alias=AliasChoices("OMNI_AUTH_JWKS_URL"))
    auth_jwks_refresh_seconds: float = Field(
        300.0, gt=0, validation_alias=AliasChoices("OMNI_AUTH_JWKS_REFRESH_SECONDS")
    )
    auth_jwt_issuer: str = Field("", validation_alias=AliasChoices("OMNI_AUTH_JWT_ISSUER"))
    auth_jwt_audience: str = Field(
        "omni", min_length=1, validation_alias=AliasChoices("OMNI_AUTH_JWT_AUDIENCE")
    )
    # The roles a signed token may name (comma-separated): `service` (everything) only when
    # listed here.
    auth_jwt_roles: str = Field(
        "storefront,scanner,associate,manager",
        validation_alias=AliasChoices("OMNI_AUTH_JWT_ROLES"),
    )

    @model_validator(mode="after")
    def _whole_key_pair(self) -> ServiceSettings:
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise ValueError("OMNI_TLS_CERT_FILE and OMNI_TLS_KEY_FILE go together")
        return self

    @model_validator(mode="after")
    def _one_key_source_and_an_issuer(self) -> ServiceSettings:
        if self.auth_jwks_file and self.auth_jwks_url:
            raise ValueError("give OMNI_AUTH_JWKS_FILE or OMNI_AUTH_JWKS_URL, not both")
        if (self.auth_jwks_file or self.auth_jwks_url) and not self.auth_jwt_issuer:
            raise ValueError("signed tokens need OMNI_AUTH_JWT_ISSUER (the issuer they name)")
        url = urlsplit(self.auth_jwks_url)
        local = url.hostname in ("localhost", "127.0.0.1", "::1")
        if self.auth_jwks_url and not (url.scheme == "https" or (url.scheme == "http" and local)):
            # Keys fetched in the clear could be swapped on the way: anyone could then sign.
            raise ValueError("OMNI_AUTH_JWKS_URL must be https:// (http only to this host)")
        self.jwt_roles()  # names roles Omni has
        return self

    def jwt_roles(self) -> frozenset[Role]:
        try:
            return frozenset(Role(r.strip()) for r in self.auth_jwt_roles.split(",") if r.strip())
        except ValueError:
            names = ", ".join(r.value for r in Role)
            raise ValueError(f"OMNI_AUTH_JWT_ROLES lists roles among {names}") from None

    def stream_max_bytes(self) -> int:
        """Each stream's byte limit as JetStream takes it (-1: none)."""
        return int(self.stream_max_gib * 2**30) if self.stream_max_gib else -1

    def server_credentials(self) -> grpc.ServerCredentials | None:
        """The gRPC server's TLS credentials, or None for plaintext (the embedded run); a
        renewed certificate in the same files is taken up by new connections."""
        if not self.tls_cert_file:
            return None
        return CertificateFiles(self.tls_cert_file, self.tls_key_file).credentials()

    # OpenTelemetry: the collector's OTLP/gRPC endpoint (http://otel-collector:4317); empty: off.
    otlp_endpoint: str = Field(
        "", validation_alias=AliasChoices("OMNI_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
    )
    shutdown_grace_seconds: float = 5.0
    # Health (grpc.health.v1, checked every 2 s): a replica that served is NOT_SERVING only
    # once a check (database, NATS) failed this many times in a row; it serves again at the
    # first check that passes.
    health_fail_after: int = Field(3, ge=1)
    # So that one client cannot exhaust a replica: the largest request accepted, streams per
    # connection, and calls in flight in all (beyond: RESOURCE_EXHAUSTED; watchers count).
    grpc_max_message_bytes: int = Field(1024 * 1024, ge=1024)
    grpc_max_streams_per_connection: int = Field(1000, ge=1)
    grpc_max_concurrent_rpcs: int = Field(2000, ge=1)
    # A client's connection is asked to close after this long (GOAWAY), so that it reconnects
    # and its calls spread over replicas added since (0: never). Calls in flight then have
    # the grace to finish (0: as long as they take, e.g. a watch stream); new calls go to the
    # new connection.
    grpc_max_connection_age_seconds: float = Field(300.0, ge=0)
    grpc_max_connection_age_grace_seconds: float = Field(0.0, ge=0)
    # Prometheus /metrics (stock 9091, orders 9092, pickup 9093, returns 9094); -1: off.
    metrics_port: int = Field(-1, ge=-1)
    # A message whose handling has failed this many times on a bug (failures from an outage do
    # not count) is set aside as a dead letter, to list and replay (`omni-<svc> dead-letters`).
    dead_letter_after: int = Field(10, ge=1)
    # Events are published right after their commit; this poll only catches what was left.
    outbox_poll_seconds: float = 1.0
    # How long idempotency keys and handled event ids are kept. Longer than the streams keep
    # messages (7 days), so a redelivered event can never outlive its record.
    bookkeeping_retention_hours: float = 8 * 24
