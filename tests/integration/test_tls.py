"""TLS: a service with a certificate serves gRPC over TLS only, and reaches NATS over TLS."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc

from omni.platform import client
from omni.platform.natsserver import EmbeddedNats
from omni.stock.app import StockApp
from omni.stock.settings import StockSettings
from omni.stock.v1 import stock_pb2, stock_pb2_grpc
from tests.helpers.checks import eventually
from tests.helpers.running import TEST_SETTINGS, TOKENS


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[str, ec.EllipticCurvePrivateKey]
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer[0]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
    )
    if subject == issuer[0]:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
    else:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), False)
    return builder.sign(issuer[1], hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA, and a server certificate for localhost signed by it (PEM files)."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key, server_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca = _certificate("omni test CA", ca_key, ("omni test CA", ca_key))
    server = _certificate("localhost", server_key, ("omni test CA", ca_key))
    files = {"ca": folder / "ca.pem", "cert": folder / "tls.crt", "key": folder / "tls.key"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


async def test_a_service_with_a_certificate_speaks_only_tls_to_clients_and_to_nats(
    database_url: str, pki: dict[str, Path], tmp_path: Path
) -> None:
    tls_args = ("--tls", "--tlscert", str(pki["cert"]), "--tlskey", str(pki["key"]))
    with EmbeddedNats(tmp_path / "nats", extra_args=tls_args) as nats_server:
        settings = StockSettings(
            database_url=database_url,
            nats_url=f"tls://localhost:{nats_server.port}",
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
