"""The chart pages sum ClientDay rows with tracking.analysis's day-row functions (plain Python);
the pandas functions they replace on that path stay the reference. On generated day rows both
must give the very same DataFrame: columns, dtypes, index, values, NaN where NaN.

The property tests are pure: unsaved ClientDay rows feed the reference the way chart_data used
to, plain tuples (as the day columns give them) feed the day-row functions; no database. The
last test holds chart_data itself to the old path on stored rows.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from tracking import analysis, selectors
from tracking.models import ClientDay, TriggerCategory

# The pandas reference's inputs, from ClientDay rows (as the chart pages read them before).


def day_buckets(days) -> list[dict]:
    """ClientDay rows in tracking.analysis's bucket shape (one bucket a day): the input of the
    pandas reference, which tests hold chart_data's day-row path to."""
    return [
        {
            "local_date": day.day,
            "hour": 0,
            "n": day.entries,
            "sum_intensity": day.intensity_sum,
            "n_reframed": day.reframed,
            "sum_intensity_reframed": day.reframed_intensity_sum,
            "sum_intensity_after": day.intensity_after_sum,
        }
        for day in days
        if day.entries
    ]


def hour_buckets(days) -> list[dict]:
    """Entry counts per local day and hour, for the weekday x hour heatmap."""
    return [
        {"local_date": day.day, "hour": hour, "n": n}
        for day in days
        for hour, n in enumerate(day.hours)
        if n
    ]


def practice_rows(days) -> list[dict]:
    return [
        {"practised_on": day.day, "practice_type": kind, "minutes": minutes}
        for day in days
        for kind, (minutes, _) in day.practice_types.items()
    ]


FIRST, LAST = dt.date(2024, 1, 1), dt.date(2026, 12, 31)
FAR_DAYS = (dt.date(1, 1, 1), dt.date(1600, 6, 1), dt.date(2300, 1, 1), dt.date(9999, 12, 31))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PRACTICE_KINDS = (*analysis.PRACTICE_TYPES, "yoga", "body_scan")  # unknown ones count as other
PATTERNS = ("", *analysis.PATTERNS, "rumination")


def assert_same(fast, reference) -> None:
    assert_frame_equal(fast, reference, check_dtype=True, check_exact=True)
    assert type(fast.index) is type(reference.index)
    assert type(fast.columns) is type(reference.columns)


@st.composite
def ranges(draw) -> tuple[dt.date, dt.date]:
    """[first, last]: a few days to more than the 104 weeks a chart shows."""
    first = draw(st.dates(FIRST, LAST))
    length = draw(st.one_of(st.integers(0, 60), st.integers(0, 800), st.integers(720, 800)))
    return first, first + dt.timedelta(days=length)


def day_in_or_around(first: dt.date, last: dt.date) -> st.SearchStrategy[dt.date]:
    return st.one_of(
        st.dates(first, last),
        st.dates(first - dt.timedelta(days=30), last + dt.timedelta(days=30)),
        st.sampled_from(FAR_DAYS),
    )


@st.composite
def client_days(draw, first: dt.date, last: dt.date) -> list[ClientDay]:
    """Day rows as the rollups store them: empty days, days with only practice, entries with
    and without reframes, hourly counts, breakdowns and practice types."""
    days = draw(st.lists(day_in_or_around(first, last), max_size=60, unique=True))
    rows = []
    for day in days:
        entries = draw(st.sampled_from([0, 0, 1, 2, 3, 7, 40]))
        reframed = draw(st.integers(0, entries))
        hours = [0] * 24
        for _ in range(entries):
            hours[draw(st.integers(0, 23))] += 1
        keys = st.tuples(st.sampled_from([0, 1, 2, 3, 17]), st.sampled_from(PATTERNS)).map(
            lambda key: f"{key[0]}|{key[1]}"
        )
        counts = st.dictionaries(keys, st.integers(1, 9), max_size=4)
        practice = st.dictionaries(
            st.sampled_from(PRACTICE_KINDS),
            st.tuples(st.integers(0, 90), st.integers(1, 3)).map(list),
            max_size=3,
        )
        rows.append(
            ClientDay(
                day=day,
                entries=entries,
                intensity_sum=draw(st.integers(0, 10 * entries)),
                reframed=reframed,
                reframed_intensity_sum=draw(st.integers(0, 10 * reframed)),
                intensity_after_sum=draw(st.integers(0, 10 * reframed)),
                hours=hours,
                breakdown=draw(counts) if entries else {},
                private_breakdown=draw(counts) if entries else {},
                practice_sessions=0,
                practice_minutes=0,
                practice_types=draw(practice),
            )
        )
    return rows


@st.composite
def charts(draw) -> tuple[list[ClientDay], dt.date, dt.date]:
    first, last = draw(ranges())
    return draw(client_days(first, last)), first, last


def values(days: list[ClientDay], *fields: str) -> list[tuple]:
    """The rows as ``values_list("day", *fields)`` gives them."""
    return [(day.day, *(getattr(day, name) for name in fields)) for day in days]


@SETTINGS
@given(charts())
def test_weekly_summary_from_day_rows_equals_the_pandas_reference(chart):
    days, first, last = chart
    reference = analysis.weekly_summary_from_buckets(day_buckets(days), first, last)
    fast = analysis.weekly_summary_from_days(values(days, *analysis.DAY_SUMS), first, last)
    assert_same(fast, reference)


@SETTINGS
@given(charts())
def test_heatmap_from_day_rows_equals_the_pandas_reference(chart):
    days, first, last = chart
    reference = analysis.heatmap_from_buckets(hour_buckets(days), first, last)
    assert_same(analysis.heatmap_from_days(values(days, "hours"), first, last), reference)


@SETTINGS
@given(charts())
def test_practice_minutes_from_day_rows_equal_the_pandas_reference(chart):
    days, first, last = chart
    reference = analysis.practice_minutes_weekly(practice_rows(days), first, last)
    fast = analysis.practice_minutes_from_days(values(days, "practice_types"), first, last)
    assert_same(fast, reference)


@SETTINGS
@given(
    charts(),
    st.booleans(),
    st.dictionaries(st.sampled_from([1, 2, 3, 17]), st.sampled_from(["Work", "Family", " "])),
)
def test_breakdowns_from_day_rows_equal_the_pandas_reference(chart, for_staff, names):
    days, _, _ = chart
    by_key = selectors.breakdown_keys(
        ((day.breakdown, day.private_breakdown) for day in days), for_staff=for_staff
    )
    triggers, patterns = selectors.breakdown_rows(by_key, names)
    assert_same(
        analysis.breakdown_from_count_rows(triggers), analysis.breakdown_from_counts(triggers)
    )
    assert_same(
        analysis.breakdown_from_count_rows(patterns, order=analysis.PATTERNS),
        analysis.breakdown_from_counts(patterns, order=analysis.PATTERNS),
    )


@SETTINGS
@given(charts(), st.booleans())
def test_breakdown_keys_count_every_stored_key_as_one_loop_over_the_days_does(chart, for_staff):
    days, _, _ = chart
    expected: dict = {}
    for day in days:
        for part, private in ((day.breakdown, False), (day.private_breakdown, True)):
            for key, n in part.items():
                trigger, pattern = key.split("|", 1)
                shown = "Kept private" if private and for_staff else (int(trigger) or None)
                expected[(shown, pattern)] = expected.get((shown, pattern), 0) + n
    by_key = selectors.breakdown_keys(
        ((day.breakdown, day.private_breakdown) for day in days), for_staff=for_staff
    )
    assert list(by_key.items()) == list(expected.items())


CATEGORIES = st.one_of(
    st.none(),
    st.sampled_from(["", "  ", "Work", "work", "Kept private", *analysis.PATTERNS]),
    st.text(max_size=6),
)


@SETTINGS
@given(
    st.lists(
        st.fixed_dictionaries(
            {"category": CATEGORIES, "n": st.one_of(st.none(), st.integers(-3, 40))}
        ),
        max_size=40,
    ),
    st.sampled_from([(), analysis.PATTERNS, ("Work",)]),
    st.integers(0, 14),
)
def test_any_category_counts_give_the_breakdown_of_the_pandas_reference(counts, order, limit):
    assert_same(
        analysis.breakdown_from_count_rows(counts, order=order, limit=limit),
        analysis.breakdown_from_counts(counts, order=order, limit=limit),
    )


SCS_DAYS = st.one_of(
    st.dates(dt.date(2023, 6, 1), dt.date(2027, 6, 1)),
    st.sampled_from([dt.date(2024, 3, 4), dt.date(2025, 3, 3), dt.date(2026, 3, 2)]),
)
SCS_ROWS = st.fixed_dictionaries(
    {
        "administered_on": SCS_DAYS,
        "subscale": st.sampled_from([*analysis.SCS_SUBSCALES, "extra", "", None]),
        "score": st.one_of(st.none(), st.floats(1, 5, allow_nan=False), st.integers(1, 5)),
    }
)


@SETTINGS
@given(ranges(), st.lists(SCS_ROWS, max_size=120))
def test_the_scs_trend_from_rows_equals_the_pandas_reference(bounds, scores):
    first, last = bounds
    assert_same(
        analysis.scs_trend_from_rows(scores, first, last),
        analysis.scs_trend(scores, first, last),
    )


@pytest.mark.parametrize("subscales", [["total"], ["total", "isolation"]])
def test_scores_of_one_day_average_to_the_same_float_as_pandas(subscales):
    scores = [
        {"administered_on": dt.date(2025, 3, 3), "subscale": subscale, "score": score}
        for score in (0.1, 0.2, 0.3, 1e16, 1.0, -1e16, 0.7)
        for subscale in subscales
    ]
    first, last = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
    for n in range(1, len(scores) + 1):
        assert_same(
            analysis.scs_trend_from_rows(scores[:n], first, last),
            analysis.scs_trend(scores[:n], first, last),
        )


def test_the_day_row_functions_refuse_a_range_that_ends_before_it_starts():
    with pytest.raises(ValueError, match="after end"):
        analysis.weekly_summary_from_days([], LAST, FIRST)
    with pytest.raises(ValueError, match="after end"):
        analysis.practice_minutes_from_days([], LAST, FIRST)


# --- chart_data on stored day rows ------------------------------------------------------------


def reference_chart_data(client, first, last, *, for_staff, parts=selectors.CHART_PARTS):
    """chart_data as it was: ClientDay instances through the pandas reference."""
    first, last = selectors.chart_range(first, last)
    days = selectors.client_days(client, first, last)
    triggers, patterns = ([], [])
    if "breakdowns" in parts:
        triggers, patterns = selectors.breakdown_counts(days, for_staff=for_staff)
    scs = selectors.scs_trend(client) if "scs" in parts else []
    return {
        "weekly": analysis.weekly_summary_from_buckets(
            day_buckets(days) if "weekly" in parts else [], first, last
        ),
        "triggers": analysis.breakdown_from_counts(triggers),
        "patterns": analysis.breakdown_from_counts(patterns, order=analysis.PATTERNS),
        "heatmap": analysis.heatmap_from_buckets(
            hour_buckets(days) if "heatmap" in parts else [], first, last
        ),
        "practice": analysis.practice_minutes_weekly(
            practice_rows(days) if "practice" in parts else [], first, last
        ),
        "scs": analysis.scs_trend(scs, first, last),
    }


@pytest.mark.parametrize("for_staff", [True, False])
@pytest.mark.parametrize(
    "parts",
    [selectors.CHART_PARTS, frozenset({"weekly", "practice", "scs", "symptoms"}), frozenset()],
)
def test_chart_data_from_stored_days_equals_the_pandas_reference(world, for_staff, parts):
    work = TriggerCategory.objects.get(organisation=None, name="Work")
    exams = TriggerCategory.objects.create(organisation=world.clinic, name="Exams")
    first, last = dt.date(2025, 1, 6), dt.date(2025, 6, 29)
    for offset in range(0, 200, 3):  # some days fall after `last`
        day = first + dt.timedelta(days=offset)
        entries = offset % 4
        hours = [0] * 24
        for n in range(entries):
            hours[(offset + 5 * n) % 24] += 1
        ClientDay.objects.create(
            client=world.client_record,
            day=day,
            entries=entries,
            intensity_sum=7 * entries,
            reframed=entries // 2,
            reframed_intensity_sum=6 * (entries // 2),
            intensity_after_sum=3 * (entries // 2),
            hours=hours,
            breakdown={f"{work.pk}|isolation": entries // 2, "0|": entries - entries // 2}
            if entries
            else {},
            private_breakdown={f"{exams.pk}|self_judgment": 1} if offset % 5 == 0 else {},
            practice_types={"journaling": [10 + offset % 7, 1], "yoga": [5, 1]}
            if offset % 9 == 0
            else {},
        )
    data = selectors.chart_data(world.client_record, first, last, for_staff=for_staff, parts=parts)
    reference = reference_chart_data(
        world.client_record, first, last, for_staff=for_staff, parts=parts
    )
    for name, expected in reference.items():
        assert_same(getattr(data, name), expected)
    if "breakdowns" in parts:
        shown = set(data.triggers["category"])
        assert ("Kept private" in shown, "Exams" in shown) == (for_staff, not for_staff)
