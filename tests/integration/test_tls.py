"""TLS: a service with a certificate serves gRPC over TLS only, and reaches NATS over TLS."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from omni.platform import client
from omni.platform.natsserver import EmbeddedNats
from omni.stock.app import StockApp
from omni.stock.settings import StockSettings
from omni.stock.v1 import stock_pb2, stock_pb2_grpc
from tests.helpers.checks import eventually
from tests.helpers.pki import write_pki
from tests.helpers.running import TEST_SETTINGS, TOKENS


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA, and a server certificate for localhost signed by it (PEM files)."""
    return write_pki(tmp_path_factory.mktemp("pki"))


async def test_a_service_with_a_certificate_speaks_only_tls_to_clients_and_to_nats(
    database_url: str, pki: dict[str, Path], tmp_path: Path
) -> None:
    tls_args = ("--tls", "--tlscert", str(pki["cert"]), "--tlskey", str(pki["key"]))
    with EmbeddedNats(tmp_path / "nats", extra_args=tls_args) as nats_server:
        settings = StockSettings(
            database_url=database_url,
            **{**nats_server.settings("stock"), "nats_url": f"tls://localhost:{nats_server.port}"},
            tls_cert_file=str(pki["cert"]),
            tls_key_file=str(pki["key"]),
            nats_ca_file=str(pki["ca"]),
            **TEST_SETTINGS,
        )
        app = StockApp(settings)
        await app.start()
        secure = client.channel(
            f"localhost:{app.port}", TOKENS["service"], root_certificates=pki["ca"].read_bytes()
        )
        plain = client.channel(f"localhost:{app.port}", TOKENS["service"])
        try:
            stock = stock_pb2_grpc.StockServiceStub(secure)
            reply = await stock.ListLocations(stock_pb2.ListLocationsRequest(), timeout=5)
            assert list(reply.locations) == []
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stock_pb2_grpc.StockServiceStub(plain).ListLocations(
                    stock_pb2.ListLocationsRequest(), timeout=2
                )
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE

            # Ready only once NATS answered, which it does over TLS only.
            health = health_pb2_grpc.HealthStub(secure)

            async def serving() -> bool:
                await app.health.refresh()
                check = await health.Check(health_pb2.HealthCheckRequest(), timeout=2)
                return check.status == health_pb2.HealthCheckResponse.SERVING

            await eventually(serving, within=10)

            # The command line speaks TLS when told which CA to trust, and only then.
            omni = [sys.executable, "-c", "from omni.cli import main; main()"]
            target = ["--stock", f"localhost:{app.port}", "--token", TOKENS["service"]]
            trusted = await _run(*omni, *target, "--ca-file", str(pki["ca"]), "location", "list")
            assert trusted.returncode == 0, trusted.stderr
            plain_cli = await _run(*omni, *target, "location", "list")
            assert plain_cli.returncode != 0 and plain_cli.stderr.startswith("omni: unavailable")
            missing = await _run(*omni, *target, "--ca-file", "/nowhere.pem", "location", "list")
            assert missing.stderr.strip() == (
                "omni: cannot read the CA file /nowhere.pem: No such file or directory"
            )
        finally:
            await secure.close()
            await plain.close()
            await app.stop()


async def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, timeout=60, check=False
    )


def test_a_certificate_without_its_key_is_refused() -> None:
    with pytest.raises(ValueError, match="go together"):
        StockSettings(tls_cert_file="tls.crt")


async def test_a_renewed_certificate_is_served_to_new_connections_without_a_restart(
    database_url: str, tmp_path: Path
) -> None:
    """cert-manager renews the certificate in the mounted Secret: new connections get the new
    one; a half-written pair (a key that is not the certificate's) is not taken."""
    first = write_pki(tmp_path / "first", ca_name="first CA")
    second = write_pki(tmp_path / "second", ca_name="second CA")
    served = {"cert": tmp_path / "tls.crt", "key": tmp_path / "tls.key"}
    for name, path in served.items():
        path.write_bytes(first[name].read_bytes())
    settings = StockSettings(
        database_url=database_url,
        nats_url="nats://127.0.0.1:1",  # never reached: only the gRPC certificate is at stake
        tls_cert_file=str(served["cert"]),
        tls_key_file=str(served["key"]),
        **TEST_SETTINGS,
    )
    app = StockApp(settings)
    await app.start()
    try:

        async def answers(pki: dict[str, Path]) -> bool:
            channel = client.channel(
                f"localhost:{app.port}", TOKENS["service"], root_certificates=pki["ca"].read_bytes()
            )
            try:
                stub = stock_pb2_grpc.StockServiceStub(channel)
                await stub.ListLocations(stock_pb2.ListLocationsRequest(), timeout=3)
                return True
            except grpc.aio.AioRpcError as exc:
                assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc
                return False
            finally:
                await channel.close()

        assert await answers(first) and not await answers(second)
        served["cert"].write_bytes(second["cert"].read_bytes())  # the key is still the old one
        assert await answers(first) and not await answers(second)
        served["key"].write_bytes(second["key"].read_bytes())
        assert await answers(second) and not await answers(first)
    finally:
        await app.stop()
