"""Headless Chromium: a counselor enters a paper SCS by keyboard only (one digit per item, the
cursor moves on by itself), sees the live subscale preview, saves with Enter, and the results
page draws its chart with no console error and no Content-Security-Policy violation.

Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import time
import warnings
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from assessments.models import Administration
from assessments.scoring import score_response

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PLOTLY = "vendor/plotly/plotly.min.js"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists(),
        reason=f"browser tests skipped: no Chromium at {CHROMIUM}",
    ),
]

# A paper SCS: item n's answer (26 digits typed in one go).
DIGITS = "24343432334343434342334433"


@pytest.fixture
def page():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.add_init_script(CSP_LISTENER)
        problems: list[str] = []
        page.on(
            "console",
            lambda m: problems.append(f"{m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.problems = problems
        if finders.find(PLOTLY) is None:
            import plotly

            bundle = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
            warnings.warn(f"static {PLOTLY} is not served; routed from {bundle}", stacklevel=1)
            page.route(
                f"**/static/{PLOTLY}",
                lambda route: route.fulfill(path=bundle, content_type="text/javascript"),
            )
        yield page
        browser.close()


def test_a_counselor_enters_a_paper_scs_by_keyboard_only(world, live_server, page):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "alex")
    page.fill("input[name=password]", "correct horse battery staple")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/assessments/clients/{world.client_record.pk}/enter/scs/")

    started = time.perf_counter()
    page.focus("#id_item_1")
    page.keyboard.type(DIGITS, delay=60)  # no Tab, no mouse: the cursor moves on by itself
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
    assert page.evaluate("window.__cspViolations") == []
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
    assert page.evaluate("window.__cspViolations") == []
    assert page.problems == []
