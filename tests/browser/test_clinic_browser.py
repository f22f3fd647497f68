"""Headless Chromium: a clinician logs in, filters the caseload and opens a client record, on a
desktop and on a phone, with no console error and no Content-Security-Policy violation."""

from __future__ import annotations

import pytest

from clinic.models import ClientStatus
from tests.browser.harness import (
    ARTIFACTS,
    BROWSER_TEST,
    DESKTOP,
    PHONE,
    chromium_page,
    csp_violations,
    login,
)
from tests.factories import builtin_tag, make_client

pytestmark = BROWSER_TEST


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_a_clinician_finds_and_opens_a_client(world, live_server, name, viewport):
    for n in range(3):
        make_client(world.clinic, world.clinician, code=f"RC-10{n}", tags=[builtin_tag("Shame")])
    make_client(world.clinic, world.clinician, code="RC-200", status=ClientStatus.DISCHARGED)

    with chromium_page(viewport) as page:
        login(page, live_server, "alex")
        assert page.url.endswith("/dashboard/")  # staff land on their dashboard
        assert page.locator("tbody tr").count() == 4  # active clients only, none of blair's
        page.goto(f"{live_server.url}/clients/")
        assert page.locator("tbody tr").count() == 4  # open clients only, none of blair's
        page.fill("input[name=q]", "rc-10")
        page.click("form[role=search] button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert page.locator("tbody tr").count() == 3
        page.screenshot(path=ARTIFACTS / f"clinic-caseload-{name}.png", full_page=True)

        page.click("text=RC-101")
        page.wait_for_load_state("networkidle")
        assert "RC-101" in page.title()
        page.screenshot(path=ARTIFACTS / f"clinic-client-{name}.png", full_page=True)

        page.goto(f"{live_server.url}/clients/{world.other_client_record.pk}/")
        assert "Page not found" in page.content()  # blair's client: 404, no hint

        assert csp_violations(page) == []
        # The deliberate 404 above is the only console message.
        assert [p for p in page.problems if "404" not in p] == []
