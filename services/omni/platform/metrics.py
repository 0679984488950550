"""Prometheus metrics, served on each service's metrics port (OMNI_<SERVICE>_METRICS_PORT).

Every series carries the service's name, so replicas of several services in one process (as in
tests) stay apart.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram, start_http_server

RPCS = Counter("omni_rpc_total", "Calls finished, by status code", ["service", "method", "code"])
RPC_SECONDS = Histogram(
    "omni_rpc_seconds",
    "Call duration",
    ["service", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# The standard gRPC server metrics (as grpc-ecosystem's interceptors name them), so that
# off-the-shelf dashboards and alerts work unchanged.
GRPC_HANDLED = Counter(
    "grpc_server_handled_total",
    "RPCs completed on the server, by status code",
    ["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
)
GRPC_HANDLING_SECONDS = Histogram(
    "grpc_server_handling_seconds",
    "Time from the server receiving an RPC to its completion",
    ["grpc_type", "grpc_service", "grpc_method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_PENDING = Gauge("omni_outbox_pending", "Events committed, not yet published", ["service"])
CONSUMER_PENDING = Gauge(
    "omni_consumer_pending",
    "Messages in the stream a durable consumer has not been given yet (its lag)",
    ["stream", "durable"],
)
CONSUMER_FAILURES = Counter(
    "omni_consumer_failures_total",
    "Messages whose handling failed; each is redelivered later, never dropped",
    ["stream", "durable"],
)
DEAD_LETTERS = Counter(
    "omni_dead_letters_total",
    "Messages set aside after failing on every delivery (`omni-<service> dead-letters`)",
    ["stream", "durable"],
)
RESERVATIONS_ACTIVE = Gauge("omni_reservations_active", "Reservations holding stock", ["service"])
WATCHERS = Gauge("omni_availability_watchers", "Open WatchAvailability streams", ["service"])


def observer(service: str) -> Callable[[str, str, str, float], None]:
    """The gRPC server's observer: one count and one duration per finished call, as Omni's
    own series and as the standard gRPC ones."""

    # Each (method, code)'s children, looked up once: `labels()` takes a lock and checks its
    # arguments on every call. Methods are the server's own, codes a fixed set: both bounded.
    children: dict[tuple[str, str], tuple[Counter, Histogram, Counter, Histogram]] = {}

    def observe(method: str, kind: str, code: str, seconds: float) -> None:
        found = children.get((method, code))
        if found is None:
            grpc_service, _, name = method.lstrip("/").rpartition("/")
            found = (
                RPCS.labels(service, name, code),
                RPC_SECONDS.labels(service, name),
                GRPC_HANDLED.labels(kind, grpc_service, name, code),
                GRPC_HANDLING_SECONDS.labels(kind, grpc_service, name),
            )
            children[(method, code)] = found
        found[0].inc()
        found[1].observe(seconds)
        found[2].inc()
        found[3].observe(seconds)

    return observe


def serve(port: int) -> int:
    """Serves /metrics on `port` (0: a free one); returns the port. Once per process."""
    server, _thread = start_http_server(port)
    return int(server.server_port)
