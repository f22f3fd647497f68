"""Where the apps meet: assessments' scores in tracking's progress charts, settings links."""

import datetime as dt

from django.urls import reverse

from assessments.instruments import get_instrument
from assessments.services import administration_create


def enter_scs(world, day: dt.date, value: int):
    return administration_create(
        client=world.client_record,
        instrument=get_instrument("scs"),
        answers=dict.fromkeys(range(1, 27), value),
        administered_on=day,
        mode="paper",
        entered_by=world.clinician,
    )


def scs_chart(response):
    return next(chart for chart in response.context["figures"] if chart.key == "scs-trend")


def test_the_progress_chart_shows_scs_subscales_once_a_questionnaire_is_scored(world):
    today = dt.date.today()
    enter_scs(world, today - dt.timedelta(days=40), 2)
    enter_scs(world, today - dt.timedelta(days=5), 4)

    for persona, url in [
        ("client", reverse("tracking:my_charts")),
        ("clinician", reverse("tracking:client_charts", args=[world.client_record.pk])),
    ]:
        chart = scs_chart(world.browser(persona).get(url))
        assert not chart.empty, persona
        assert len(chart.table.rows) >= 2


def test_a_new_score_refreshes_the_cached_progress_charts(world):
    http = world.browser("client")
    url = reverse("tracking:my_charts")
    assert b"No Self-Compassion Scale total yet" in http.get(url).content
    enter_scs(world, dt.date.today() - dt.timedelta(days=1), 4)
    assert b"No Self-Compassion Scale total yet" not in http.get(url).content


def test_another_clients_scores_never_reach_a_clients_chart(world):
    enter_scs(world, dt.date.today() - dt.timedelta(days=3), 4)
    chart = scs_chart(world.browser("other_client").get(reverse("tracking:my_charts")))
    assert chart.empty


def test_clinic_settings_link_to_the_assessment_settings(world):
    response = world.browser("clinic_admin").get(reverse("clinic:settings"))
    assert reverse("assessments:rc_settings") in response.content.decode()
