"""The system under faults, as real processes: one PostgreSQL, one nats-server, two stock and
two orders replicas, each replica logging to its own file so a failure can be diagnosed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from sqlalchemy.engine import make_url

from omni.orders.v1 import orders_pb2_grpc
from omni.platform import client
from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2_grpc
from tests.chaos.postgres import KillablePostgres
from tests.conftest import create_postgres_database
from tests.helpers.processes import PROCESS_ENV, free_port, migrate_database, wait_serving
from tests.helpers.running import TOKENS

# A client that learns quickly that a replica is back (gRPC's own backoff grows to minutes).
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.use_local_subchannel_pool", 1),
]
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


@dataclass
class Replica:
    """One `python -m omni.<service>` process; kill -9 and restart keep its port."""

    name: str  # stock-1, orders-2, ...
    module: str
    env: dict[str, str]
    port: int
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    log_mark: int = 0  # where the current phase's part of the log starts

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log_path.open("ab") as log_file:
            log_file.write(f"--- {self.name} started {time.strftime('%X')} ---\n".encode())
            log_file.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", self.module],
                env={**os.environ, **PROCESS_ENV, **self.env},
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill9(self, frozen_for: float = 0.0) -> None:
        """kill -9, after `frozen_for` seconds stopped (SIGSTOP): meanwhile NATS hands it
        messages and clients send it calls, so it dies holding work, as a hung replica that
        is then killed does (the worst moment for a kill -9)."""
        assert self.proc is not None
        if frozen_for:
            self.proc.send_signal(signal.SIGSTOP)
            time.sleep(frozen_for)
        self.proc.kill()
        self.proc.wait()
        with self.log_path.open("ab") as log_file:
            log_file.write(f"--- {self.name} killed -9 {time.strftime('%X')} ---\n".encode())

    def stop(self) -> None:
        """SIGTERM (a graceful stop), then SIGKILL if it lingers. Safe to call twice."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def mark(self) -> None:
        self.log_mark = self.log_path.stat().st_size if self.log_path.exists() else 0

    def errors_since_mark(self) -> list[str]:
        """The ERROR records (with their tracebacks) written since `mark()`."""
        with self.log_path.open("rb") as log_file:
            log_file.seek(self.log_mark)
            lines = log_file.read().decode(errors="replace").splitlines()
        records: list[str] = []
        for line in lines:
            if _LOG_LINE.match(line) or line.startswith("---"):
                records.append(line)
            elif records:
                records[-1] += "\n" + line
        return [r for r in records if " ERROR " in r or " CRITICAL " in r]


@dataclass
class Cluster:
    folder: Path
    postgres: KillablePostgres
    nats: EmbeddedNats
    stock: list[Replica]
    orders: list[Replica]
    stock_db: str = ""
    orders_db: str = ""
    channels: dict[str, grpc.aio.Channel] = field(default_factory=dict)  # by replica

    @property
    def replicas(self) -> list[Replica]:
        return [*self.stock, *self.orders]

    def stock_stubs(self) -> list[stock_pb2_grpc.StockServiceStub]:
        """A client of each stock replica (the same ones every time)."""
        return [stock_pb2_grpc.StockServiceStub(self._channel(r)) for r in self.stock]

    def orders_stubs(self) -> list[orders_pb2_grpc.OrdersServiceStub]:
        return [orders_pb2_grpc.OrdersServiceStub(self._channel(r)) for r in self.orders]

    def _channel(self, replica: Replica) -> grpc.aio.Channel:
        if replica.name not in self.channels:
            self.channels[replica.name] = client.channel(
                replica.target, TOKENS["service"], CHANNEL_OPTIONS
            )
        return self.channels[replica.name]

    async def all_serving(self, within: float = 60.0) -> None:
        """Until every replica answers SERVING (its database and NATS reachable)."""
        try:
            await asyncio.gather(*(wait_serving(r.target, within) for r in self.replicas))
        except TimeoutError:
            exited = {r.name: r.proc.returncode for r in self.replicas if r.proc and r.proc.poll()}
            raise AssertionError(f"not all replicas SERVING; exited: {exited}") from None

    def errors_by_replica(self) -> dict[str, list[str]]:
        return {r.name: errs for r in self.replicas if (errs := r.errors_since_mark())}

    def mark_logs(self) -> None:
        for replica in self.replicas:
            replica.mark()


def _replicas(
    service: str, database_url: str, nats: EmbeddedNats, folder: Path, code: Mapping[str, str]
) -> list[Replica]:
    prefix = f"OMNI_{service.upper()}_"
    replicas = []
    for n in (1, 2):
        port = free_port()
        env = {
            f"{prefix}DATABASE_URL": database_url,
            f"{prefix}GRPC_HOST": "127.0.0.1",
            f"{prefix}GRPC_PORT": str(port),
            f"{prefix}MIGRATE_ON_START": "false",
            f"{prefix}SHUTDOWN_GRACE_SECONDS": "1",
            **nats.env(service),
            "OMNI_LOG_FORMAT": "text",
            **code,
        }
        replicas.append(
            Replica(f"{service}-{n}", f"omni.{service}", env, port, folder / f"{service}-{n}.log")
        )
    return replicas


def dsn(sqlalchemy_url: str) -> str:
    """The plain libpq URL of a SQLAlchemy asyncpg URL (for reading the tables directly)."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@asynccontextmanager
async def running_cluster(
    code: Mapping[str, str] | None = None, users: bool = True
) -> AsyncIterator[Cluster]:
    """Everything started and serving; on the way out (also on failure) every process is
    stopped and the temporary folder removed. `code`: the environment that makes the
    replicas run another commit's code (tests.bench.openloop.checkout), whose NATS may
    predate users (`users`)."""
    folder = Path(tempfile.mkdtemp(prefix="omni-chaos-"))
    os.chmod(folder, 0o755)  # PostgreSQL runs as another user when we are root
    postgres = KillablePostgres(folder / "postgres")
    nats = EmbeddedNats(folder / "nats", users=users)
    cluster = Cluster(folder, postgres, nats, [], [])
    try:
        await asyncio.to_thread(postgres.init)
        postgres.start()
        await postgres.wait_ready()
        nats.start()
        cluster.stock_db = await create_postgres_database(postgres.admin_url())
        cluster.orders_db = await create_postgres_database(postgres.admin_url())
        cluster.stock = _replicas("stock", cluster.stock_db, nats, folder, code or {})
        cluster.orders = _replicas("orders", cluster.orders_db, nats, folder, code or {})
        for first in (cluster.stock[0], cluster.orders[0]):
            await asyncio.to_thread(migrate_database, first.module, first.env)
        for replica in cluster.replicas:
            replica.start()
        await cluster.all_serving(within=120)
        yield cluster
    finally:
        await _tear_down(cluster)


async def _tear_down(cluster: Cluster) -> None:
    """Every step runs whatever the one before it raised; the folder goes last."""
    steps = [
        lambda: asyncio.gather(*(c.close() for c in cluster.channels.values())),
        lambda: asyncio.gather(*(asyncio.to_thread(r.stop) for r in cluster.replicas)),
        lambda: asyncio.to_thread(cluster.nats.stop),
        lambda: asyncio.to_thread(cluster.postgres.stop),
    ]
    for step in steps:
        with contextlib.suppress(Exception):
            await step()
    keep = os.environ.get("OMNI_CHAOS_KEEP_LOGS")
    if keep:
        _keep_logs(cluster.folder, Path(keep))
    shutil.rmtree(cluster.folder, ignore_errors=True)


def _keep_logs(folder: Path, into: Path) -> None:
    """Copies the replicas', PostgreSQL's and NATS's logs (not their data) to `into`."""
    into.mkdir(parents=True, exist_ok=True)
    for log_file in [*folder.glob("*.log"), *folder.glob("*/*.log")]:
        shutil.copy(log_file, into / log_file.name)
