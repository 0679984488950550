"""`make run`: a local nats-server with JetStream, every service on SQLite, and demo data.

Each service runs as its own process, as in production; Ctrl-C (or SIGTERM) stops them all.
The console (the store web app) runs beside them on http://127.0.0.1:8080, with a sign-in
button for each dev token. The local NATS has production's users and permissions (each
process connects as its own user; omni.platform.nats_access). Environment: OMNI_DATA_DIR
(default .omni), OMNI_NATS_PORT (default 4222), NATS_URL (use that NATS instead of starting
one; OMNI_NATS_USER and OMNI_NATS_PASSWORD then log every process in), and each service's own
settings (e.g. OMNI_STOCK_GRPC_PORT, OMNI_CONSOLE_HTTP_PORT).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import grpc
from cryptography.fernet import Fernet
from grpc_health.v1 import health_pb2, health_pb2_grpc

from omni.console.settings import ConsoleSettings
from omni.demo import seed
from omni.orders.settings import OrdersSettings
from omni.pickup.settings import PickupSettings
from omni.platform.auth import Role
from omni.platform.natsserver import EmbeddedNats
from omni.returns.settings import ReturnsSettings
from omni.stock.settings import StockSettings

# name: (module, database setting)
SERVICES = {
    "stock": ("omni.stock", "OMNI_STOCK_DATABASE_URL"),
    "orders": ("omni.orders", "OMNI_ORDERS_DATABASE_URL"),
    "pickup": ("omni.pickup", "OMNI_PICKUP_DATABASE_URL"),
    "returns": ("omni.returns", "OMNI_RETURNS_DATABASE_URL"),
}


def main() -> None:
    data_dir = Path(os.environ.get("OMNI_DATA_DIR", ".omni")).resolve()
    os.environ.setdefault("OMNI_PICKUP_CODE_KEY", _key(data_dir / "pickup-code.key"))
    os.environ.setdefault("OMNI_CONSOLE_SESSION_KEY", _key(data_dir / "console-session.key"))
    # The console's read model (the operations dashboard), beside the services' databases.
    os.environ.setdefault("OMNI_CONSOLE_DATABASE_URL", f"sqlite+aiosqlite:///{data_dir}/console.db")
    tokens = _dev_tokens(data_dir)
    nats: EmbeddedNats | None = None
    nats_url = os.environ.get("NATS_URL", "")
    if not nats_url:
        nats = _start_nats(data_dir)
        nats_url = nats.url
    children = _start_services(data_dir, _nats_env(nats))
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        ports = {
            "stock": StockSettings().grpc_port,
            "orders": OrdersSettings().grpc_port,
            "pickup": PickupSettings().grpc_port,
            "returns": ReturnsSettings().grpc_port,
        }
        for port in ports.values():
            _wait_serving(f"127.0.0.1:{port}", children)
        seed(f"127.0.0.1:{ports['stock']}", tokens["service"])
        children.append(_start_console(ports, _nats_env(nats)("console")))
        _wait_answering(ConsoleSettings().http_port, children)
        _banner(nats_url, ports, tokens, ConsoleSettings().http_port)
        while not stopping and all(c.poll() is None for c in children):
            time.sleep(0.2)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            child.wait(15)
        if nats is not None:
            nats.stop()
    failed = [c.args for c in children if c.returncode not in (0, -signal.SIGTERM)]
    sys.exit(1 if failed else 0)


def _start_nats(data_dir: Path) -> EmbeddedNats:
    """A local JetStream server, unless NATS_URL names one already running."""
    port = int(os.environ.get("OMNI_NATS_PORT", "4222"))
    nats = EmbeddedNats(data_dir / "nats", port=port)
    try:
        return nats.start()
    except RuntimeError as exc:
        raise SystemExit(
            f"cannot start nats-server on port {port} ({exc}); is it in use? "
            "Set OMNI_NATS_PORT to another port (-1 picks a free one), or NATS_URL to use yours."
        ) from exc


def _nats_env(nats: EmbeddedNats | None) -> Callable[[str], dict[str, str]]:
    """How each process reaches NATS: the embedded one as its own user (with production's
    permissions, omni.platform.nats_access); else NATS_URL and OMNI_NATS_* as given."""
    return nats.env if nats is not None else lambda _user: {}


def _start_services(
    data_dir: Path, nats_env: Callable[[str], dict[str, str]]
) -> list[subprocess.Popen[bytes]]:
    """Every service as its own process, each on its own SQLite file unless told otherwise."""
    env = dict(os.environ)
    env.setdefault("OMNI_LOG_FORMAT", "text")  # a terminal reads text; collectors read JSON
    children = []
    for name, (module, db_var) in SERVICES.items():
        env.setdefault(db_var, f"sqlite+aiosqlite:///{data_dir / name}.db")
        # Own session: a terminal's Ctrl-C reaches only us, and we stop children in order.
        children.append(
            subprocess.Popen(
                [sys.executable, "-m", module],
                env={**env, **nats_env(name)},
                start_new_session=True,
            )
        )
    return children


def _start_console(ports: dict[str, int], nats_env: dict[str, str]) -> subprocess.Popen[bytes]:
    """The store web app, a client of the four services like any other (plain HTTP here, so
    its cookies are not marked Secure; a sign-in button per dev token)."""
    env = {
        **os.environ,
        **nats_env,
        "OMNI_CONSOLE_HTTP_HOST": os.environ.get("OMNI_CONSOLE_HTTP_HOST", "127.0.0.1"),
        "OMNI_CONSOLE_SECURE_COOKIES": "false",
        "OMNI_CONSOLE_DEV_SIGNIN": "true",
        **{
            f"OMNI_CONSOLE_{name.upper()}_TARGET": f"127.0.0.1:{port}"
            for name, port in ports.items()
        },
    }
    env.setdefault("OMNI_LOG_FORMAT", "text")
    return subprocess.Popen([sys.executable, "-m", "omni.console"], env=env, start_new_session=True)


def _key(path: Path) -> str:
    """A Fernet key made once for this data directory: pickup codes are sealed with one (a
    notification system would hold the same), console sessions with another. In production
    each comes from a secret."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(Fernet.generate_key().decode())
    return path.read_text().strip()


# Store staff of the demo, beside one unbound token per role: "<role>@<store>".
DEV_STAFF = ("associate@STORE-NYC", "manager@STORE-NYC", "associate@STORE-SF")


def _dev_tokens(data_dir: Path) -> dict[str, str]:
    """One bearer token per role, and per demo store's staff, made once for this data
    directory and given to every service (unless OMNI_AUTH_TOKENS is set; then its first
    token of each role is used)."""
    given = os.environ.get("OMNI_AUTH_TOKENS")
    if given:
        entries = json.loads(given)
        known = {e["role"]: e["token"] for e in reversed(entries) if "token" in e}
        if "service" not in known:
            raise SystemExit("OMNI_AUTH_TOKENS needs a service token (in clear) to seed the demo")
        return known
    path = data_dir / "dev-tokens.json"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text("{}")
    tokens: dict[str, str] = json.loads(path.read_text())
    for name in (*(role.value for role in Role), *DEV_STAFF):
        slug = name.replace("@", "-").lower()
        tokens.setdefault(name, f"dev-{slug}-{secrets.token_urlsafe(12)}")
    path.write_text(json.dumps(tokens, indent=2))
    entries = []
    for name, token in tokens.items():
        role, _, store = name.partition("@")
        entry = {"token": token, "role": role, "subject": "dev-" + name.replace("@", "-").lower()}
        entries.append(entry | ({"store": store} if store else {}))
    os.environ["OMNI_AUTH_TOKENS"] = json.dumps(entries)
    return tokens


def _wait_serving(
    target: str, children: list[subprocess.Popen[bytes]], timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if any(c.poll() is not None for c in children):
                raise SystemExit("a service exited during start-up; see its log above")
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.2)
    raise SystemExit(f"{target} did not become healthy within {timeout:.0f}s")


def _wait_answering(
    port: int, children: list[subprocess.Popen[bytes]], timeout: float = 30
) -> None:
    """Until the console answers its liveness probe."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(c.poll() is not None for c in children):
            raise SystemExit("a service exited during start-up; see its log above")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the console did not answer on port {port} within {timeout:.0f}s")


def _banner(nats_url: str, ports: dict[str, int], tokens: dict[str, str], console: int) -> None:
    stock, orders, pickup, returns = (ports[n] for n in ("stock", "orders", "pickup", "returns"))
    roles = "\n".join(f"  {role:<21}{token}" for role, token in tokens.items())
    print(
        f"""
Omni is running (Ctrl-C stops it).
  NATS (JetStream)  {nats_url}   a user per service, as in production (their
                    passwords, new each run, and the operator's: nats/nats.conf)
  stock             127.0.0.1:{stock}   omni.stock.v1.StockService
  orders            127.0.0.1:{orders}   omni.orders.v1.OrdersService
  pickup            127.0.0.1:{pickup}   omni.pickup.v1.PickupService
                    (pickup codes are sealed with the key in pickup-code.key)
  returns           127.0.0.1:{returns}   omni.returns.v1.ReturnsService
  console           http://127.0.0.1:{console}   the store web app (a sign-in button per token),
                    with the operations dashboard at /dashboard (sign in as a manager),
                    and every RPC over HTTP/JSON (Connect; docs/api.md)

Every call needs a bearer token; the dev tokens, one per role and per demo store's staff
(also in dev-tokens.json; the console signs people in with the same ones):
{roles}

Try (any gRPC client; reflection is on), e.g. with grpcurl:
  grpcurl -plaintext -H "authorization: Bearer {tokens.get("storefront", "<token>")}" \\
      -d '{{"skus":["TSHIRT-BLK-M"]}}' \\
      127.0.0.1:{stock} omni.stock.v1.StockService/GetAvailability
  grpcurl -plaintext -H "authorization: Bearer {tokens.get("storefront", "<token>")}" \\
      -d '{{"idempotency_key":"checkout-1","channel":"CHANNEL_WEB",
      "customer_id":"c-1","currency":"USD","ship":{{"region":"us-east"}},
      "lines":[{{"sku":"JEANS-32-32","quantity":1,"unit_price":4999}}]}}' \\
      127.0.0.1:{orders} omni.orders.v1.OrdersService/PlaceOrder
""",
        flush=True,
    )


if __name__ == "__main__":
    main()
