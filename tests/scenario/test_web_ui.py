"""The Web UI in a real browser (Debian's Chromium driven by Playwright, no browser download):
log in through the Keycloak simulator's login form (authorization code + PKCE), ask and watch the
answer stream with evidence and audit id, an admin browses the audit log, a viewer is refused,
and the session cookie cannot be used without the CSRF token. Screenshots go to
$AIOPS_TEST_ARTIFACTS (default .artifacts/) for a person to look at."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from sim.anthropic import SimReply
from tests.fixtures.kubernetes import k8s_cluster  # noqa: F401  (fixture)
from tests.scenario.api_fixtures import Api, api_fixture, keycloak_fixture  # noqa: F401  (fixtures)

ARTIFACTS = Path(os.environ.get("AIOPS_TEST_ARTIFACTS", ".artifacts")) / "ui"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# no silent skip: scripts/ensure-test-services installs Debian's chromium (as root), else says how


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        assert CHROMIUM, "the Web UI tests need Debian's chromium: sudo apt-get install chromium"
        b = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync", "--disable-quic"])
        yield b
        await b.close()


async def login(browser: Browser, api: Api, username: str) -> Page:
    page = await (await browser.new_context()).new_page()
    await page.goto(api.url + "/")
    await page.get_by_role("link", name="Log in with Keycloak").click()
    await page.get_by_label("Username or email").fill(username)
    await page.get_by_label("Password").fill("password")
    await page.get_by_role("button", name="Sign In").click()
    await expect(page.locator("#who")).to_contain_text(f"Signed in as {username}")
    return page


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def test_login_ask_and_see_the_streamed_answer_with_evidence(browser: Browser, api: Api) -> None:
    page = await login(browser, api, "ana")
    api.harness.anthropic.script([
        SimReply(text="Looking at pods. ", tool_uses=[("k8s_list", {"kind": "pod", "namespace": "shop"})]),
        SimReply(text="checkout is healthy; no restarts in the last hour.", chunk_chars=6),
    ])
    await page.get_by_label("Question").fill("is checkout healthy?")
    await page.get_by_label("Question").press("Tab")  # keyboard only from here
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page.locator("#audit-ref")).to_contain_text("audit id:", timeout=30_000)
    await expect(page.locator("#answer")).to_have_text("checkout is healthy; no restarts in the last hour.")
    await expect(page.locator("#evidence li")).to_contain_text(["pod in shop"])
    await shot(page, "ask-answered")
    audit_id = (await page.locator("#audit-ref").inner_text()).split(": ")[1]
    row = await api.harness.wait_audit_row(audit_id)
    assert row["user_id"] == api.kc.users["ana"].id and row["user_message"] == "is checkout healthy?"

    await page.get_by_role("link", name="My investigations").click()
    await expect(page.locator("#investigations li")).to_contain_text(["is checkout healthy?"])


async def test_admin_browses_the_audit_log_and_a_viewer_is_refused(browser: Browser, api: Api) -> None:
    viewer = await login(browser, api, "sam")
    await viewer.get_by_role("link", name="Audit").click()
    await expect(viewer.locator("#audit-error")).to_have_text("Only admins may browse the audit log.")
    await shot(viewer, "audit-refused-viewer")

    api.harness.anthropic.script([SimReply(text="fine")])
    status, asked, _ = await api.call("POST", "/api/v1/ask", api.token("sam"), json={"question": "audit me"})
    assert status == 200
    await api.harness.wait_audit_row(asked["audit_id"])
    admin = await login(browser, api, "root")
    await admin.get_by_role("link", name="Audit").click()
    await admin.get_by_label("User").fill(api.kc.users["sam"].id)
    await admin.get_by_label("Type").select_option("query")
    await admin.get_by_role("button", name="Filter").click()
    await expect(admin.locator("#audit-table tbody tr")).to_have_count(1)
    await expect(admin.locator("#audit-table tbody")).to_contain_text("audit me")
    await expect(admin.locator("#verify-status")).to_contain_text(  # one database for the whole session
        re.compile("No audit verification has run yet|Last verification")
    )
    await shot(admin, "audit-admin")


async def test_session_cookie_alone_cannot_post_and_pages_are_locked_down(browser: Browser, api: Api) -> None:
    page = await login(browser, api, "ana")
    forged = await page.context.request.post(api.url + "/ui/api/ask", data={"question": "x"})
    assert forged.status == 403 and "CSRF" in (await forged.json())["detail"]
    resp = await page.goto(api.url + "/")
    assert resp is not None
    csp = resp.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    cookies = {c["name"]: c for c in await page.context.cookies()}
    session = cookies["aiops_session"]
    assert session["httpOnly"] and session["secure"] and session["sameSite"] in ("Lax", "Strict")
    # logging out ends the server-side session: the old cookie no longer works
    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("link", name="Log in with Keycloak")).to_be_visible()
    again = await page.context.request.get(api.url + "/ui/api/whoami",
                                           headers={"Cookie": f"aiops_session={session['value']}"})
    assert again.status == 401
