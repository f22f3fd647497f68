"""Take the README's screenshots (docs/*.png) from a running demo.

    make run                                   # in one terminal: the seeded demo
    .venv/bin/python docs/screenshots.py       # in another (Debian's Chromium, headless)

Pass the demo's address if it is not http://127.0.0.1:8000. Look at every picture before
committing it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).resolve().parent
PASSWORD = "selfkind-demo"  # noqa: S105 - the demo's published password
DESKTOP = {"width": 1280, "height": 900}
TALL = {"width": 1280, "height": 1250}
PHONE = {"width": 375, "height": 812}
# (file, login, viewport, path, element to scroll to the top or ""): what the README shows.
SHOTS = [
    ("dashboard.png", "casey", DESKTOP, "/dashboard/", ""),
    ("cohort.png", "casey", TALL, "/dashboard/programmes/{spring}/", ""),
    ("capture-phone.png", "sam", PHONE, "/tracking/me/", ""),
    ("progress-phone.png", "sam", PHONE, "/tracking/me/charts/", "#sk-chart-scs-trend-title"),
]


# Every chart drawn, except those folded in a closed <details> (drawn when opened).
DRAWN = (
    "() => Array.from(document.querySelectorAll('.sk-chart[data-figure]:not(.sk-chart--drawn)'))"
    ".every((chart) => chart.closest('details:not([open])'))"
)


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def spring_programme(page, base: str) -> str:
    page.goto(f"{base}/dashboard/programmes/")
    href = page.get_attribute("a:has-text('spring')", "href") or ""
    return href.rstrip("/").rsplit("/", 1)[-1]


def main(base: str = "http://127.0.0.1:8000") -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless=new", "--no-sandbox"]
        )
        ids = {}
        for name, username, viewport, path, anchor in SHOTS:
            context = browser.new_context(viewport=viewport, device_scale_factor=1)
            page = context.new_page()
            log_in(page, base, username)
            if "{spring}" in path and "spring" not in ids:
                ids["spring"] = spring_programme(page, base)
            page.goto(base + path.format(**ids))
            page.wait_for_load_state("networkidle")
            page.wait_for_function(DRAWN)
            if anchor:
                page.evaluate(
                    "(s) => window.scrollTo(0, window.scrollY - 8"
                    " + document.querySelector(s).getBoundingClientRect().top)",
                    anchor,
                )
                page.wait_for_timeout(300)
            page.screenshot(path=DOCS / name)
            print(DOCS / name)
            context.close()
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:2])
