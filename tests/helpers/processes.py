"""Services run as processes, as in production: started, migrated, waited for."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.helpers.running import AUTH_TOKENS

# What every service process a test starts gets: the tokens, and no metrics port (several
# replicas on one machine would want the same one).
PROCESS_ENV = {
    "OMNI_AUTH_TOKENS": AUTH_TOKENS,
    **{f"OMNI_{s}_METRICS_PORT": "-1" for s in ("STOCK", "ORDERS", "PICKUP", "RETURNS")},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_process(module: str, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Starts `python -m module` with the given environment (and the test tokens) added."""
    env = {**os.environ, **PROCESS_ENV, **env}
    return subprocess.Popen([sys.executable, "-m", module], env=env)


def migrate_database(module: str, env: Mapping[str, str]) -> None:
    """Runs `python -m module migrate` and fails the test if it fails."""
    subprocess.run([sys.executable, "-m", module, "migrate"], env={**os.environ, **env}, check=True)


async def wait_serving(target: str, within: float = 30.0) -> None:
    """Waits until the gRPC health service at `target` answers SERVING."""
    deadline = time.monotonic() + within
    async with grpc.aio.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{target} did not become SERVING in {within}s")
