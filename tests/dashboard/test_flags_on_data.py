"""Flags fire and clear on crafted data written through the services, read through the
projections by the SQL conditions and by the pure rules, which must agree."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from assessments.services import assessment_schedule_set
from clinic.models import Client
from dashboard import flags, selectors
from dashboard.models import FlagAcknowledgement, FlagSettings
from tests.dashboard.helpers import configure_sd, give_scs, log_entry, practise

pytestmark = pytest.mark.django_db


def open_flags(world, client=None):
    """(kind) of open flags per client code, by the SQL conditions and by the pure rules,
    asserting that the two agree."""
    today = world.clinic.today()
    context = selectors.clinic_context(world.clinic.pk)

    def codes(**filters):
        return set(
            selectors.dashboard_clients(
                world.clinic_admin, selectors.DashboardFilters(**filters), context, today
            ).values_list("code", flat=True)
        )

    clients = list(
        selectors.with_flag_columns(
            selectors.dashboard_clients(
                world.clinic_admin, selectors.DashboardFilters(), context, today
            ),
            context,
            today,
        )
    )
    rows = selectors.dashboard_rows(
        selectors.clients_in_order([c.pk for c in clients], context.rules), context, today
    )
    by_sql = {}
    for c, row in zip(clients, rows, strict=True):
        by_sql[c.code] = sorted(kind for kind in flags.KINDS if getattr(c, f"flag_{kind}"))
        pure = sorted(f.kind for f in row.open_flags)
        assert by_sql[c.code] == pure, c.code
    # The filters by flag say the same as the columns.
    assert codes(flag="open") == {code for code, kinds in by_sql.items() if kinds}
    assert codes(flag="none") == {code for code, kinds in by_sql.items() if not kinds}
    for kind in flags.KINDS:
        assert codes(flag=kind) == {code for code, kinds in by_sql.items() if kind in kinds}
    return by_sql if client is None else by_sql[client.code]


def row_of(world, client):
    return selectors.client_row(
        client, selectors.clinic_context(world.clinic.pk), world.clinic.today()
    )


def days_ago(world, n):
    return world.clinic.today() - dt.timedelta(days=n)


def test_reliable_deterioration_on_the_total_fires_and_clears_with_a_better_score(world):
    configure_sd(world.clinic)  # SD .70, r .93: 0.51 is reliable
    client = world.client_record
    give_scs(client, days_ago(world, 60), 4, 2)  # total 4.0
    give_scs(client, days_ago(world, 10), 3, 3)  # total 3.0: reliably worse
    assert open_flags(world, client) == [flags.DETERIORATION]
    row = row_of(world, client)
    assert row.flags[0].detail.endswith("vs baseline: total")
    assert row.summary.total_change == pytest.approx(-1.0)
    assert row.verdict == "deteriorated"
    give_scs(client, days_ago(world, 1), 4, 2)  # back to 4.0
    assert open_flags(world, client) == []


def test_a_negative_subscale_can_raise_deterioration_unless_the_clinic_turns_it_off(world):
    configure_sd(world.clinic, scale="self_judgment", sd=0.5)
    client = world.client_record
    give_scs(client, days_ago(world, 60), 3, 2)
    give_scs(client, days_ago(world, 5), 4, 4)  # total unchanged (3.5 -> 3.0), self-judgment 2 -> 4
    assert open_flags(world, client) == [flags.DETERIORATION]
    assert "self-judgment" in row_of(world, client).flags[0].detail
    FlagSettings.objects.update_or_create(
        organisation=world.clinic, defaults={"deterioration_subscales": False}
    )
    assert open_flags(world, client) == []


def test_a_client_who_used_to_log_and_stops_for_14_days_is_flagged_until_they_log_again(world):
    client = world.client_record
    for n in (30, 25, 20):
        log_entry(client, days_ago(world, n))
    practise(client, days_ago(world, 14))
    assert flags.QUIET in open_flags(world, client)
    log_entry(client, days_ago(world, 0))
    assert flags.QUIET not in open_flags(world, client)


def test_a_client_who_never_logged_is_not_flagged_as_quiet(world):
    log_entry(world.client_record, days_ago(world, 40))
    assert flags.QUIET not in open_flags(world, world.client_record)


def test_an_overdue_assessment_follows_the_clinic_default_or_the_clients_schedule(world):
    client = world.client_record
    give_scs(client, days_ago(world, 4 * 7 + 8), 3, 3)  # default: every 4 weeks, 7 days grace
    assert open_flags(world, client) == [flags.OVERDUE]
    assessment_schedule_set(actor=world.clinician, client=client, every_weeks=8)
    assert open_flags(world, client) == []
    assessment_schedule_set(actor=world.clinician, client=client, every_weeks=None)  # paused
    assert row_of(world, client).next_due_on is None
    assert open_flags(world, client) == []


def test_a_client_without_any_assessment_is_due_from_intake(world):
    client = world.client_record
    Client.objects.filter(pk=client.pk).update(intake_date=days_ago(world, 60))
    assert flags.OVERDUE in open_flags(world, client)


def test_rising_weekly_intensity_over_four_weeks_fires_and_a_calmer_week_clears_it(world):
    client = world.client_record
    for week, intensity in enumerate((3, 4, 6, 8)):  # windows ending today, oldest first
        log_entry(client, days_ago(world, 7 * (3 - week)), intensity)
    assert flags.RISING in open_flags(world, client)
    # x 0..3, y 3, 4, 6, 8: slope = (-1.5*-2.25 + -0.5*-1.25 + 0.5*0.75 + 1.5*2.75) / 5 = 1.7
    assert row_of(world, client).activity.rising_w4 == pytest.approx(1.7)
    for _ in range(6):
        log_entry(client, days_ago(world, 0), 0)  # this week's mean falls to 8/7
    assert flags.RISING not in open_flags(world, client)


def test_an_acknowledged_flag_is_not_open_and_returns_when_its_data_changes(world):
    client = world.client_record
    for n in (40, 35, 30):
        log_entry(client, days_ago(world, n))
    assert flags.QUIET in open_flags(world, client)
    http = world.browser("clinician")
    episode = days_ago(world, 30).isoformat()
    response = http.post(
        reverse("dashboard:client_flags", kwargs={"client_id": client.pk}),
        {"kind": flags.QUIET, "episode": episode, "note": "Called; on holiday."},
    )
    assert response.status_code == 302
    assert flags.QUIET not in open_flags(world, client)
    log_entry(client, days_ago(world, 20))  # active again, then quiet for 20 days
    assert flags.QUIET in open_flags(world, client)
    assert FlagAcknowledgement.objects.get(client=client).note == "Called; on holiday."


# --- Safety, risk, practice raising distress, and "Needs attention first" ----------------------


def say_difficult(world, client, source_id=1, **extra):
    from clinic.models import SignalKind, SignalSource
    from clinic.safety import safety_signal_raise

    return safety_signal_raise(
        client=client,
        kind=extra.pop("kind", SignalKind.SAFETY),
        source=SignalSource.PRACTICE,
        source_id=source_id,
        actor=client.user,
        **extra,
    )


def rated_practice(client, day, before, after):
    from tests.factories import write_practice

    return write_practice(
        client, practised_on=day, distress_before=before, distress_after=after, minutes=10
    )


def test_a_safety_signal_is_an_open_flag_until_it_is_acknowledged(world):
    from clinic.safety import safety_signal_acknowledge

    client = world.client_record
    signal = say_difficult(world, client, asked_for_contact=True)
    assert flags.SAFETY in open_flags(world, client)
    safety_signal_acknowledge(actor=world.clinician, signal=signal, action="contacted", note="Ok")
    assert flags.SAFETY not in open_flags(world, client)


def test_a_risk_item_answer_is_an_open_flag_of_its_own(world):
    from assessments.instruments import get_instrument
    from assessments.services import administration_create

    answers = {n: (2 if n == 9 else 0) for n in range(1, 10)}
    administration_create(
        client=world.client_record,
        instrument=get_instrument("phq-9"),
        answers=answers,
        administered_on=days_ago(world, 1),
        mode="paper",
        entered_by=world.clinician,
    )
    assert flags.RISK in open_flags(world, world.client_record)


def test_practice_raising_distress_fires_on_two_of_three_and_quiets_when_acknowledged(world):
    client = world.client_record
    rated_practice(client, days_ago(world, 5), 3, 6)
    rated_practice(client, days_ago(world, 4), 5, 4)
    assert flags.DISTRESS not in open_flags(world, client)
    latest = rated_practice(client, days_ago(world, 2), 2, 5)
    assert flags.DISTRESS in open_flags(world, client)
    FlagSettings.objects.update_or_create(
        organisation=world.clinic, defaults={"distress_min_rises": 3}
    )
    assert flags.DISTRESS not in open_flags(world, client)
    FlagSettings.objects.filter(organisation=world.clinic).update(distress_min_rises=2)
    response = world.browser("clinician").post(
        reverse("dashboard:client_flags", kwargs={"client_id": client.pk}),
        {"kind": flags.DISTRESS, "episode": str(latest.pk), "note": "Shorter practice agreed."},
    )
    assert response.status_code == 302
    assert flags.DISTRESS not in open_flags(world, client)
    rated_practice(client, days_ago(world, 1), 4, 8)  # a new rated practice: a new episode
    assert flags.DISTRESS in open_flags(world, client)


def test_needs_attention_first_orders_by_severity_then_recency_as_the_pure_key(world):
    from clinic.models import SignalKind
    from tests.factories import make_client

    # Every client here is overdue (no SCS since intake): the other flags decide.
    quiet = make_client(world.clinic, world.clinician, code="RC-050")
    for n in (40, 35, 30):
        log_entry(quiet, days_ago(world, n))
    make_client(world.clinic, world.clinician, code="RC-051")
    distress = make_client(world.clinic, world.clinician, code="RC-052")
    for n, (before, after) in zip((6, 5, 4), ((1, 3), (2, 5), (3, 4)), strict=True):
        rated_practice(distress, days_ago(world, n), before, after)
    older_safety = make_client(world.clinic, world.clinician, code="RC-053")
    say_difficult(world, older_safety)
    newer_safety = make_client(world.clinic, world.clinician, code="RC-054")
    say_difficult(world, newer_safety)
    # A risk item with many lesser flags does not outrank one safety flag.
    lesser = make_client(world.clinic, world.clinician, code="RC-055")
    say_difficult(world, lesser, kind=SignalKind.RISK_ITEM)
    for n in (40, 35, 30):
        log_entry(lesser, days_ago(world, n))
    for n, (before, after) in zip((29, 28, 27), ((1, 3), (2, 5), (3, 4)), strict=True):
        rated_practice(lesser, days_ago(world, n), before, after)
    today = world.clinic.today()
    context = selectors.clinic_context(world.clinic.pk)
    ids = selectors.dashboard_ids(world.clinician, selectors.DashboardFilters(), context, today)
    code_of = dict(Client.objects.values_list("pk", "code"))
    by_sql = [code_of[pk] for pk in ids[0 : len(ids)]]
    # RC-001 and RC-051 are only overdue, since the same day: by code.
    assert by_sql == ["RC-054", "RC-053", "RC-055", "RC-052", "RC-050", "RC-001", "RC-051"]
    # Filtered to clients with an open flag (every one here), in the same order.
    with_open = selectors.dashboard_ids(
        world.clinician, selectors.DashboardFilters(flag="open"), context, today
    )
    assert [code_of[pk] for pk in with_open[0:10]] == by_sql
    rows = selectors.dashboard_rows(
        selectors.clients_in_order(
            [c.pk for c in Client.objects.filter(primary_clinician=world.clinician)],
            context.rules,
        ),
        context,
        today,
    )
    by_pure = [
        row.client.code
        for row in sorted(
            rows,
            key=lambda row: (flags.attention_key(row.flags), _reverse(row.client.code)),
            reverse=True,
        )
    ]
    assert by_pure == by_sql
    # Pages are slices of that one order, whatever their size.
    pages = [code_of[pk] for start in range(0, 7, 3) for pk in ids[start : start + 3]]
    assert pages == by_sql
    assert ids[7:10] == [] and ids[3:3] == []
    with pytest.raises(TypeError):
        ids[0:]


def test_a_flag_filter_that_can_match_nobody_gives_an_empty_page_in_either_order(world):
    # No clinic SD yet: no scale can change reliably, so nobody can have deteriorated.
    today = world.clinic.today()
    context = selectors.clinic_context(world.clinic.pk)
    for sort in ("attention", "code"):
        filters = selectors.DashboardFilters(flag=flags.DETERIORATION, sort=sort)
        ids = selectors.dashboard_ids(world.clinic_admin, filters, context, today)
        assert (ids.count(), ids[0:25]) == (0, [])


def _reverse(code: str) -> tuple:
    """Codes sort ascending within equal keys while the keys sort descending."""
    return tuple(-ord(character) for character in code)
