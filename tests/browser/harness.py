"""Shared harness for browser tests: Debian's Chromium driven by Playwright's Python API.

Never a downloaded browser: Chromium comes from the apt package (`apt-get install chromium`);
without it, every browser test is skipped with a message saying so. Screenshots go to
test-artifacts/ (git-ignored); look at them.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from importlib import resources
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


# --- Accessibility: axe-core, from the installed axe-playwright-python package -----------------

AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
"""WCAG 2.1 A and AA rules only (no best-practice rules)."""
AXE_IMPACTS = ("serious", "critical")

_AXE_RUN = """(tags) => axe.run(document, {runOnly: {type: "tag", values: tags},
  resultTypes: ["violations"]}).then((results) => results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    count: v.nodes.length})))"""


@functools.cache
def axe_script() -> str:
    """axe.min.js as shipped inside the axe-playwright-python package (never a CDN). Its text
    is evaluated in the page: the CSP would block an added <script> element, not this."""
    return resources.files("axe_playwright_python").joinpath("axe.min.js").read_text("utf-8")


def axe_violations(page, impacts: tuple[str, ...] = AXE_IMPACTS) -> list[str]:
    """The page's WCAG 2.1 A/AA violations of these impacts, one line each (rule, impact, what
    it means, where: the first three elements)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_script())
    found = page.evaluate(_AXE_RUN, list(AXE_TAGS))
    return [
        f"{v['id']} ({v['impact']}, {v['count']} element(s)): {v['help']} "
        f"at {'; '.join(v['nodes'])}"
        for v in found
        if v["impact"] in impacts
    ]


def wait_for_charts(page, timeout: int = 15_000) -> None:
    """Wait until every chart on the page is drawn or has failed, except those inside a closed
    <details> (drawn when it opens)."""
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll("
        "'.sk-chart[data-figure]:not(.sk-chart--drawn):not(.sk-chart--failed)'))"
        ".every((chart) => chart.closest('details:not([open])'))",
        timeout=timeout,
    )
