"""axe-core on every page, for every persona that may open it, at desktop and phone size.

The pages are the access matrix's (tests/access_rules): every GET pattern answered with an HTML
page (200) to a persona, plus the 403 and 404 pages. A scrollable table region is focusable
(tabindex="0") so that a keyboard can scroll it on a phone. The world has data enough to draw every
chart and list. No page may have a serious or critical WCAG 2.1 A/AA violation. One browser;
each persona's session is a cookie copied from Django's test client (no login form per page).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from clinic.models import Programme
from tests.access_rules import RULES
from tests.browser.harness import (
    ARGS,
    BROWSER_TEST,
    CHROMIUM,
    CSP_LISTENER,
    axe_violations,
    wait_for_charts,
)
from tests.conftest import PERSONAS
from tests.dashboard.helpers import configure_sd, give_scs, log_entry, practise

pytestmark = BROWSER_TEST

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 812}}
# Patterns that answer with a file, not a page.
DOWNLOADS = {
    "assessments:export_csv",
    "assessments:export_cohort_csv",
    "assessments:fhir_export",
    "dashboard:export_csv",
    "dashboard:cohort_csv",
    "tracking:my_export_csv",
    "tracking:my_export_json",
}


def a_world_with_data(world) -> None:
    """Scores, entries (one private), practice and a programme: every chart has something to
    draw, every table rows to show."""
    today = world.clinic.today()
    configure_sd(world.clinic)
    for client in (world.client_record, world.other_client_record):
        give_scs(client, today - dt.timedelta(days=70), 3, 3)
        give_scs(client, today - dt.timedelta(days=35), 3, 2)
        give_scs(client, today - dt.timedelta(days=3), 4, 2)
        for n in range(15):
            log_entry(client, today - dt.timedelta(days=3 * n), 3 + n % 6, is_private=n == 4)
            practise(client, today - dt.timedelta(days=2 * n), 10 + n)
    programme, _ = Programme.objects.get_or_create(
        organisation=world.clinic,
        name="MSC 8-week course",
        defaults={"starts_on": today - dt.timedelta(days=60), "ends_on": today - dt.timedelta(7)},
    )
    programme.clients.add(world.client_record, world.other_client_record)


def pages(world) -> list[tuple[str, str, str]]:
    """(name, persona, url) for every HTML page a persona may open, then a 403 and a 404."""
    found = []
    for name, rule in sorted(RULES.items()):
        if rule.method != "GET" or name in DOWNLOADS:
            continue
        readers = [p for p in PERSONAS if rule.expect[p] == 200]
        if readers:
            url = reverse(name, kwargs=rule.kwargs(world))
            found += [(name, persona, url) for persona in readers]
    found.append(("403 page", "client", reverse("dashboard:home")))
    other = reverse("clinic:client_detail", kwargs={"client_id": world.other_clinic_record.pk})
    found.append(("404 page", "clinician", other))
    return found


def test_no_page_has_a_serious_or_critical_accessibility_violation(world, live_server):
    a_world_with_data(world)
    cases = pages(world)
    cookies = {
        persona: world.browser(persona).cookies.get("sessionid")
        for persona in PERSONAS
        if persona != "anonymous"
    }
    sync_api = pytest.importorskip("playwright.sync_api")
    problems: list[str] = []
    checked = 0
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for size, viewport in VIEWPORTS.items():
                # One context per size (its cache keeps Plotly between pages); each persona is
                # a session cookie.
                context = browser.new_context(viewport=viewport)
                page = context.new_page()
                page.add_init_script(CSP_LISTENER)
                for persona in PERSONAS:
                    context.clear_cookies()
                    if cookies.get(persona) is not None:
                        context.add_cookies(
                            [
                                {
                                    "name": "sessionid",
                                    "value": cookies[persona].value,
                                    "url": live_server.url,
                                }
                            ]
                        )
                    for name, who, url in cases:
                        if who != persona:
                            continue
                        response = page.goto(live_server.url + url)
                        if "text/html" not in response.headers.get("content-type", ""):
                            continue  # e.g. the benchmarks' empty floor page
                        wait_for_charts(page)
                        checked += 1
                        problems += [
                            f"{name} as {persona} ({size}): {line}" for line in axe_violations(page)
                        ]
                context.close()
        finally:
            browser.close()
            from django.db import connections

            connections.close_all()
    assert checked >= 2 * 100, checked  # every page of every persona at both sizes
    assert not problems, "\n".join(problems)
