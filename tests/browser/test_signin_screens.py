"""Signing in and out: people sign in with their own token; machines' tokens cannot."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import HOME, World, shot, sign_in
from tests.helpers.running import TOKENS


@pytest.mark.parametrize("role", ["storefront", "scanner"])
async def test_a_machines_token_is_refused_at_sign_in(world: World, page: Page, role: str) -> None:
    await sign_in(page, world.url, role)
    await expect(page.get_by_role("alert")).to_contain_text("cannot sign in here")
    await expect(page.get_by_label("Access token")).to_be_visible()
    await page.goto(f"{world.url}/s/{HOME}/pickup")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


async def test_an_unknown_token_is_refused_and_the_page_says_so(world: World, page: Page) -> None:
    await page.goto(world.url + "/signin")
    await shot(page, "sign-in")
    await page.get_by_label("Access token").fill("not-a-token")
    await page.get_by_label("Access token").press("Enter")
    await expect(page.get_by_role("alert")).to_have_text(
        "That token is not known. Check it, or ask your manager."
    )


async def test_signing_out_ends_the_session(world: World, page: Page) -> None:
    await sign_in(page, world.url, "associate")
    await expect(page.get_by_role("heading", name=f"Pickup queue at {HOME}")).to_be_visible()
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.goto(f"{world.url}/s/{HOME}/pickup")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


async def test_a_person_not_bound_to_a_store_chooses_one_first(world: World, page: Page) -> None:
    await page.goto(world.url + "/signin")
    await page.get_by_label("Access token").fill(TOKENS["manager-anywhere"])
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.get_by_label("Store").select_option("STORE-2")
    await page.get_by_role("button", name="Work here").click()
    await expect(page.get_by_role("heading", name="Pickup queue at STORE-2")).to_be_visible()
