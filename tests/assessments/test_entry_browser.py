"""Headless Chromium: a counselor enters a paper SCS by keyboard only (one digit per item, the
cursor moves on by itself), sees the live subscale preview, saves with Enter, and the results
page draws its chart with no console error and no Content-Security-Policy violation.

Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import time

import pytest

from assessments.models import Administration
from assessments.scoring import score_response
from tests.browser.harness import (
    ARTIFACTS,
    BROWSER_TEST,
    DESKTOP,
    chromium_page,
    csp_violations,
    login,
)

pytestmark = BROWSER_TEST

# A paper SCS: item n's answer (26 digits typed in one go).
DIGITS = "24343432334343434342334433"


@pytest.fixture
def page():
    with chromium_page(DESKTOP) as page:
        yield page


def test_a_counselor_enters_a_paper_scs_by_keyboard_only(world, live_server, page):
    login(page, live_server, "alex")
    page.goto(f"{live_server.url}/assessments/clients/{world.client_record.pk}/enter/scs/")

    # The cursor starts in item 1 (autofocus): no Tab, no mouse, the cursor moves on by itself.
    assert page.evaluate("document.activeElement.name") == "item_1"
    started = time.perf_counter()
    page.keyboard.type(DIGITS, delay=60)
    typed = time.perf_counter() - started
    assert page.evaluate("document.activeElement.name") == "item_26"
    # The live preview agrees with the server's scorer on every subscale.
    expected = score_response("scs", [int(d) for d in DIGITS])
    for code, subscale in expected.subscales.items():
        cell = page.inner_text(f'#sk-preview tr[data-subscale="{code}"] td:last-child')
        assert cell == f"{subscale.score:.2f}", code
    page.screenshot(path=ARTIFACTS / "assessments-entry.png", full_page=True)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")

    administration = Administration.objects.get()
    answers = administration.answers_with([])
    assert "".join(str(answers[n]) for n in range(1, 27)) == DIGITS
    assert f"/assessments/{administration.pk}/" in page.url
    page.wait_for_selector(".sk-chart.sk-chart--drawn", timeout=15_000)
    page.screenshot(path=ARTIFACTS / "assessments-results.png", full_page=True)
    assert csp_violations(page) == []
    assert page.problems == []
    assert typed < 60, f"typing 26 items took {typed:.1f}s"


def test_a_client_completes_an_scs_by_one_time_link_on_a_phone(world, live_server, page):
    from assessments.instruments import get_instrument
    from assessments.services import one_time_link_create

    _, token = one_time_link_create(
        client=world.client_record, instrument=get_instrument("scs"), created_by=world.clinician
    )
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}/t/a/{token}/")
    for number in range(1, 14):
        page.click(f"label[for=id_item_{number}_{1 + number % 5}]")
    with page.expect_navigation():
        page.click("button[name=save]")
    assert page.is_checked("#id_item_13_4")  # resumed with the saved answers
    for number in range(14, 27):
        page.click(f"label[for=id_item_{number}_3]")
    page.screenshot(path=ARTIFACTS / "assessments-link-375.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    with page.expect_navigation():
        page.click("button[name=finish]")
    assert "Thank you" in page.inner_text("h1")
    administration = Administration.objects.get()
    assert administration.status == "final" and administration.mode == "one_time_link"
    assert administration.answers["1"] == 2 and administration.answers["26"] == 3
    assert csp_violations(page) == []
    assert page.problems == []
