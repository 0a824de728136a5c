"""The reviewer console and the API docs in a real headless Chromium, against the demo.

The demo runs as a user starts it (a subprocess on a free port); the browser is Debian's
``chromium`` driven by Playwright, offline: every request to another host is aborted and
recorded, so a page that needs the internet fails the test. A screenshot of each page is
kept under ``tests/artifacts/console/``. Without Chromium or Playwright the tests are skipped,
unless ``WALKER_REQUIRE_BROWSER=1`` (CI), where that is a failure.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from test_demo_cli import REPLY_SECONDS, RunningDemo, send, start_demo, wait_for

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "console"
EDITED = "Your refund is on its way, sorry for the wait."


def _browser_or_skip() -> Any:
    reason = ""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "Playwright for Python is not installed (the dev extra has it)"
    if not reason and not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if reason:
        if os.environ.get("WALKER_REQUIRE_BROWSER") == "1":
            pytest.fail(f"WALKER_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return sync_playwright


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (the system's; Playwright downloads no browser)."""
    sync_playwright = _browser_or_skip()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    """One demo for this module's scenarios."""
    running = start_demo(tmp_path_factory.mktemp("console-demo"))
    try:
        yield running
    finally:
        running.stop()


class Offline:
    """A browser context that may reach only the demo: anything else is aborted and noted."""

    def __init__(self, browser: Any, demo_url: str, *, javascript: bool = True) -> None:
        self.context = browser.new_context(
            java_script_enabled=javascript, viewport={"width": 1280, "height": 900}
        )
        self.outside: list[str] = []
        host = urlsplit(demo_url).netloc
        self.context.route("**/*", lambda route: self._only(route, host))
        self.page = self.context.new_page()

    def _only(self, route: Any, host: str) -> None:
        url = route.request.url
        if urlsplit(url).netloc == host:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def shot(self, name: str) -> None:
        """Keep a full-page screenshot of what the browser shows now."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


def banner_value(demo: RunningDemo, label: str) -> str:
    """A value of the demo's summary (``console``, ``API token``)."""
    found = re.search(rf"^  {re.escape(label)}\s+(\S+)", demo.printed(), re.MULTILINE)
    assert found, demo.printed()
    return found.group(1)


def simulate_refund(demo: RunningDemo, body: str) -> str:
    """Run the printed ``simulate`` line with ``body``; return the approval id it printed."""
    line = demo.command("walker-channels simulate", "--api-token")
    line[line.index("--body") + 1] = body
    ran = subprocess.run(line, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
    assert ran.returncode == 0, ran.stderr
    found = re.search(r"Held for review: approval (\w+)", ran.stdout)
    assert found, ran.stdout
    approval_id = found.group(1)
    assert f"/api/v1/admin/hitl/{approval_id}/approve" in ran.stdout
    return approval_id


def outbox(demo: RunningDemo) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = send(demo.command("curl", "/demo/messages")).json()["messages"]
    return messages


def sign_in(session: Offline, demo: RunningDemo) -> None:
    page = session.page
    page.goto(banner_value(demo, "console"))
    assert "/console/login" in page.url
    page.fill("#token", banner_value(demo, "API token"))
    page.click("button[type=submit]")


def test_the_printed_simulate_line_names_the_cli_by_its_full_path(demo: RunningDemo) -> None:
    cli = Path(demo.command("walker-channels simulate")[0])

    assert cli.is_absolute()
    assert cli.is_file()


def test_a_reviewer_signs_in_edits_and_approves_the_held_draft(
    browser: Any, demo: RunningDemo
) -> None:
    approval_id = simulate_refund(demo, "I would like a refund for my order")
    session = Offline(browser, banner_value(demo, "console"))
    page = session.page
    try:
        page.goto(banner_value(demo, "console"))
        session.shot("login")
        sign_in(session, demo)
        row = page.locator(f'tr[data-approval-id="{approval_id}"]')
        row.wait_for()
        assert "low confidence" in row.inner_text()
        session.shot("review-queue")

        row.locator("a.open").click()
        page.wait_for_url(f"**/console/review/{approval_id}")
        assert "I would like a refund for my order" in page.inner_text(".their-message")
        assert page.inner_text(".confidence") == "0.20"
        session.shot("draft")
        page.fill("#text", EDITED)
        page.click("button[value=edit]")
        page.wait_for_url("**/console/review?notice=edited")
        assert "Approved with your edit" in page.inner_text(".notice")
        assert page.locator(f'tr[data-approval-id="{approval_id}"]').count() == 0

        reply = wait_for(
            lambda: next((m for m in outbox(demo) if m["body"] == EDITED), None),
            REPLY_SECONDS,
            demo,
        )
        delivered = wait_for(
            lambda: next(
                (
                    m
                    for m in outbox(demo)
                    if m["sid"] == reply["sid"] and m["status"] == "delivered"
                ),
                None,
            ),
            REPLY_SECONDS,
            demo,
        )
        assert delivered["to"] == "whatsapp:+14155552671"
        assert "+14155552671" not in page.content()
        assert session.outside == []
    finally:
        session.close()


def test_the_dashboard_renders_its_charts(browser: Any, demo: RunningDemo) -> None:
    session = Offline(browser, banner_value(demo, "console"))
    page = session.page
    try:
        sign_in(session, demo)
        page.goto(banner_value(demo, "console") + "/dashboard")
        for chart, bars in (("#hourly-chart", 24), ("#confidence-chart", 10)):
            svg = page.locator(f"{chart} svg")
            box = svg.bounding_box()
            assert box is not None
            assert box["width"] > 300
            assert box["height"] > 80
            assert page.locator(f"{chart} rect.bar").count() == bars
            tallest = max(
                float(h)
                for h in page.locator(f"{chart} rect.bar").evaluate_all(
                    "bars => bars.map(b => b.getBBox().height)"
                )
            )
            assert tallest > 0  # the demo has traffic: at least one bar is drawn
        assert page.locator("#hitl-chart circle.point").count() >= 1
        assert page.locator("table.agents td").first.inner_text() == "echo"
        session.shot("dashboard")
        assert session.outside == []
    finally:
        session.close()


def test_the_forms_work_without_javascript(browser: Any, demo: RunningDemo) -> None:
    approval_id = simulate_refund(demo, "A refund, please, without scripts")
    session = Offline(browser, banner_value(demo, "console"), javascript=False)
    page = session.page
    try:
        sign_in(session, demo)
        page.goto(banner_value(demo, "console") + f"/review/{approval_id}")
        page.fill("#fallback_text", "We will call you back.")
        session.shot("draft-without-javascript")
        page.click("button[value=reject]")
        page.wait_for_url("**/console/review?notice=fallback_sent")
        assert page.locator(f'tr[data-approval-id="{approval_id}"]').count() == 0
        wait_for(
            lambda: next((m for m in outbox(demo) if m["body"] == "We will call you back."), None),
            REPLY_SECONDS,
            demo,
        )
        page.click("header .signout button")
        page.wait_for_url("**/console/login")
        page.goto(banner_value(demo, "console") + "/review")
        assert "/console/login" in page.url
    finally:
        session.close()


def test_a_reviewer_takes_over_a_conversation_replies_and_releases_it(
    browser: Any, demo: RunningDemo
) -> None:
    simulate_refund(demo, "Where is my refund? Nobody answers me")
    human_reply = "Hello, this is a person from the team: your refund left today."
    session = Offline(browser, banner_value(demo, "console"))
    page = session.page
    try:
        sign_in(session, demo)
        page.goto(banner_value(demo, "console") + "/conversations?mode=agent")
        row = page.locator("tr.conversation-row").first
        row.wait_for()
        session.shot("conversations")
        row.locator("a.open").click()
        page.wait_for_url("**/console/conversations/*")
        assert "Where is my refund?" in page.inner_text(".transcript")
        page.click("button[value=takeover]")
        page.wait_for_url("**/console/conversations/*?notice=taken")
        assert page.inner_text("#mode") == "human"

        page.fill("#text", human_reply)
        page.click("button[value=reply]")
        page.wait_for_url("**/console/conversations/*?notice=sent")
        assert human_reply in page.inner_text(".transcript")
        session.shot("conversation-human")
        sent = wait_for(
            lambda: next((m for m in outbox(demo) if m["body"] == human_reply), None),
            REPLY_SECONDS,
            demo,
        )
        assert sent["to"] == "whatsapp:+14155552671"
        assert "14155552671" not in page.content()

        page.click("button[value=release]")
        page.wait_for_url("**/console/conversations/*?notice=released")
        assert page.inner_text("#mode") == "agent"
        assert session.outside == []
    finally:
        session.close()


@pytest.mark.parametrize(
    ("path", "ready"), [("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")]
)
def test_the_api_docs_render_with_no_internet(
    browser: Any, demo: RunningDemo, path: str, ready: str
) -> None:
    base = banner_value(demo, "console").removesuffix("/console")
    session = Offline(browser, base)
    page = session.page
    try:
        page.goto(base + path)
        title = page.locator(ready).first
        title.wait_for(timeout=20_000)
        assert "walker-channels demo" in title.inner_text()
        session.shot(f"api{path.replace('/', '-')}")
        assert session.outside == []
    finally:
        session.close()
