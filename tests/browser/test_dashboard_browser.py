"""In Debian's Chromium: the dashboard at desktop and phone width, and the session brief with
its charts drawn, no console error, no CSP violation, and a clean printed page."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.harness import (
    ARTIFACTS,
    BROWSER_TEST,
    DESKTOP,
    PHONE,
    chromium_page,
    csp_violations,
    login,
)
from tests.dashboard.helpers import configure_sd, give_scs, log_entry, practise

pytestmark = BROWSER_TEST


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_a_clinician_reads_the_dashboard_and_prints_a_session_brief(
    world, live_server, name, viewport
):
    client = world.client_record
    today = world.clinic.today()
    configure_sd(world.clinic)
    give_scs(client, today - dt.timedelta(days=70), 3, 3)
    give_scs(client, today - dt.timedelta(days=35), 3, 2)
    give_scs(client, today - dt.timedelta(days=3), 2, 4)
    for n in range(20):
        log_entry(client, today - dt.timedelta(days=3 * n), 4 + n % 4)
        practise(client, today - dt.timedelta(days=3 * n), 10)

    with chromium_page(viewport) as page:
        login(page, live_server, "alex")
        assert page.locator("tbody tr").count() == 1
        assert page.locator(".sk-flag-deterioration").count() >= 1
        assert page.locator("svg.sk-spark").count() == 1
        page.screenshot(path=ARTIFACTS / f"dashboard-{name}.png", full_page=True)

        page.click("text=RC-001")
        page.wait_for_selector(".sk-chart.sk-chart--drawn svg", timeout=15_000)
        assert "Session brief" in page.title()
        assert page.locator(".sk-chart--failed").count() == 0
        page.screenshot(path=ARTIFACTS / f"brief-{name}.png", full_page=True)
        page.emulate_media(media="print")
        assert not page.locator("nav.navbar").is_visible()
        page.screenshot(path=ARTIFACTS / f"brief-print-{name}.png", full_page=True)
        assert page.problems == []
        assert csp_violations(page) == []
