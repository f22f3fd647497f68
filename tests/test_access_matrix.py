"""Walk every URL pattern of the URLconf and check each persona against its declared rule.

A URL with no declared rule fails this test, so no page can be added without deciding who may
see it. Every answer is also checked for what it must never be: a server error, or a page a
browser or proxy may keep (every response to a logged-in persona, and every one-time link page
under /t/, says `Cache-Control: no-store`), or a page whose tab order skips the skip link (a
positive tabindex). The Django admin's many patterns sit behind one
gate (superusers only), checked through its index and one model page.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.access_rules import RULES
from tests.access_rules.base import LOGIN, STAFF_PERSONAS
from tests.conftest import ACCESS_MATRIX_REPORT, PERSONAS


def url_names(resolver=None, namespace: str = "") -> set[str]:
    resolver = resolver or get_resolver()
    names = set()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= url_names(entry, inner)
        elif isinstance(entry, URLPattern):
            if entry.name is None:
                if namespace.startswith("admin:"):
                    continue  # the admin's unnamed redirects sit behind the same gate
                raise AssertionError(f"URL pattern {entry.pattern} has no name; name it")
            names.add(f"{namespace}{entry.name}")
    return names


def admin_patterns(names: set[str]) -> set[str]:
    return {name for name in names if name.startswith("admin:")}


def test_every_url_pattern_has_a_declared_access_rule():
    names = url_names()
    undeclared = sorted(names - admin_patterns(names) - RULES.keys())
    assert not undeclared, (
        f"URL patterns without an access rule in tests/access_rules: {undeclared}"
    )
    stale = sorted(RULES.keys() - names)
    assert not stale, f"Access rules for URL names that no longer exist: {stale}"


def test_the_admin_gate_admits_superusers_only(world):
    from django.contrib import admin
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    for persona in PERSONAS[:-1]:
        request.user = world.user(persona)
        assert not admin.site.has_permission(request), persona
    world.clinic_admin.is_superuser = True
    request.user = world.clinic_admin
    assert admin.site.has_permission(request)


POSITIVE_TABINDEX = re.compile(r'tabindex="?[1-9]')


def positive_tabindex(response) -> bool:
    """A page that moves controls ahead of the skip link and the navigation in the tab order
    (e.g. "Finish and send" first, so Tab then Enter sends an empty questionnaire)."""
    html = response.get("Content-Type", "").startswith("text/html")
    return html and bool(POSITIVE_TABINDEX.search(response.content.decode()))


def cacheable_client_data(persona: str, url: str, response) -> bool:
    """A response a browser or proxy might keep although it may carry client data."""
    private = persona != "anonymous" or url.startswith("/t/")
    return private and "no-store" not in response.get("Cache-Control", "")


ENROL = "enrol"  # redirect to the second-factor enrolment page


def walk(world, expected_for) -> tuple[int, list[str]]:
    """Every URL for every persona; `expected_for(rule, persona)` says what each should get."""
    cases = 0
    unexpected = []
    checked = [*sorted(RULES), "admin:clinic_client_changelist"]
    for name in checked:
        rule = RULES.get(name, RULES["admin:index"])
        url = reverse(name, kwargs=rule.kwargs(world))
        for persona in PERSONAS:
            http = world.browser(persona)
            send = http.post if rule.method == "POST" else http.get
            response = send(url, rule.data(world))
            expected = expected_for(rule, persona)
            cases += 1
            if expected in (LOGIN, ENROL):
                target = reverse("login" if expected == LOGIN else "account:two_factor_enrol")
                ok = response.status_code == 302 and response["Location"].startswith(target)
            else:
                ok = response.status_code == expected
            if not ok:
                unexpected.append(
                    f"{name} as {persona}: {response.status_code} "
                    f"{response.get('Location', '')}, expected {expected}"
                )
            if response.status_code >= 500:
                unexpected.append(f"{name} as {persona}: server error {response.status_code}")
            if not getattr(response, "streaming", False) and positive_tabindex(response):
                unexpected.append(f"{name} as {persona}: a positive tabindex")
            if cacheable_client_data(persona, url, response):
                unexpected.append(
                    f"{name} as {persona}: Cache-Control {response.get('Cache-Control')!r}, "
                    "expected no-store"
                )
    return cases, unexpected


@pytest.mark.django_db
def test_each_persona_gets_exactly_the_declared_response_on_every_url(world):
    cases, unexpected = walk(world, lambda rule, persona: rule.expect[persona])
    ACCESS_MATRIX_REPORT.update(cases=cases, urls=len(url_names()), unexpected=len(unexpected))
    assert not unexpected, "\n".join(unexpected)


@pytest.mark.django_db
def test_staff_who_owe_a_second_factor_are_sent_to_enrol_from_every_url(world):
    """Both clinics require two-factor sign-in and no staff persona has a second factor: after
    the password, every URL but the steps themselves sends them to enrolment. Clients and
    anonymous visitors get exactly what they get without the requirement."""
    for clinic in (world.clinic, world.other_clinic):
        clinic.two_factor_required = True
        clinic.save(update_fields=["two_factor_required"])

    def expected(rule, persona):
        if persona in STAFF_PERSONAS and not rule.open_before_second_factor:
            return ENROL
        return rule.expect[persona]

    cases, unexpected = walk(world, expected)
    ACCESS_MATRIX_REPORT.update(second_factor_cases=cases)
    assert not unexpected, "\n".join(unexpected)
