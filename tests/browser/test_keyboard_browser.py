"""Keyboard only, in Debian's Chromium: a client logs an entry on a phone with Tab, Space and
the arrow keys; the questionnaire's first Tab stop is the skip link, never "Finish and send";
every 0-10 tap target is at least 44 px square."""

from __future__ import annotations

import pytest

from tests.browser.harness import ARTIFACTS, BROWSER_TEST, PHONE, chromium_page, login
from tracking.models import InnerCriticEntry

pytestmark = BROWSER_TEST


@pytest.fixture
def page():
    with chromium_page(PHONE) as page:
        yield page


def tab_to(page, selector: str, limit: int = 40) -> int:
    """Press Tab until the focused element matches `selector`; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return presses
    raise AssertionError(f"{selector} not reached with {limit} presses of Tab")


def test_a_client_logs_an_entry_with_the_keyboard_only(world, live_server, page):
    login(page, live_server, "sam")
    page.goto(f"{live_server.url}/tracking/me/")
    tab_to(page, "textarea[name=critic_text]")
    page.keyboard.type("You always get this wrong.")
    page.keyboard.press("Tab")  # next: keep the words private, right beside them
    assert page.evaluate("document.activeElement.name") == "is_private"
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # the 0-10 scale: arrow keys choose within it
    assert page.evaluate("document.activeElement.name") == "intensity"
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    assert page.is_checked("#id_intensity_6")
    boxes = [page.locator(f"label[for=id_intensity_{n}]").bounding_box() for n in range(11)]
    assert all(box["width"] >= 44 and box["height"] >= 44 for box in boxes), boxes
    page.screenshot(path=ARTIFACTS / "keyboard-capture-375.png", full_page=True)
    tab_to(page, "form.sk-capture button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    entry = InnerCriticEntry.objects.get()
    assert (entry.critic_text, entry.intensity, entry.is_private) == (
        "You always get this wrong.",
        6,
        True,
    )
    assert "Saved." in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_questionnaires_first_tab_stop_is_the_skip_link_not_finish_and_send(
    world, live_server, page
):
    login(page, live_server, "sam")
    page.goto(f"{live_server.url}/assessments/me/complete/scs/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    # Enter here skips to the content; nothing is sent.
    page.keyboard.press("Enter")
    assert "/assessments/me/complete/scs/" in page.url
    from assessments.models import Administration

    assert not Administration.objects.exists()
