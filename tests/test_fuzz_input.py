"""A bounded fuzz test: malformed values into every form and every query parameter.

The URLs come from the access-matrix rules (tests/access_rules): each page is opened as a
persona the rule lets in, and every form on it (its fields as rendered) is posted to its
action with hypothesis-generated malformed values: huge, negative and fractional numbers,
empty strings, Unicode controls, invisible and right-to-left characters, far and impossible
dates, wrong types. Every query parameter the page reads (the fields of its GET forms and
the parameters of its links to itself, e.g. week, start, end, since) gets the same
treatment. No response may be a server error, and afterwards every stored row still passes
its model's full_clean (field validators and constraints).

Bounded: FUZZ_EXAMPLES examples per form (default 6, derandomized so CI is repeatable; set
it higher, and FUZZ_RANDOM=1 for new examples each run, for a longer local run). Each
date-like field also gets a fixed list of far and impossible dates, and every other field a
number beyond 64 bits.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.access_rules import RULES

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="FUZZ_RANDOM" not in os.environ,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# Pages not fuzzed: the admin (superusers only), logging in and out, and a forged invitation.
SKIPPED_PAGES = {"admin:index", "login", "logout", "invite_accept", "floor", "home"}
# Forms whose action ends the session or deletes the data the other forms need.
SKIPPED_ACTIONS = ("/logout/", "/delete/")
# Posted last: they may take the client away from the clinician's scope or end their care.
LAST = ("care-team", "discharge", "reactivate", "staff/")
PERSONA_ORDER = ("clinic_admin", "clinician", "client", "anonymous")

NFD = unicodedata.normalize("NFD", "ZOË-01")
NASTY = [
    "",
    " ",
    "0",
    "-1",
    "1.5",
    "99999999999999999999999",
    "-99999999999999999999999",
    "1e308",
    "NaN",
    "inf",
    "0001-01-01",
    "1899-12-31",
    "9999-12-31",
    "10000-01-01",
    "2026-02-30",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "1900-01-01T00:00",
    "\u202e\u200fABC\u202c",
    "ZOE\u200b-01",
    NFD,
    "\x00",
    "\x1b[31m",
    "x" * 3000,
    "<script>alert(1)</script>",
    "=HYPERLINK(1)",
    "[]",
    "{}",
    "true",
    "None",
]
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30
)  # surrogates cannot be sent as UTF-8
MALFORMED = st.one_of(
    st.sampled_from(NASTY),
    TEXT,
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.dates().map(lambda day: day.isoformat()),
)


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)


class FormParser(HTMLParser):
    """Every form of a page: its method, action, and field names with their rendered values;
    and the query parameters of links back to the page itself."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.forms: list[Form] = []
        self.link_params: set[str] = set()
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            action = attrs.get("action") or self.path
            self._form = Form((attrs.get("method") or "get").lower(), action)
            self.forms.append(self._form)
        elif tag == "a" and attrs.get("href", "").startswith("?"):
            self.link_params |= {name for name, _ in parse_qsl(attrs["href"][1:])}
        elif self._form is None or ("name" not in attrs and tag != "option"):
            return
        elif tag == "input" and attrs["name"] != "csrfmiddlewaretoken":
            kind = attrs.get("type", "text")
            if kind == "file":
                self._form.files.add(attrs["name"])
            elif kind not in ("checkbox", "radio", "submit") or "checked" in attrs:
                self._form.fields.setdefault(attrs["name"], []).append(attrs.get("value", ""))
            else:
                self._form.fields.setdefault(attrs["name"], [])
        elif tag == "select":
            self._select = attrs["name"]
            self._form.fields.setdefault(self._select, [])
        elif tag == "option" and self._select and "selected" in attrs:
            self._form.fields[self._select].append(attrs.get("value", ""))
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self._form.fields[self._textarea] = [""]
        elif tag == "button" and attrs.get("type", "submit") == "submit":
            self._form.fields.setdefault(attrs["name"], [attrs.get("value", "")])

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form.fields[self._textarea] = [data]

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def allowed_persona(rule) -> str | None:
    return next((p for p in PERSONA_ORDER if rule.expect[p] in (200, 302)), None)


def pages(world):
    """(persona, path, parsed page) for every GET page of the access rules."""
    for name in sorted(RULES):
        rule = RULES[name]
        persona = allowed_persona(rule)
        if name in SKIPPED_PAGES or rule.method != "GET" or persona is None:
            continue
        path = reverse(name, kwargs=rule.kwargs(world))
        response = world.browser(persona).get(path)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        parser = FormParser(path)
        parser.feed(response.content.decode())
        yield persona, path, parser


def every_row_is_valid() -> list[str]:
    problems = []
    for label in ("clinic", "assessments", "tracking", "dashboard"):
        for model in apps.get_app_config(label).get_models():
            for row in model.objects.all():
                try:
                    row.full_clean()
                except Exception as error:
                    problems.append(f"{model.__name__} {row.pk}: {error}")
    return problems


def fuzz_form(http, form: Form, data) -> None:
    payload = {}
    for name, rendered in form.fields.items():
        payload[name] = data.draw(
            st.one_of(st.just(rendered), MALFORMED.map(lambda v: [v]), st.lists(MALFORMED)),
            label=name,
        )
    for name in form.files:
        content = data.draw(st.binary(max_size=300), label=name)
        payload[name] = SimpleUploadedFile("fuzz.csv", content, content_type="text/csv")
    send = http.post if form.method == "post" else http.get
    response = send(form.action, payload)
    assert response.status_code < 500, (form.action, payload)


FAR_DATES = ["0001-01-01", "1899-12-31", "9999-12-31", "10000-01-01", "2026-02-30"]
DATE_NAMES = ("date", "_on", "_at", "since", "week", "start", "end")


HUGE = "9" * 23  # more than a database integer holds


def sweep(http, form: Form) -> None:
    """Besides the random examples, for certain: each date-like field gets each far date and
    every other field a number beyond 64 bits, the rest keeping their rendered values (so
    that one field is what is tested)."""
    send = http.post if form.method == "post" else http.get
    payloads = []
    for name in form.fields:
        if any(part in name for part in DATE_NAMES):
            suffix = "T00:00" if name.endswith("_at") else ""
            payloads += [{**form.fields, name: f"{day}{suffix}"} for day in FAR_DATES]
        else:
            payloads.append({**form.fields, name: [HUGE]})
    if {"start", "end"} <= set(form.fields):
        payloads.append({**form.fields, "start": "2026-02-01", "end": "2026-01-01"})
    for payload in payloads:
        assert send(form.action, payload).status_code < 500, (form.action, payload)


def fuzz(http, form: Form) -> None:
    sweep(http, form)

    @FUZZ
    @given(st.data())
    def examples(data):
        fuzz_form(http, form, data)

    examples()


@pytest.mark.django_db
def test_malformed_values_in_every_form_and_query_parameter_never_break_a_page(world):
    forms: list[tuple[str, Form]] = []
    query_params: dict[tuple[str, str], set[str]] = {}
    for persona, path, parser in pages(world):
        for form in parser.forms:
            action = urlsplit(form.action).path
            if any(part in action for part in SKIPPED_ACTIONS):
                continue
            if form.method == "get":
                query_params.setdefault((persona, action), set()).update(form.fields)
            elif form.fields or form.files:
                forms.append((persona, form))
        if parser.link_params - {"page", "sort"}:
            query_params.setdefault((persona, path), set()).update(parser.link_params)
    read = {name for names in query_params.values() for name in names}
    assert {"week", "start", "end", "since", "q"} <= read
    assert len(forms) >= 20

    for (persona, path), names in sorted(query_params.items()):
        fuzz(world.browser(persona), Form("get", path, {name: [""] for name in sorted(names)}))

    forms.sort(key=lambda item: any(part in item[1].action for part in LAST))
    seen = set()
    for persona, form in forms:
        key = (persona, form.action, tuple(sorted(form.fields)))
        if key in seen:
            continue
        seen.add(key)
        fuzz(world.browser(persona), form)

    problems = every_row_is_valid()
    assert problems == [], "\n".join(problems)
