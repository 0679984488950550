"""HTTP/JSON for browser storefronts and scripts: every RPC over the Connect protocol at the
console, with the same tokens, validation and errors as gRPC; a storefront page on another
origin places an order and follows availability from Chromium."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from playwright.async_api import Page, expect
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.browser.conftest import WAREHOUSE, World, uvicorn_serving
from tests.helpers.checks import unique
from tests.helpers.processes import free_port
from tests.helpers.running import TOKENS
from tests.helpers.stock import receive

SHOP_PORT = free_port()
SHOP = f"http://127.0.0.1:{SHOP_PORT}"
CONSOLE_SETTINGS = {"cors_origins": [SHOP]}
STOCK = "omni.stock.v1.StockService"
ORDERS = "omni.orders.v1.OrdersService"


def call(world: World, rpc: str, body: Any, role: str | None = "storefront") -> tuple[int, Any]:
    """One unary call over HTTP with a JSON body, as curl or a script makes it."""
    headers = {"content-type": "application/json"}
    if role:
        headers["authorization"] = f"Bearer {TOKENS[role]}"
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(f"{world.url}/{rpc}", data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


async def test_every_rpc_answers_json_with_the_same_tokens_and_refusals_as_grpc(
    world: World,
) -> None:
    status, body = await asyncio.to_thread(call, world, f"{STOCK}/ListLocations", {})
    assert status == 200 and WAREHOUSE in {loc["id"] for loc in body["locations"]}
    status, body = await asyncio.to_thread(call, world, f"{STOCK}/ListLocations", {}, None)
    assert (status, body["code"]) == (401, "unauthenticated")
    status, body = await asyncio.to_thread(
        call, world, f"{STOCK}/AdjustStock", {"sku": "A"}, "scanner"
    )
    assert (status, body["code"]) == (403, "permission_denied")
    status, body = await asyncio.to_thread(call, world, f"{STOCK}/GetAvailability", {"skus": []})
    assert (status, body["code"]) == (400, "invalid_argument")
    assert body["message"] == "skus must name at least one id"
    status, body = await asyncio.to_thread(call, world, f"{STOCK}/GetAvailability", b"{not json")
    assert (status, body["code"]) == (400, "invalid_argument")
    huge = json.dumps({"skus": ["A" * 60] * 40_000}).encode()  # 2.5 MB, over the 1 MiB limit
    status, body = await asyncio.to_thread(call, world, f"{STOCK}/GetAvailability", huge)
    assert (status, body["code"]) == (429, "resource_exhausted")


async def test_a_short_reservation_carries_its_short_lines_as_details(world: World) -> None:
    sku = unique("RARE")
    await receive(world.stock.stub, sku, WAREHOUSE, 1)
    reserve = {
        "idempotencyKey": unique("k"),
        "lines": [{"sku": sku, "locationId": WAREHOUSE, "quantity": 3}],
    }
    status, body = await asyncio.to_thread(call, world, f"{STOCK}/Reserve", reserve)
    assert (status, body["code"]) == (400, "failed_precondition")
    (detail,) = body["details"]
    assert detail["type"] == "omni.stock.v1.InsufficientStock"
    short = base64.b64decode(detail["value"] + "==")
    assert sku.encode() in short


def _frames(raw: bytes) -> list[dict[str, Any]]:
    """Connect streaming: each message a flag byte, a 4-byte length and the JSON."""
    found, at = [], 0
    while at + 5 <= len(raw):
        flags, size = struct.unpack(">BI", raw[at : at + 5])
        found.append({"end": bool(flags & 2), **json.loads(raw[at + 5 : at + 5 + size] or b"{}")})
        at += 5 + size
    return found


async def test_a_watch_streams_json_messages_over_connect(world: World) -> None:
    sku = unique("WATCHED")
    await receive(world.stock.stub, sku, WAREHOUSE, 4)
    message = json.dumps({"skus": [sku], "locationIds": [WAREHOUSE]}).encode()
    request = urllib.request.Request(
        f"{world.url}/{STOCK}/WatchAvailability",
        data=struct.pack(">BI", 0, len(message)) + message,
        headers={
            "content-type": "application/connect+json",
            "authorization": f"Bearer {TOKENS['storefront']}",
            "connect-timeout-ms": "1500",  # the watch ends itself; its first messages came
        },
    )

    def first_messages() -> bytes:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return bytes(answer.read())

    frames = _frames(await asyncio.to_thread(first_messages))
    levels = [f["level"] for f in frames if "level" in f]
    assert levels and levels[0]["sku"] == sku and levels[0]["available"] == "4"


SHOP_PAGE = """<!doctype html><html><body>
<p>Available: <output id="available">…</output></p>
<button id="buy">Buy one</button> <output id="order"></output>
<script>
const API = %(api)s, TOKEN = %(token)s, SKU = %(sku)s;
const auth = {"authorization": "Bearer " + TOKEN};
async function watch() {
  const body = new TextEncoder().encode(JSON.stringify({skus: [SKU]}));
  const frame = new Uint8Array(5 + body.length);
  new DataView(frame.buffer).setUint32(1, body.length);
  frame.set(body, 5);
  const answer = await fetch(API + "/omni.stock.v1.StockService/WatchAvailability", {
    method: "POST", body: frame,
    headers: {...auth, "content-type": "application/connect+json"}});
  const reader = answer.body.getReader();
  let pending = new Uint8Array(0);
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    const joined = new Uint8Array(pending.length + value.length);
    joined.set(pending); joined.set(value, pending.length); pending = joined;
    while (pending.length >= 5) {
      const size = new DataView(pending.buffer, pending.byteOffset).getUint32(1);
      if (pending.length < 5 + size) break;
      const msg = JSON.parse(new TextDecoder().decode(pending.slice(5, 5 + size)));
      const shown = document.getElementById("available");
      if (msg.network) shown.textContent = msg.network.available || "0";
      pending = pending.slice(5 + size);
    }
  }
}
document.getElementById("buy").onclick = async () => {
  const answer = await fetch(API + "/omni.orders.v1.OrdersService/PlaceOrder", {
    method: "POST", headers: {...auth, "content-type": "application/json"},
    body: JSON.stringify({idempotencyKey: "shop-" + Date.now(), channel: "CHANNEL_WEB",
      customerId: "web-1", currency: "EUR", ship: {region: "east"},
      lines: [{sku: SKU, quantity: 1, unitPrice: 2500}]})});
  const body = await answer.json();
  document.getElementById("order").textContent = body.order ? body.order.status : body.message;
};
watch();
</script></body></html>"""


@asynccontextmanager
async def shop_serving(world: World, sku: str) -> AsyncIterator[None]:
    """A storefront on its own origin, as a browser storefront is."""
    values = {"api": world.url, "token": TOKENS["storefront"], "sku": sku}
    page = SHOP_PAGE % {k: json.dumps(v) for k, v in values.items()}

    async def home(_: Any) -> HTMLResponse:
        return HTMLResponse(page)

    app = Starlette(routes=[Route("/", home)])
    async with uvicorn_serving(uvicorn.Server(uvicorn.Config(app, port=SHOP_PORT))):
        yield


async def test_a_storefront_page_places_an_order_and_follows_availability_from_the_browser(
    world: World, page: Page
) -> None:
    sku = unique("SHOE")
    await receive(world.stock.stub, sku, WAREHOUSE, 3)
    async with shop_serving(world, sku):
        await page.goto(SHOP + "/")
        available = page.locator("#available")
        await expect(available).to_have_text("3")
        await page.get_by_role("button", name="Buy one").click()
        await expect(page.locator("#order")).to_have_text("ORDER_STATUS_CONFIRMED")
        await expect(available).to_have_text("2")  # followed live, from another origin
        await receive(world.stock.stub, sku, WAREHOUSE, 5)
        await expect(available).to_have_text("7")
