"""The results page: subscales with direction, total with method and band, and reliable change
against the baseline and the previous administration (Jacobson & Truax, per the facts page)."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.instruments import get_instrument
from assessments.models import Administration, ReliableChangeSetting
from clinic.models import AuditEvent
from tests.access_rules.assessments import a_valid_link, administration_of
from tests.factories import make_client

SCS = get_instrument("scs")


def scs_answers(positive: int, negative: int) -> dict[int, int]:
    """Every positive-subscale item `positive`, every negative one (raw) `negative`.

    The subscale_mean total is then (positive + 6 - negative) / 2.
    """
    return {item.number: negative if item.reverse else positive for item in SCS.items}


def results_page(world, administration, persona="clinician"):
    return world.browser(persona).get(
        reverse("assessments:results", kwargs={"pk": administration.pk})
    )


def configure_sd(world, sd=0.70):
    ReliableChangeSetting.objects.create(
        organisation=world.clinic,
        instrument_code="scs",
        scale="total",
        reference_sd=sd,
        source="Example SD from the facts page",
    )


def test_the_page_reads_the_facts_page_example_sd_070_r_093_as_needing_051(world):
    configure_sd(world)
    administration_of(world.client_record, scs_answers(2, 4), on=dt.date(2026, 1, 10))
    latest = administration_of(world.client_record, scs_answers(3, 4), on=dt.date(2026, 2, 10))
    response = results_page(world, latest)
    assert round(response.context["total_row"].since_baseline.minimum_change, 2) == 0.51
    assert b"a reliable change needs at least 0.51" in response.content


def test_a_worse_score_on_a_higher_is_worse_subscale_is_read_as_deterioration(world):
    ReliableChangeSetting.objects.create(
        organisation=world.clinic,
        instrument_code="scs",
        scale="self_judgment",
        reference_sd=0.7,
        source="test",
    )
    administration_of(world.client_record, scs_answers(3, 2), on=dt.date(2026, 1, 10))
    latest = administration_of(world.client_record, scs_answers(3, 4), on=dt.date(2026, 2, 10))
    rows = {row.code: row for row in results_page(world, latest).context["rows"]}
    assert rows["self_judgment"].since_baseline.verdict == "deteriorated"
    assert rows["self_kindness"].since_baseline.verdict == "not enough data"


def test_the_page_shows_subscales_with_direction_total_with_method_and_band(world):
    administration = administration_of(world.client_record, scs_answers(4, 2))
    response = results_page(world, administration)
    html = response.content.decode()
    assert response.status_code == 200
    assert "higher = more self-criticism" in html
    assert "higher = more self-compassion" in html
    assert "mean of the subscale means" in html and "subscale_mean" not in html
    assert "High" in html  # total 4.0
    assert "this is the baseline" in html
    assert "Compassionate responding" in html
    assert 'data-figure="sk-subscale-figure"' in html and 'id="sk-subscale-figure"' in html
    assert AuditEvent.objects.filter(action="view", subject="assessment").exists()


def test_reliable_change_uses_the_configured_sd_with_its_source(world):
    configure_sd(world)
    administration_of(world.client_record, scs_answers(2, 4), on=dt.date(2026, 1, 10))
    administration_of(world.client_record, scs_answers(3, 4), on=dt.date(2026, 2, 10))
    latest = administration_of(world.client_record, scs_answers(3, 3), on=dt.date(2026, 3, 10))

    rows = results_page(world, latest).context["total_row"]

    assert rows.since_baseline.difference == 1.0
    assert rows.since_baseline.verdict == "improved"
    assert rows.since_previous.difference == 0.5
    assert rows.since_previous.verdict == "no reliable change"  # 0.5 < 0.51
    assert "configured: Example SD from the facts page" in rows.sd_source


def test_without_a_configured_sd_and_fewer_than_30_baselines_there_is_no_verdict(world):
    administration_of(world.client_record, scs_answers(2, 4), on=dt.date(2026, 1, 10))
    latest = administration_of(world.client_record, scs_answers(4, 2), on=dt.date(2026, 3, 10))

    response = results_page(world, latest)

    assert response.context["total_row"].since_baseline.verdict == "not enough data"
    assert b"not enough data" in response.content


def test_the_clinics_own_baseline_sd_is_used_once_30_clients_have_a_baseline(world):
    for n in range(30):
        client = make_client(world.clinic, world.clinician, code=f"B-{n:02d}")
        administration_of(client, scs_answers(2 + n % 3, 3), on=dt.date(2026, 1, 5))
        administration_of(client, scs_answers(5, 1), on=dt.date(2026, 4, 5))  # not a baseline
    administration_of(world.client_record, scs_answers(2, 4), on=dt.date(2026, 1, 10))
    latest = administration_of(world.client_record, scs_answers(4, 2), on=dt.date(2026, 3, 10))

    row = results_page(world, latest).context["total_row"]

    assert "this clinic's baseline SD (31 clients)" in row.sd_source
    assert row.since_baseline.verdict == "improved"


def test_short_form_subscales_are_not_interpretable_alone_and_get_no_verdict(world):
    configure_sd(world)
    answers = dict.fromkeys(range(1, 13), 3)
    administration_of(world.client_record, answers, instrument="scs-sf", on=dt.date(2026, 1, 1))
    later = administration_of(
        world.client_record, dict.fromkeys(range(1, 13), 5), instrument="scs-sf"
    )
    response = results_page(world, later)
    assert b"not interpretable alone" in response.content
    for row in response.context["rows"]:
        assert row.since_baseline.rc is None
        assert row.since_baseline.verdict == "not interpretable alone"


def test_the_thirtieth_baseline_gives_the_clinic_its_own_sd_at_once(world):
    for n in range(28):  # with the client's own baseline: 29 of 30
        client = make_client(world.clinic, world.clinician, code=f"B-{n:02d}")
        administration_of(client, scs_answers(2 + n % 3, 3), on=dt.date(2026, 1, 5))
    latest = administration_of(world.client_record, scs_answers(4, 2), on=dt.date(2026, 3, 10))
    assert "29 of 30" in results_page(world, latest).context["total_row"].sd_source
    newcomer = make_client(world.clinic, world.clinician, code="B-99")
    administration_of(newcomer, scs_answers(3, 3), on=dt.date(2026, 1, 5))
    row = results_page(world, latest).context["total_row"]
    assert "this clinic's baseline SD (30 clients)" in row.sd_source


def test_the_clinic_baseline_moments_follow_a_later_and_an_earlier_administration(world):
    from assessments.models import BaselineMoments

    def total():
        row = BaselineMoments.objects.get(organisation=world.clinic, scale="total")
        return row.n, row.total

    administration_of(world.client_record, scs_answers(3, 3), on=dt.date(2026, 2, 1))
    assert total() == (1, 3.0)
    administration_of(world.client_record, scs_answers(4, 2), on=dt.date(2026, 3, 1))
    assert total() == (1, 3.0)  # a later one leaves the baseline as it was
    administration_of(world.client_record, scs_answers(2, 4), on=dt.date(2026, 1, 1))
    assert total() == (1, 2.0)  # an earlier one is the new baseline, the old one leaves


def test_the_client_timeline_lists_administrations_with_totals(world):
    administration_of(world.client_record, scs_answers(3, 3))
    response = world.browser("clinician").get(
        reverse("clinic:client_detail", kwargs={"client_id": world.client_record.pk})
    )
    html = response.content.decode()
    assert "Assessment" in html and "Total 3.00 (mean of the subscale means), moderate" in html
    assert reverse("assessments:client_assessments", args=[world.client_record.pk]) in html


def count_queries(http, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries)


def test_query_counts_do_not_grow_with_the_number_of_administrations(world):
    http = world.browser("clinic_admin")
    first = administration_of(world.client_record, scs_answers(2, 4), on=dt.date(2026, 1, 1))
    latest = administration_of(world.client_record, scs_answers(3, 3), on=dt.date(2026, 2, 1))
    client_id = world.client_record.pk
    urls = lambda: [  # noqa: E731
        reverse("assessments:results", kwargs={"pk": latest.pk}),
        reverse("assessments:client_assessments", kwargs={"client_id": client_id}),
        reverse("assessments:export_csv", kwargs={"client_id": client_id}),
        reverse("assessments:fhir_export", kwargs={"pk": latest.pk}),
        reverse("assessments:correct", kwargs={"pk": latest.pk}),
        reverse("clinic:client_detail", kwargs={"client_id": client_id}),
        reverse("assessments:entry", kwargs={"client_id": client_id, "instrument": "scs"}),
        reverse("assessments:import_upload"),
        reverse("assessments:rc_settings"),
        reverse("assessments:export_cohort_csv"),
        reverse("assessment_link", kwargs=a_valid_link(world)),
    ]
    before = [count_queries(http, url) for url in urls()]
    for month in range(3, 13):
        latest = administration_of(
            world.client_record, scs_answers(3, 2), on=dt.date(2026, month, 1)
        )
    after = [count_queries(http, url) for url in urls()]
    assert after == before
    assert first.pk

    portal = world.browser("client")
    portal_urls = [
        reverse("assessments:portal_list"),
        reverse("assessments:portal_results", kwargs={"pk": latest.pk}),
        reverse("assessments:portal_complete", kwargs={"instrument": "scs"}),
    ]
    before = [count_queries(portal, url) for url in portal_urls]
    administration_of(world.client_record, scs_answers(4, 2), on=dt.date(2026, 2, 15))
    assert [count_queries(portal, url) for url in portal_urls] == before


def test_a_clinic_admin_sets_a_reference_sd_with_its_source(world):
    http = world.browser("clinic_admin")
    url = reverse("assessments:rc_settings")
    response = http.post(url, {"scs__total__sd": "0.7"})
    assert response.status_code == 400
    assert b"say where the SD comes from" in response.content
    assert not ReliableChangeSetting.objects.exists()

    http.post(url, {"scs__total__sd": "0.7", "scs__total__source": "Pilot sample, 2025"})
    setting = ReliableChangeSetting.objects.get()
    assert (setting.scale, setting.reference_sd, setting.source) == (
        "total",
        0.7,
        "Pilot sample, 2025",
    )
    assert setting.organisation == world.clinic

    administration_of(world.client_record, scs_answers(2, 4), on=dt.date(2026, 1, 10))
    latest = administration_of(world.client_record, scs_answers(3, 3), on=dt.date(2026, 2, 10))
    row = results_page(world, latest).context["total_row"]
    assert row.sd_source == "configured: Pilot sample, 2025"

    http.post(url, {"scs__total__sd": "", "scs__total__source": ""})
    assert not ReliableChangeSetting.objects.exists()


def test_the_chart_caption_follows_the_instrument(world):
    """Found in audit: every instrument's chart said 'means on raw responses (1 to 5)'."""
    from assessments.instruments import get_instrument
    from assessments.selectors import subscale_figure_caption

    scs = subscale_figure_caption(get_instrument("scs"))
    fscrs = subscale_figure_caption(get_instrument("fscrs"))
    assert scs.startswith("Subscale means on raw responses (1 to 5)")
    assert "3 subscales are" in scs and "and 3" in scs
    assert fscrs.startswith("Subscale sums of raw responses (Inadequate Self 0-36")
    assert "1 subscale is" in fscrs and "and 2" in fscrs


def test_totals_by_different_methods_are_never_compared(world):
    from assessments.models import Score

    first = administration_of(world.client_record, dict.fromkeys(range(1, 27), 2))
    administration_of(world.client_record, dict.fromkeys(range(1, 27), 4), on=dt.date(2026, 3, 1))
    Score.objects.filter(administration=first).update(total_method="item_mean")
    later = Administration.objects.exclude(pk=first.pk).get()
    response = world.browser("clinician").get(reverse("assessments:results", args=[later.pk]))
    assert response.context["total_row"].since_baseline is None


def test_subscale_verdicts_say_their_reliability_is_not_verified(world):
    administration = administration_of(world.client_record, dict.fromkeys(range(1, 27), 3))
    page = world.browser("clinician").get(reverse("assessments:results", args=[administration.pk]))
    assert "not verified" in page.content.decode()
