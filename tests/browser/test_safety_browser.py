"""In Debian's Chromium at phone size: a client marks a practice as too much and asks to be
contacted, with the crisis link in view on every screen without scrolling; their clinician's
dashboard then shows the safety flag first."""

from __future__ import annotations

import datetime as dt

from clinic.models import CrisisContact, SafetySignal
from tests.browser.harness import (
    ARTIFACTS,
    BROWSER_TEST,
    DESKTOP,
    PHONE,
    chromium_page,
    csp_violations,
    login,
)
from tests.dashboard.helpers import log_entry
from tests.factories import make_client

pytestmark = BROWSER_TEST


def crisis_link_in_view(page) -> bool:
    """The crisis link is visible and wholly inside the first screen (no scrolling)."""
    link = page.locator("a.sk-crisis-link")
    if link.count() != 1 or not link.is_visible():
        return False
    box = link.bounding_box()
    viewport = page.viewport_size
    return box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]


def test_a_client_says_a_practice_was_too_much_and_the_clinician_sees_it_first(world, live_server):
    CrisisContact.objects.create(
        organisation=world.clinic, name="Samaritans", phone="116 123", hours="24 hours"
    )
    # Another client of alex with lesser flags: stopped logging (and overdue, as every client
    # without a questionnaire since intake).
    quiet = make_client(world.clinic, world.clinician, code="RC-002Q")
    for n in (40, 35, 30):
        log_entry(quiet, world.clinic.today() - dt.timedelta(days=n))

    with chromium_page(PHONE) as page:
        login(page, live_server, "sam")
        page.goto(f"{live_server.url}/tracking/me/practice/")
        assert crisis_link_in_view(page)
        page.select_option("select[name=practice_type]", "loving_kindness")
        page.fill("input[name=minutes]", "15")
        # The 0-10 ratings are tap scales (radio buttons shown as buttons): tap the labels.
        page.click("label[for=id_distress_before_4]")  # 3 (the first option is "not rated")
        page.click("label[for=id_distress_after_8]")  # 7
        page.click("form button[type=submit]:has-text('Save')")
        page.wait_for_load_state("networkidle")
        assert "Your distress went from 3 to 7" in page.content()
        assert crisis_link_in_view(page)
        page.screenshot(path=ARTIFACTS / "safety-practice-note-phone.png", full_page=True)

        page.click("text=Tell my clinician and ask them to contact me")
        page.wait_for_load_state("networkidle")
        assert page.title().startswith("Something is hard")
        assert "would like them to contact you" in page.content()
        assert crisis_link_in_view(page)
        page.screenshot(path=ARTIFACTS / "safety-something-hard-phone.png", full_page=True)

        page.click("a.sk-crisis-link")  # one tap, no JavaScript needed
        page.wait_for_load_state("networkidle")
        assert "Selfkind is not monitored around the clock" in page.content()
        assert page.locator("a[href='tel:116123']").is_visible()
        page.screenshot(path=ARTIFACTS / "safety-help-phone.png", full_page=True)
        assert page.problems == []
        assert csp_violations(page) == []

    signal = SafetySignal.objects.get(client=world.client_record)
    assert signal.asked_for_contact and signal.source == "practice"

    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        with chromium_page(viewport) as page:
            login(page, live_server, "alex")
            assert page.locator(".sk-safety-panel").is_visible()
            first_row = page.locator("tbody tr").first
            assert "RC-001" in first_row.inner_text()
            assert first_row.locator(".sk-flag").first.inner_text().strip() == "Safety"
            assert "RC-002Q" in page.locator("tbody tr").nth(1).inner_text()
            page.screenshot(path=ARTIFACTS / f"safety-dashboard-{name}.png", full_page=True)
            if name == "desktop":
                page.click(".sk-safety-panel a")
                page.wait_for_load_state("networkidle")
                page.check("input[value=contacted]")
                page.fill("textarea[name=note]", "Called Sam; we meet on Thursday.")
                page.screenshot(path=ARTIFACTS / "safety-acknowledge-desktop.png", full_page=True)
                page.click("button:has-text('Acknowledge')")
                page.wait_for_load_state("networkidle")
                assert "Safety flag acknowledged" in page.content()
            assert page.problems == []
            assert csp_violations(page) == []

    signal.refresh_from_db()
    assert (signal.action, signal.acknowledged_by) == ("contacted", world.clinician)
