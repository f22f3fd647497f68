"""Headless Chromium: a client logs an inner-critic moment on a phone and reframes it; the
progress page draws SVG charts with no console error and no Content-Security-Policy violation.

Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.staticfiles import finders
from django.utils import timezone

from tests.browser.harness import (
    ARTIFACTS,
    BROWSER_TEST,
    PHONE,
    chromium_page,
    csp_violations,
    login,
)

PLOTLY = "vendor/plotly/plotly.min.js"
pytestmark = BROWSER_TEST


@pytest.fixture
def browser_page():
    with chromium_page(PHONE) as page:
        yield page


def test_a_client_logs_and_reframes_on_a_phone_and_sees_charts(world, live_server, browser_page):
    from tracking.models import InnerCriticEntry

    page = browser_page
    assert finders.find(PLOTLY), f"{PLOTLY} must be served from the installed plotly package"
    login(page, live_server, "sam")

    page.goto(f"{live_server.url}/tracking/me/")
    page.fill("textarea[name=critic_text]", "You <b>never</b> get anything right.")
    page.click("label[for=id_intensity_8]")  # a tap on the 0-10 scale
    page.screenshot(path=ARTIFACTS / "tracking-1-capture-375.png", full_page=True)
    page.click("form.sk-capture button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/tracking/me/entries/" in page.url
    assert page.inner_text("#sk-original-text") == "You <b>never</b> get anything right."

    page.fill("textarea[name=self_kindness]", "I am learning. Mistakes are how people learn.")
    page.click("label[for=id_intensity_after_4]")
    page.click("#reframe button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=ARTIFACTS / "tracking-2-reframed-375.png", full_page=True)
    entry = InnerCriticEntry.objects.get()
    assert (entry.intensity, entry.intensity_after) == (8, 4)
    assert entry.reframed_at is not None
    # The page is usable at 375 px: nothing wider than the viewport.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    InnerCriticEntry.objects.bulk_create(
        InnerCriticEntry(
            client=world.client_record,
            critic_text="earlier",
            intensity=6 - n % 4,
            occurred_at=timezone.now() - dt.timedelta(days=n, hours=n % 9),
            pattern=("self_judgment", "isolation", "over_identification")[n % 3],
        )
        for n in range(1, 40)
    )
    page.goto(f"{live_server.url}/tracking/me/charts/")
    page.wait_for_selector(".sk-chart.sk-chart--drawn svg", timeout=15_000)
    page.wait_for_load_state("networkidle")
    drawn = page.locator(".sk-chart.sk-chart--drawn").count()
    page.screenshot(path=ARTIFACTS / "tracking-3-charts-375.png", full_page=True)
    assert drawn >= 4
    assert page.locator(".sk-chart--failed").count() == 0
    assert csp_violations(page) == []
    assert page.problems == []
