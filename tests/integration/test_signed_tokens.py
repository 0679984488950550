"""Signed tokens (JWT) beside the token list: the caller's role and store from the claims of a
token an identity provider signed, with keys from a JWKS file or URL that rotate without a
restart; anything else about a token refused as UNAUTHENTICATED (never INTERNAL)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError

from omni.platform import client
from omni.platform.natsserver import EmbeddedNats
from omni.stock.settings import StockSettings
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.helpers.checks import eventually
from tests.helpers.running import Stock, authorized, running_stock
from tests.helpers.stock import add_location, location, receive

ISSUER = "https://id.example.com/"
AUDIENCE = "omni"


@dataclass
class Key:
    kid: str
    private: ec.EllipticCurvePrivateKey

    def jwk(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "alg": "ES256", "use": "sig"}

    def sign(self, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "anna", "iat": now, "exp": now + 600}
        return jwt.encode({**body, **claims}, self.private, "ES256", headers={"kid": self.kid})


def claims_of(role: str) -> dict[str, Any]:
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "omni_role": role}


def new_key(kid: str) -> Key:
    return Key(kid, ec.generate_private_key(ec.SECP256R1()))


def _hs256(claims: dict[str, Any], secret: bytes) -> str:
    """A token signed with HMAC-SHA256 and `secret`, made by hand (PyJWT refuses to use a
    public key as the secret, which is what an attacker would do)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
    body = part(json.dumps(claims).encode())
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{part(mac)}"


def jwks(*keys: Key) -> str:
    return json.dumps({"keys": [k.jwk() for k in keys]})


async def code_of(stock: Stock, token: str) -> tuple[grpc.StatusCode, str]:
    """The status of ListLocations called with `token`, and its message."""
    async with client.channel(f"127.0.0.1:{stock.app.port}", token) as channel:
        try:
            await stock_pb2_grpc.StockServiceStub(channel).ListLocations(
                pb.ListLocationsRequest(), timeout=5
            )
        except grpc.aio.AioRpcError as exc:
            return exc.code(), exc.details() or ""
        return grpc.StatusCode.OK, ""


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Who calls does not depend on the database: SQLite only."""
    return f"sqlite+aiosqlite:///{tmp_path}/stock.db"


@pytest.fixture
async def keyed(
    database_url: str, nats_server: EmbeddedNats, tmp_path: Path
) -> AsyncIterator[tuple[Stock, Path, Key]]:
    """Stock trusting the keys in a JWKS file (read again every 0.1 s), and its first key."""
    key = new_key("k1")
    keys = tmp_path / "jwks.json"
    keys.write_text(jwks(key))
    settings = {
        "auth_jwks_file": str(keys),
        "auth_jwt_issuer": ISSUER,
        "auth_tokens_check_seconds": 0.1,
    }
    async with running_stock(database_url, nats_server, **settings) as stock:
        await add_location(stock.stub, "STORE-1", kind=pb.LOCATION_KIND_STORE)
        await add_location(stock.stub, "STORE-2", kind=pb.LOCATION_KIND_STORE)
        yield stock, keys, key


async def test_the_claims_name_the_role_and_the_store_the_caller_works_at(
    keyed: tuple[Stock, Path, Key],
) -> None:
    stock, _, key = keyed
    manager = key.sign(sub="maria", omni_role="manager", omni_store="STORE-1")
    async with client.channel(f"127.0.0.1:{stock.app.port}", manager) as channel:
        stub = stock_pb2_grpc.StockServiceStub(channel)
        assert len((await stub.ListLocations(pb.ListLocationsRequest())).locations) == 2
        assert (await receive(stub, "MUG", "STORE-1", 3)).on_hand == 3
        with pytest.raises(grpc.aio.AioRpcError) as elsewhere:
            await receive(stub, "MUG", "STORE-2", 3)
        assert elsewhere.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert elsewhere.value.details() == "maria works at STORE-1 only, not at STORE-2"
        with pytest.raises(grpc.aio.AioRpcError) as not_a_manager_s:
            request = pb.CreateLocationRequest(location=location("WH-9"))
            await stub.CreateLocation(request)
        assert not_a_manager_s.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert await code_of(stock, key.sign(omni_role="storefront")) == (grpc.StatusCode.OK, "")
    # The token list still works beside them.
    async with authorized(f"127.0.0.1:{stock.app.port}", "storefront") as channel:
        await stock_pb2_grpc.StockServiceStub(channel).ListLocations(pb.ListLocationsRequest())


async def test_a_token_not_signed_for_us_as_we_expect_is_unauthenticated(
    keyed: tuple[Stock, Path, Key],
) -> None:
    stock, _, key = keyed
    stranger = new_key("k1")  # the same key id, another key
    now = int(time.time())
    public_jwk = json.dumps(key.jwk()).encode()
    refused = {
        "expired": key.sign(omni_role="manager", exp=now - 120),
        "another audience": key.sign(omni_role="manager", aud="someone-else"),
        "another issuer": key.sign(omni_role="manager", iss="https://evil.example.com/"),
        "no subject": jwt.encode(
            {"iss": ISSUER, "aud": AUDIENCE, "exp": now + 60, "omni_role": "storefront"},
            key.private,
            "ES256",
            headers={"kid": "k1"},
        ),
        "another key": stranger.sign(omni_role="storefront"),
        "an unknown key id": new_key("k9").sign(omni_role="storefront"),
        "unsigned": jwt.encode(
            {
                "iss": ISSUER,
                "aud": AUDIENCE,
                "sub": "x",
                "exp": now + 60,
                "omni_role": "storefront",
            },
            None,
            "none",
            headers={"kid": "k1"},
        ),
        # The public key used as an HMAC secret: the algorithm confusion attack.
        "HS256 with the public key": _hs256(
            {
                "iss": ISSUER,
                "aud": AUDIENCE,
                "sub": "x",
                "exp": now + 60,
                "omni_role": "storefront",
            },
            public_jwk,
        ),
        "not a token": "not.a.token",
    }
    for name, token in refused.items():
        code, details = await code_of(stock, token)
        assert code == grpc.StatusCode.UNAUTHENTICATED, (name, code, details)
        assert len(details) < 200 and token not in details, name
    # Signed by us, but naming no role Omni has, a store on a role that has none, staff with
    # no store (never taken as every store), or `service`, which signed tokens may not name
    # unless OMNI_AUTH_JWT_ROLES lists it.
    for claims in (
        {"omni_role": "admin"},
        {"omni_role": "storefront", "omni_store": "STORE-1"},
        {"omni_role": "manager"},
        {"omni_role": "service"},
    ):
        code, _ = await code_of(stock, key.sign(**claims))
        assert code == grpc.StatusCode.PERMISSION_DENIED, claims
    # "*": a manager who works at every store, said so explicitly.
    anywhere = key.sign(sub="mo", omni_role="manager", omni_store="*")
    async with client.channel(f"127.0.0.1:{stock.app.port}", anywhere) as channel:
        assert (
            await receive(stock_pb2_grpc.StockServiceStub(channel), "CUP", "STORE-2", 1)
        ).on_hand


async def test_keys_rotate_in_the_file_without_a_restart(keyed: tuple[Stock, Path, Key]) -> None:
    stock, keys, old = keyed
    new = new_key("k2")
    old_token, new_token = old.sign(omni_role="storefront"), new.sign(omni_role="storefront")
    assert (await code_of(stock, old_token))[0] == grpc.StatusCode.OK
    keys.write_text(jwks(old, new))  # the provider publishes the next key beside the old one

    async def new_accepted() -> bool:
        return (await code_of(stock, new_token))[0] == grpc.StatusCode.OK

    await eventually(new_accepted, within=5)
    assert (await code_of(stock, old_token))[0] == grpc.StatusCode.OK
    keys.write_text(jwks(new))  # then withdraws the old one: its tokens stop working

    async def old_refused() -> bool:
        return (await code_of(stock, old_token))[0] == grpc.StatusCode.UNAUTHENTICATED

    await eventually(old_refused, within=5)
    keys.write_text("{not json")  # a bad edit keeps the keys in use
    await asyncio.sleep(0.5)
    fresh = new.sign(sub="someone-else", omni_role="storefront")  # not one verified before
    assert (await code_of(stock, fresh))[0] == grpc.StatusCode.OK
    keys.write_text(jwks())  # the only key withdrawn (compromised): none is trusted any more

    async def all_refused() -> bool:
        return (await code_of(stock, fresh))[0] == grpc.StatusCode.UNAUTHENTICATED

    await eventually(all_refused, within=5)


class _Published:
    """A JWKS served over HTTP, as an identity provider's jwks_uri."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.fetches = 0


@pytest.fixture
def provider() -> Iterator[tuple[_Published, str]]:
    published = _Published("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            published.fetches += 1
            body = published.body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield published, f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    finally:
        server.shutdown()


async def test_keys_from_a_url_are_fetched_again_when_a_token_names_a_new_one(
    database_url: str, nats_server: EmbeddedNats, provider: tuple[_Published, str]
) -> None:
    published, url = provider
    first, second = new_key("k1"), new_key("k2")
    published.body = jwks(first)
    settings = {
        "auth_jwks_url": url,
        "auth_jwt_issuer": ISSUER,
        "auth_jwks_refresh_seconds": 3600.0,  # only a new key id brings a fetch (within 10 s)
    }
    async with running_stock(database_url, nats_server, **settings) as stock:
        token = first.sign(omni_role="storefront")

        async def accepted(signed: str) -> bool:
            return (await code_of(stock, signed))[0] == grpc.StatusCode.OK

        await eventually(lambda: accepted(token), within=5)
        published.body = jwks(first, second)
        fetched = published.fetches
        later = second.sign(omni_role="storefront")
        assert (await code_of(stock, later))[0] == grpc.StatusCode.UNAUTHENTICATED
        await eventually(lambda: accepted(later), within=15)
        assert published.fetches == fetched + 1


def test_keys_come_over_https_and_roles_are_omnis() -> None:
    """Keys fetched in the clear could be swapped on the way (then anyone could sign):
    https, or http to this host only; and the roles allowed are roles Omni has."""
    base = {"database_url": "sqlite+aiosqlite://", "auth_jwt_issuer": ISSUER}
    for url in ("http://id.example.com/jwks.json", "ftp://id.example.com/jwks.json"):
        with pytest.raises(ValidationError, match="https"):
            StockSettings(**base, auth_jwks_url=url)
    for url in ("https://id.example.com/jwks.json", "http://127.0.0.1:8080/jwks.json"):
        assert StockSettings(**base, auth_jwks_url=url).auth_jwks_url == url
    with pytest.raises(ValidationError, match="OMNI_AUTH_JWT_ROLES"):
        StockSettings(**base, auth_jwks_url=url, auth_jwt_roles="manager,root")
    with pytest.raises(ValidationError, match="OMNI_AUTH_JWT_ISSUER"):
        StockSettings(database_url="sqlite+aiosqlite://", auth_jwks_url=url)
