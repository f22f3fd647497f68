"""The chart pages read the day rollups the entry services keep (ClientDay, days in the clinic's
time zone); tracking.analysis holds the same aggregation in pure pandas over raw rows, tested on
its own across DST changes. Here the pure version is the oracle: on SQLite and PostgreSQL alike
the rollup path must agree with it, also for entries on both sides of a clock change."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pandas as pd
import pytest
from django.core.validators import MaxValueValidator, MinValueValidator

from dashboard.models import FlagSettings
from tests.factories import write_entry
from tracking import analysis, selectors
from tracking.analysis import RISING_DAYS, rising_slopes
from tracking.models import ClientActivity, ClientDay, InnerCriticEntry, TriggerCategory
from tracking.projections import activity_from_days, rated_practices_of
from tracking.services import entry_delete

LONDON = zoneinfo.ZoneInfo("Europe/London")
UTC = dt.UTC


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


# Around London's clock changes in 2025: forward on 30 March, back on 26 October.
MOMENTS = [
    (local(2025, 3, 29, 22, 15), 7, None),
    (local(2025, 3, 30, 0, 30), 6, 4),  # GMT, the night the clocks go forward
    (local(2025, 3, 30, 3, 10), 8, None),  # BST, same night
    (local(2025, 3, 30, 23, 30), 5, 2),  # Sunday 22:30 UTC: still that week
    (local(2025, 3, 31, 0, 30), 9, 5),  # Monday 00:30 BST = Sunday 23:30 UTC: next week
    (dt.datetime(2025, 10, 26, 0, 30, tzinfo=UTC), 4, None),  # 01:30 BST
    (dt.datetime(2025, 10, 26, 1, 30, tzinfo=UTC), 6, 3),  # 01:30 GMT, the repeated hour
    (local(2025, 10, 26, 23, 30), 3, 1),  # Sunday 23:30 GMT
    (local(2025, 10, 27, 0, 30), 7, None),  # Monday: next week
]
FIRST, LAST = dt.date(2025, 3, 24), dt.date(2025, 11, 2)


@pytest.fixture
def logged(world):
    world.clinic.time_zone = "Europe/London"
    world.clinic.save()
    work = TriggerCategory.objects.get(organisation__isnull=True, name="Work")
    rows = []
    for n, (when, intensity, after) in enumerate(MOMENTS):
        trigger = work if n % 2 else None
        pattern = ["self_judgment", "isolation", None][n % 3]
        write_entry(
            world.client_record,
            critic_text=f"moment {n}",
            occurred_at=when,
            intensity=intensity,
            intensity_after=after,
            reframed_at=when if after is not None else None,
            trigger=trigger,
            pattern=pattern or "",  # stored blank, read as "not recorded"
        )
        rows.append(
            {
                "occurred_at": when,
                "intensity": intensity,
                "intensity_after": after,
                "trigger": trigger.name if trigger else None,
                "pattern": pattern,
            }
        )
    return rows


def sql_chart_data(world):
    return selectors.chart_data(world.client_record, FIRST, LAST, for_staff=False)


def test_weekly_summaries_from_sql_match_the_pure_reference_across_dst(world, logged):
    from_sql = sql_chart_data(world).weekly
    reference = analysis.weekly_entry_summary(logged, LONDON, FIRST, LAST)
    pd.testing.assert_frame_equal(
        from_sql.reset_index(drop=True), reference.reset_index(drop=True), check_dtype=False
    )
    assert from_sql["entries"].sum() == len(MOMENTS)


def test_the_heatmap_from_sql_matches_the_pure_reference_across_dst(world, logged):
    from_sql = sql_chart_data(world).heatmap
    reference = analysis.weekday_hour_heatmap(logged, LONDON, FIRST, LAST)
    pd.testing.assert_frame_equal(from_sql, reference, check_dtype=False)


def test_trigger_and_pattern_counts_from_sql_match_the_pure_reference(world, logged):
    data = sql_chart_data(world)
    pd.testing.assert_frame_equal(
        data.triggers.reset_index(drop=True),
        analysis.trigger_breakdown(logged, LONDON, FIRST, LAST).reset_index(drop=True),
        check_dtype=False,
    )
    pd.testing.assert_frame_equal(
        data.patterns.reset_index(drop=True),
        analysis.pattern_breakdown(logged, LONDON, FIRST, LAST).reset_index(drop=True),
        check_dtype=False,
    )


def test_asking_for_some_parts_gives_the_same_summaries_and_skips_the_others(
    world, logged, django_assert_max_num_queries
):
    full = sql_chart_data(world)
    with django_assert_max_num_queries(1):  # the day rollups
        part = selectors.chart_data(
            world.client_record,
            FIRST,
            LAST,
            for_staff=False,
            parts=frozenset({"weekly", "practice"}),
        )
    pd.testing.assert_frame_equal(part.weekly, full.weekly)
    assert part.heatmap.to_numpy().sum() == 0 and full.heatmap.to_numpy().sum() == len(MOMENTS)
    assert part.triggers["n"].sum() == 0


def assert_activity_as_the_repair_computes_it(client) -> ClientActivity:
    """The ClientActivity the writes kept equals the one the repair path computes from every
    day row; returns the stored one."""
    stored = ClientActivity.objects.get(client=client)
    recomputed = activity_from_days(
        client.pk, ClientDay.objects.filter(client=client), rated_practices_of(client.pk)
    )
    fields = [f.attname for f in ClientActivity._meta.fields]
    assert [getattr(stored, f) for f in fields] == [getattr(recomputed, f) for f in fields]
    return stored


def test_a_write_keeps_the_activity_of_a_long_history_equal_to_one_from_every_day(world):
    """activity_refresh reads totals and only the last RISING_DAYS of day rows; the repair path
    reads every day row. A year of entries, rising in its last weeks, gives the same row."""
    client = world.client_record
    last = dt.datetime(2026, 11, 20, 12, tzinfo=LONDON)
    for back in range(0, 365, 3):
        intensity = 2 if back > 60 else 9 - back // 10  # rising towards the latest entry
        write_entry(client, occurred_at=last - dt.timedelta(days=back), intensity=intensity)
    assert ClientDay.objects.filter(client=client).count() > RISING_DAYS // 3 + 10
    stored = assert_activity_as_the_repair_computes_it(client)
    assert stored.entries == len(range(0, 365, 3))
    assert stored.rising_w12 is not None and stored.rising_w12 > 0


def test_the_rising_trend_on_write_reads_exactly_the_oldest_day_of_the_longest_window(world):
    """The 12-week trend's oldest window is T-83..T-77 (T the latest entry's day): T-83 counts,
    T-84 does not. The row the write keeps equals one computed from every day row."""
    client = world.client_record
    last = dt.datetime(2026, 11, 20, 12, tzinfo=LONDON)
    for back in range(0, RISING_DAYS, 7):  # one entry in each week's window
        write_entry(client, occurred_at=last - dt.timedelta(days=back), intensity=2 + back // 14)
    write_entry(client, occurred_at=last - dt.timedelta(days=RISING_DAYS - 1), intensity=10)
    write_entry(client, occurred_at=last - dt.timedelta(days=RISING_DAYS), intensity=0)

    daily = {
        day.day: (day.entries, float(day.intensity_sum))
        for day in ClientDay.objects.filter(client=client)
    }
    activity = ClientActivity.objects.get(client=client)
    stored = {column: getattr(activity, column) for column in analysis.RISING_COLUMNS}
    assert stored == rising_slopes(daily, last.date())
    oldest = last.date() - dt.timedelta(days=RISING_DAYS - 1)
    without_oldest = {day: v for day, v in daily.items() if day != oldest}
    assert stored["rising_w12"] != rising_slopes(without_oldest, last.date())["rising_w12"]


def test_deleting_an_entry_whose_day_was_never_counted_keeps_the_activity_as_the_repair_does(
    world,
):
    """An entry stored past the services (a bulk load without the rollups) and then deleted
    leaves a day counted below zero; the write must not fail on it (it answered 500 once) and
    must keep the row the repair path would compute."""
    client = world.client_record
    write_entry(client, occurred_at=dt.datetime(2026, 11, 2, 12, tzinfo=LONDON))
    stray = InnerCriticEntry.objects.create(
        client=client, critic_text="Loaded in bulk.", intensity=4, occurred_at=local(2026, 11, 9, 9)
    )
    entry_delete(actor=world.client, entry=stray)
    assert ClientDay.objects.get(client=client, day=dt.date(2026, 11, 9)).entries == -1
    assert_activity_as_the_repair_computes_it(client)


def test_every_activity_field_comes_either_from_day_rows_or_from_the_rated_practices():
    """An entry's write updates only the fields from day rows (FROM_DAYS) and keeps the rated
    practices' fields: a field added to ClientActivity must be named on one side or the other."""
    from tracking.projections import FROM_DAYS

    from_rated = {"rated_practices", "distress_rises", "last_rated_id", "last_rated_on"}
    fields = {f.name for f in ClientActivity._meta.fields if not f.primary_key}
    assert set(FROM_DAYS) | from_rated == fields
    assert not set(FROM_DAYS) & from_rated


def test_an_entry_after_rated_practices_keeps_them_as_the_repair_computes_them(world):
    """An entry's write does not read the rated practices again; the ones a practice's write
    stored stay, and the row equals one computed from every day row."""
    from tracking.services import practice_create

    client = world.client_record
    for day, before, after in ((3, 4, 6), (4, 5, 7), (5, 6, 5)):
        practice_create(
            actor=world.client,
            client=client,
            data={
                "practised_on": dt.date(2026, 11, day),
                "practice_type": "hand_on_heart",
                "minutes": 5,
                "distress_before": before,
                "distress_after": after,
            },
        )
    write_entry(client, occurred_at=dt.datetime(2026, 11, 6, 12, tzinfo=LONDON))
    stored = assert_activity_as_the_repair_computes_it(client)
    assert stored.distress_rises == 2 and stored.entries == 1 and stored.practice_sessions == 3


def test_each_new_entry_moves_the_activity_as_a_recount_of_every_day_would(world):
    """A new entry adds to the stored ClientActivity instead of recounting every day row: after
    each write, in order, the row equals the recount. The writes cover a first entry (no row
    yet), the same day again, a later day, an entry dated long before the latest (outside the
    rising trend's days, so the latest day stays), practice after the entries (the last
    activity stays the practice's day) and an entry after that practice."""
    from tests.factories import write_practice

    client = world.client_record
    at = dt.datetime(2026, 11, 20, 12, tzinfo=LONDON)
    writes = [
        ("entry", at - dt.timedelta(days=30)),
        ("entry", at - dt.timedelta(days=30, hours=2)),
        ("entry", at - dt.timedelta(days=10)),
        ("entry", at - dt.timedelta(days=RISING_DAYS + 40)),
        ("practice", at - dt.timedelta(days=2)),
        ("entry", at - dt.timedelta(days=5)),
        ("entry", at),
    ]
    for kind, when in writes:
        if kind == "entry":
            write_entry(client, occurred_at=when, intensity=3 + when.day % 7)
        else:
            write_practice(client, practised_on=when.date(), minutes=10)
        assert_activity_as_the_repair_computes_it(client)
    stored = ClientActivity.objects.get(client=client)
    assert stored.entries == 6 and stored.last_entry_on == at.date()
    assert stored.last_activity_on == at.date()


def test_activity_keeps_one_slope_column_for_each_window_length_a_clinic_may_choose():
    columns = {f.name for f in ClientActivity._meta.concrete_fields if f.name.startswith("rising")}
    assert columns == set(analysis.RISING_COLUMNS)
    validators = FlagSettings._meta.get_field("rising_weeks").validators
    lowest = max(v.limit_value for v in validators if isinstance(v, MinValueValidator))
    highest = min(v.limit_value for v in validators if isinstance(v, MaxValueValidator))
    assert (lowest, highest) == (min(analysis.RISING_WEEKS), max(analysis.RISING_WEEKS))
