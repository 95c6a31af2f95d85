"""The dashboard and the privacy center in a real browser: Playwright driving Debian's chromium (launched by its
path; `playwright install` is never run). Screenshots of every page go to test-output/screenshots/."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.governance.conftest import email

pytestmark = pytest.mark.service
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (apt-get install chromium): the browser tests need it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def _page(browser: Any, errors: list[str]) -> Any:
    page = browser.new_context().new_page()
    page.on("console", lambda m: errors.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    return page


def _login(page: Any, service: dict[str, Any], who: Any) -> None:
    page.goto(service["url"] + "/ui/login")
    page.fill("#api_key", who.key)
    page.fill("#totp", who.code())
    page.click("#login")
    page.wait_for_url(re.compile(r".*/ui$"))


def test_operator_pages_inspect_and_no_console_errors(browser: Any, service: dict[str, Any]) -> None:
    errors: list[str] = []
    page = _page(browser, errors)
    _login(page, service, service["admin"])
    assert "Overview" in page.inner_text("main h1")
    page.goto(service["url"] + "/ui/datamap")
    page.click("#scan-shop")
    assert "EMAIL_ADDRESS" in page.inner_text("main") and "customers" in page.inner_text("main")
    for name in ("overview", "datamap", "inspect", "guard", "budgets", "audit", "governance", "access"):
        page.goto(service["url"] + ("/ui" if name == "overview" else f"/ui/{name}"))
        assert page.locator("main h1").count() == 1, name
        page.screenshot(path=str(SHOTS / f"ui-{name}.png"), full_page=True)
    page.goto(service["url"] + "/ui/inspect")
    page.fill("#text", "Please reply to maria.gonzalez@example.org before Friday.")
    page.click("#inspect")
    mark = page.locator('#marked mark[data-entity="EMAIL_ADDRESS"]')
    assert mark.inner_text() == "maria.gonzalez@example.org"
    assert "EMAIL_ADDRESS" in (mark.get_attribute("title") or "") and "score" in (mark.get_attribute("title") or "")
    assert "maria.gonzalez@example.org" not in page.inner_text("#preview")
    page.screenshot(path=str(SHOTS / "ui-inspect-result.png"), full_page=True)
    page.goto(service["url"] + "/ui/audit")
    page.click("#verify")
    assert "intact" in page.inner_text("main")
    assert errors == []


def test_support_cannot_open_the_audit_page(browser: Any, service: dict[str, Any]) -> None:
    errors: list[str] = []
    page = _page(browser, errors)
    _login(page, service, service["support"])
    assert page.locator('header a[href="/ui/audit"]').count() == 0
    response = page.goto(service["url"] + "/ui/audit")
    assert response.status == 403 and "Not allowed" in page.inner_text("main")
    page.screenshot(path=str(SHOTS / "ui-audit-denied.png"), full_page=True)
    assert [e for e in errors if "403" not in e] == []  # the refused page itself logs its 403 status


def test_a_request_from_the_privacy_center_reaches_the_operator_queue(browser: Any, service: dict[str, Any]) -> None:
    errors: list[str] = []
    person = _page(browser, errors)
    person.goto(service["url"] + "/center")
    person.screenshot(path=str(SHOTS / "center-start.png"), full_page=True)
    person.fill("#email", email(9))
    person.click("#send-code")
    person.fill("#code", service["mailbox"].code())
    person.screenshot(path=str(SHOTS / "center-code.png"), full_page=True)
    person.click("#verify-code")
    person.click("#grant-marketing")
    assert person.inner_text("#state-marketing") == "you agreed"
    person.click("#ask-erase")
    rid = re.search(r"dsr_[0-9a-f]{16}", person.inner_text("#my-requests")).group(0)  # type: ignore[union-attr]
    person.screenshot(path=str(SHOTS / "center-me.png"), full_page=True)
    operator = _page(browser, errors)
    _login(operator, service, service["admin"])
    operator.goto(service["url"] + "/ui/governance")
    assert rid in operator.inner_text("#dsar-queue")
    operator.screenshot(path=str(SHOTS / "ui-governance-queue.png"), full_page=True)
    assert errors == []
