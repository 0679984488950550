"""Hostile input to every page and form: a page in words, never a crash or a traceback, and
nothing a person typed echoed back as markup."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.async_api import BrowserContext, Page

from tests.browser.conftest import HOME, World, sign_in

HOSTILE = [
    "bad\x00nul",
    "x" * 10_000,
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "ünïcødé-😀",
    " ",
    "-1",
    "99999999999999999999",
]
GETS = [
    "/s/{v}/pickup",
    "/s/{h}/pickup/{v}",
    "/s/{h}/counter?q={v}",
    "/s/{h}/counter/orders/{v}",
    "/s/{h}/aisle?q={v}",
    "/s/{h}/stock?prefix={v}",
    "/s/{h}/stock/item?sku={v}",
    "/signin?next={v}",
    "/orders?customer={v}&channel={v}&status={v}&day={v}&after={v}",
    "/orders/{v}",
]
POSTS = [
    ("/s/{h}/pickup/{v}/pick", ("code", "scan_id")),
    ("/s/{h}/pickup/{v}/handover", ("code",)),
    ("/s/{h}/pickup/{v}/shortage", ("sku", "missing")),
    ("/s/{h}/pickup/{v}/{v}", ()),
    ("/s/{h}/counter/orders/{v}/review", ("sellable:X", "override", "override_reason")),
    ("/s/{h}/counter/orders/{v}/confirm", ("key",)),
    ("/s/{h}/aisle/order", ("sku", "customer", "quantity", "price", "fulfilment", "region")),
    ("/s/{h}/aisle/order", ("sku", "customer", "quantity", "price", "fulfilment", "key")),
    ("/s/{h}/stock/item/count", ("sku", "counted", "key")),
    ("/s/{h}/stock/item/adjust", ("sku", "delta", "reason", "key")),
    ("/s/{h}/stock/item/{v}", ("sku",)),
    ("/orders/{v}/cancel", ("reason",)),
    ("/orders/{v}/ship", ("key", "location", "ship:X", "carrier", "tracking")),
    ("/orders/{v}/{v}", ()),
    ("/store", ("store",)),
    ("/signin", ("token",)),
]


def _check(status: int, body: str, what: str) -> None:
    assert status < 500, f"{what}: {status}"
    for leak in ("Traceback", "StatusCode.", "grpc", "<script>alert(1)"):
        assert leak not in body, f"{what}: page shows {leak!r}"


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
async def test_hostile_values_in_every_page_and_form_are_answered_in_words(
    world: World, page: Page, context: BrowserContext, value: str
) -> None:
    await sign_in(page, world.url, "manager")
    v = quote(value, safe="")
    for path in GETS:
        url = world.url + path.format(h=HOME, v=v)
        answer = await context.request.get(url, max_redirects=0)
        _check(answer.status, await answer.text(), f"GET {path}")
    for path, names in POSTS:
        url = world.url + path.format(h=HOME, v=v)
        form = dict.fromkeys(names, value)
        for headers in ({}, {"HX-Request": "true"}):
            answer = await context.request.post(url, form=form, headers=headers, max_redirects=0)
            _check(answer.status, await answer.text(), f"POST {path} {headers}")
