"""The dashboard table's rows, written in Python.

Written as a template loop, the 25 rows of a dashboard page were most of its template's time:
some 40 variables, filters and tags a row, each a few microseconds of template machinery (6 of
the clinician dashboard's 36 ms in process at full scale). This tag writes the same markup,
byte for byte, with the same filters (clinic.templatetags.markup's `day`, `day_month` and
`signed`; Django's `floatformat` and `slugify`) and every value escaped as the template did.
The row's layout is here; the rest of the page stays in dashboard/home.html.

Links: each URL pattern is reversed once per page and filled in with each row's id (`_Links`):
reverse() takes some 12 microseconds, and a clinic admin's page wanted about 100 of them.
"""

from django import template
from django.template.defaultfilters import floatformat, slugify
from django.urls import reverse
from django.utils.html import conditional_escape as esc
from django.utils.safestring import mark_safe

from clinic.templatetags.markup import day, day_month, signed

register = template.Library()

SPARK = (
    '<svg class="sk-spark d-block" width="80" height="20" viewBox="-2 -2 84 24" '
    'aria-hidden="true" focusable="false"><polyline points="{points}" fill="none" '
    'stroke="currentColor" stroke-width="1.5"/></svg>'
)
SYMPTOM_TITLE = (
    "change since the first: a change of 6 (PHQ-9) or 4 (GAD-7) points or more is reliable"
)
DASH = '<span class="small text-muted">—</span>'
NONE = '<span class="text-muted small">none</span>'


# An id no row has: the text reverse() writes in its place is where a row's id goes.
_SLOT = 9_876_543_210


class _Links:
    """URLs of the row's pages by pattern name, reversed once (per page: the tag keeps one in
    the template's render context)."""

    def __init__(self):
        self.patterns: dict[str, tuple[str, str]] = {}

    def __call__(self, name: str, pk: int) -> str:
        if name not in self.patterns:
            before, _, after = reverse(name, args=[_SLOT]).partition(str(_SLOT))
            self.patterns[name] = (before, after)
        before, after = self.patterns[name]
        return f"{before}{int(pk)}{after}"


def _client_cell(row, link: _Links) -> str:
    client = row.client
    brief = link("dashboard:brief", client.pk)
    return (
        f'<td><a class="text-nowrap" href="{brief}" title="Session brief">{esc(client.code)}</a>'
        f'<br><span class="small text-muted">{esc(client.display_name)}</span></td>'
    )


def _clinician_cell(row) -> str:
    clinician = row.client.primary_clinician
    return f'<td class="small">{esc(clinician.label if clinician else "")}</td>'


def _score_cell(s, sparkline: str) -> str:
    if s is None or s.latest_total is None:
        return '<td><span class="text-muted small">no SCS yet</span></td>'
    spark = SPARK.format(points=esc(sparkline)) if sparkline else ""
    return (
        f'<td><span class="fw-semibold">{esc(floatformat(s.latest_total, 2))}</span> '
        f'<span class="small text-muted">{esc(s.latest_band)}</span>\n'
        f"          {spark}\n        </td>"
    )


def _change_cell(s, verdict: str, sd_available: bool) -> str:
    if s is not None and s.total_change is not None:
        if sd_available:
            badge = (
                f'<span class="badge sk-verdict sk-verdict-{esc(slugify(verdict))}">'
                f"{esc(verdict)}</span>"
            )
        else:
            badge = (
                '<a class="badge sk-verdict text-decoration-none" href="#sk-no-verdict">'
                f"{esc(verdict)}: why?</a>"
            )
        baseline = floatformat(s.baseline_values.get("total", ""), 2)
        return (
            f"<td>{esc(signed(s.total_change, 2))} {badge}<br>"
            f'<span class="small text-muted">from {esc(baseline)} ({esc(day(s.baseline_on))})'
            "</span>\n          </td>"
        )
    if s is not None and s.scored_count == 1:
        return '<td><span class="small text-muted">baseline only</span></td>'
    return f"<td>{DASH}</td>"


def _symptoms_cell(symptoms: dict) -> str:
    parts = []
    for m in symptoms.values():
        total = floatformat(m.total, "-1") or "not scored"
        badge = ""
        if m.verdict:
            badge = (
                f' <span class="badge sk-verdict sk-verdict-{esc(slugify(m.verdict))}" '
                f'title="{SYMPTOM_TITLE}">{esc(signed(m.change, 0))} {esc(m.verdict)}</span>'
            )
        parts.append(
            '<div class="small"><span class="text-nowrap"><span class="fw-semibold">'
            f"{esc(m.short_name)} {esc(total)}</span> {esc(m.band)}</span>{badge}</div>"
        )
    return f"<td>{''.join(parts) or DASH}</td>"


def _dates_cell(row, s, link: _Links) -> str:
    client = row.client
    if s is not None and s.latest_on:
        tone = "text-danger fw-semibold" if row.due else "text-muted"
        if row.next_due_on:
            due = f"{'due since ' if row.due else 'next '}{esc(day_month(row.next_due_on))}"
        else:
            due = "schedule paused"
        dates = (
            f"{esc(day(s.latest_on))}<br>\n"
            f'          <span class="small {tone}">{due}</span>\n        '
        )
    else:
        dates = (
            '<span class="small fw-semibold">baseline due</span><br>'
            f'<span class="small text-muted">intake {esc(day(client.intake_date))}</span>'
        )
    missing = ""
    if row.not_delivered:
        where = link("assessments:client_assessments", client.pk)
        missing = (
            f'<br><a class="small text-danger" href="{where}#scheduled">not delivered'
            f'<span class="visually-hidden">: {esc(row.not_delivered)}</span></a>'
        )
    return f'<td class="text-nowrap">{dates}\n          {missing}</td>'


def _activity_cell(activity) -> str:
    last = activity.last_activity_on if activity is not None else None
    if last:
        return f'<td class="small">{esc(day(last))}</td>'
    return '<td class="small"><span class="text-muted">never</span></td>'


def _flags_cell(row, link: _Links) -> str:
    links = []
    for flag in row.flags:
        if flag.is_signal:
            href = link("clinic:safety_signal", flag.episode)
        else:
            href = link("dashboard:client_flags", row.client.pk)
        acked = flag.acknowledged
        links.append(
            f'<a class="badge text-decoration-none sk-flag sk-flag-{esc(flag.kind)}'
            f'{" sk-flag-acked" if acked else ""}" href="{href}" '
            f'title="{esc(flag.label)}: {esc(flag.detail)}{" (acknowledged)" if acked else ""}">'
            f"{esc(flag.label)}{' ✓' if acked else ''}</a> "
        )
    return f"<td>{''.join(links) or NONE}</td>"


@register.simple_tag(takes_context=True)
def dashboard_row(context, row) -> str:
    """One client's `<tr>` (selectors.DashboardRow), as dashboard/home.html's loop wrote it."""
    s = row.summary
    total_sd = context.get("total_sd")
    link = context.render_context.setdefault("dashboard_row_links", _Links())
    admin_cell = _clinician_cell(row) if context["user"].is_clinic_admin else ""
    return mark_safe(  # noqa: S308 - every value is escaped above
        "\n    <tr>\n"
        f"      {_client_cell(row, link)}\n"
        f"      {admin_cell}\n"
        f"      {_score_cell(s, row.sparkline)}\n"
        f"      {_change_cell(s, row.verdict, bool(total_sd and total_sd.available))}\n"
        f"      {_symptoms_cell(row.symptoms)}\n"
        f"      {_dates_cell(row, s, link)}\n"
        f'      <td class="text-end">{row.entries_recent}</td>\n'
        f'      <td class="text-end">{row.minutes_recent}</td>\n'
        f"      {_activity_cell(row.activity)}\n"
        f"      {_flags_cell(row, link)}\n"
        "    </tr>\n  "
    )
