"""Shared harness for browser tests: Debian's Chromium driven by Playwright's Python API.

Never a downloaded browser: Chromium comes from the apt package (`apt-get install chromium`);
without it, every browser test is skipped with a message saying so. Screenshots go to
test-artifacts/ (git-ignored); look at them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Headless, no sandbox (root in CI), and no background networking: nothing reaches out.
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}

# Record CSP violations in the page (the listener is added before any page script runs).
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""

BROWSER_TEST = [
    pytest.mark.browser,
    # serialized_rollback: the data migrations (built-in tags, triggers) survive the flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]


@contextlib.contextmanager
def chromium_page(viewport: dict) -> Iterator:
    """A fresh page that collects console errors and warnings and page errors in
    `page.problems`, and CSP violations for `csp_violations(page)`."""
    # Playwright's sync API runs an event loop; Django's ORM calls from the test are safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(viewport=viewport, device_scale_factor=2)
            page = context.new_page()
            page.add_init_script(CSP_LISTENER)
            problems: list[str] = []
            page.on(
                "console",
                lambda message: (
                    problems.append(f"console {message.type}: {message.text}")
                    if message.type in ("error", "warning")
                    else None
                ),
            )
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.problems = problems
            yield page
        finally:
            browser.close()
            # ORM calls made while Playwright's loop runs get a connection of their own
            # (Django's connections are per context); close it here, in that context, or it
            # outlives the test database.
            from django.db import connections

            connections.close_all()


def login(page, live_server, username: str, password: str = "correct horse battery staple"):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def csp_violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations")
