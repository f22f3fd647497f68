"""dashboard.templatetags.dashboard_table writes a dashboard row as the template loop it replaced
wrote it, byte for byte: the loop is kept beside this test (dashboard_row_oracle.html) as the
oracle, and both render the same rows, in every state a row can be in. To change the row's
markup, change both: the oracle is its readable form."""

from __future__ import annotations

import datetime as dt
import pathlib

import pytest
from django.template import Context, Engine

from assessments.instruments import get_instrument
from assessments.models import AssessmentSchedule
from assessments.services import administration_create
from dashboard import selectors
from dashboard.models import FlagState
from tests.dashboard.helpers import configure_sd, give_scs, log_entry
from tests.dashboard.test_flags_on_data import say_difficult
from tests.factories import make_client

pytestmark = pytest.mark.django_db

# dashboard/home.html's row as the template loop wrote it before the tag (commit b789dba).
ORACLE = (pathlib.Path(__file__).parent / "dashboard_row_oracle.html").read_text()


def give(client, code, value, on, actor):
    instrument = get_instrument(code)
    administration_create(
        client=client,
        instrument=instrument,
        answers=dict.fromkeys(range(1, instrument.item_count + 1), value),
        administered_on=on,
        mode="paper",
        entered_by=actor,
    )


def rows_in_every_state(world):
    today = world.clinic.today()
    ago = lambda n: today - dt.timedelta(days=n)  # noqa: E731
    scored = world.client_record  # change since baseline, PHQ-9 and GAD-7, a safety flag
    give_scs(scored, ago(60), 4, 2)
    give_scs(scored, ago(10), 2, 4)
    give(scored, "phq-9", 2, ago(40), world.clinician)
    give(scored, "phq-9", 1, ago(3), world.clinician)
    give(scored, "gad-7", 1, ago(3), world.clinician)
    say_difficult(world, scored)
    log_entry(scored, ago(1))
    baseline_only = make_client(world.clinic, world.clinician, code="RC-<&>")
    give_scs(baseline_only, ago(400), 3, 3)  # overdue, then acknowledged
    AssessmentSchedule.objects.create(client=baseline_only, every_weeks=None)
    acked = make_client(world.clinic, world.clinician, code="RC-ACK", display_name='Ann "A"')
    give_scs(acked, ago(200), 4, 2)
    give_scs(acked, ago(100), 2, 4)
    summary = acked.score_summaries.get(instrument_code="scs")
    context = selectors.clinic_context(world.clinic.pk)
    due = selectors.client_row(acked, context, today).next_due_on
    FlagState.objects.create(client=acked, ack_deterioration=summary.latest_id, ack_overdue=due)
    # world.other_client_record: nothing scored, nothing logged
    ids = list(
        selectors.dashboard_clients(
            world.clinic_admin, selectors.DashboardFilters(), context, today
        ).values_list("pk", flat=True)
    )
    rows = selectors.dashboard_rows(selectors.clients_in_order(ids, context.rules), context, today)
    return rows, context


@pytest.mark.parametrize("persona", ["clinician", "clinic_admin"])
@pytest.mark.parametrize("with_sd", [True, False])
def test_the_tag_writes_each_row_as_the_template_did(world, persona, with_sd):
    if with_sd:
        configure_sd(world.clinic)
    rows, context = rows_in_every_state(world)
    assert len(rows) == 4
    engine = Engine.get_default()
    oracle = engine.from_string(ORACLE)
    tag = engine.from_string("{% load dashboard_table %}{% dashboard_row row %}")
    total_sd = context.sds.get("total")
    assert bool(total_sd and total_sd.available) == with_sd
    page = []
    for row in rows:
        values = {"row": row, "user": world.user(persona), "total_sd": total_sd}
        page.append(tag.render(Context(values)))
        assert page[-1] == oracle.render(Context(values)), row.client.code
    written = "".join(page)
    for state in (
        "sk-flag-safety",  # a signal's flag links to the signal
        "sk-flag-acked",
        "schedule paused",
        "baseline only",
        "baseline due",
        "PHQ-9 9",
        "RC-&lt;&amp;&gt;",
        "Ann &quot;A&quot;",
        "sk-spark",
        "why?" if not with_sd else "sk-verdict-deteriorated",
    ):
        assert state in written, state
