"""The client, on a phone: privacy beside the words, a 0-10 tap scale, a "Saved" before the
reframe, and a due questionnaire one tap away in the tab bar."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from tests.dashboard.helpers import give_scs
from tracking.models import InnerCriticEntry


def capture_page(world) -> str:
    return world.browser("client").get(reverse("tracking:my_log")).content.decode()


def test_keep_the_words_private_sits_next_to_the_words_not_in_more_detail(world):
    page = capture_page(world)
    words, private, details = (
        page.index('name="critic_text"'),
        page.index('name="is_private"'),
        page.index("<summary>More detail (optional)</summary>"),
    )
    assert words < private < details
    assert "Keep the words private" in page[words:details]


def test_intensity_is_a_row_of_eleven_tap_targets_not_a_number_keyboard(world):
    page = capture_page(world)
    assert page.count('type="radio" name="intensity"') == 11
    assert 'type="number"' not in page and 'inputmode="numeric"' not in page
    for n in range(11):
        assert f'value="{n}"' in page
    assert page.count('class="btn sk-tap"') == 11
    assert "<legend" in page and "0 = none at all, 10 = the strongest you can imagine" in page


def test_a_tapped_intensity_is_saved_and_the_reframe_page_says_saved(world):
    response = world.browser("client").post(
        reverse("tracking:my_log"),
        {
            "critic_text": "You never finish anything.",
            "intensity": "7",
            "occurred_at": dt.datetime.now().strftime("%Y-%m-%dT%H:%M"),
        },
        follow=True,
    )
    entry = InnerCriticEntry.objects.get()
    assert entry.intensity == 7
    assert response.redirect_chain[-1][0] == reverse("tracking:my_entry", args=[entry.pk])
    page = response.content.decode()
    assert "Saved. You can reframe it now, or come back later." in page
    # the rating after reframing is a tap scale too, already chosen values stay chosen
    assert page.count('type="radio" name="intensity_after"') == 11
    assert 'name="intensity" id="id_intensity_7" value="7" checked' in page


def test_an_intensity_out_of_range_is_refused_naming_the_field_and_keeps_the_words(world):
    response = world.browser("client").post(
        reverse("tracking:my_log"), {"critic_text": "Lazy.", "intensity": "11"}
    )
    page = response.content.decode()
    assert "Intensity must be between 0 and 10." in page and "Lazy." in page
    assert not InnerCriticEntry.objects.exists()


def test_optional_distress_ratings_can_be_left_not_rated(world):
    page = world.browser("client").get(reverse("tracking:my_practice")).content.decode()
    assert page.count('type="radio" name="distress_before"') == 12  # 0-10 and "Not rated"
    assert "Not rated" in page


def tab_bar(world) -> str:
    page = capture_page(world)
    return page[page.index('aria-label="My tracking"') :].split("</nav>")[0]


def test_a_due_questionnaire_is_one_tap_away_in_the_tab_bar(world):
    scs = reverse("assessments:portal_complete", kwargs={"instrument": "scs"})
    # No SCS yet: the baseline is due, even for a client whose intake was today.
    world.client_record.intake_date = world.clinic.today()
    world.client_record.save(update_fields=["intake_date"])
    assert f'href="{scs}">Questionnaire due</a>' in tab_bar(world)
    give_scs(world.client_record, world.clinic.today(), 3, 3)
    assert "Questionnaire" not in tab_bar(world)  # answered today: the next is weeks away
    give_scs(world.client_record, world.clinic.today() - dt.timedelta(weeks=30), 3, 3)
    assert "Questionnaire" not in tab_bar(world)  # the latest counts, not the first


def test_the_scs_is_due_again_after_the_clinics_schedule(world):
    give_scs(world.client_record, world.clinic.today() - dt.timedelta(weeks=4), 3, 3)
    assert "Questionnaire due" in tab_bar(world)  # every 4 weeks by default


def test_an_unfinished_portal_questionnaire_is_offered_to_finish(world):
    give_scs(world.client_record, world.clinic.today(), 3, 3)
    world.browser("client").post(
        reverse("assessments:portal_complete", kwargs={"instrument": "fscrs"}),
        {"item_1": "2", "save": "1"},
    )
    fscrs = reverse("assessments:portal_complete", kwargs={"instrument": "fscrs"})
    assert f'href="{fscrs}">Finish your questionnaire</a>' in tab_bar(world)


def test_a_read_only_portal_offers_no_questionnaire(world):
    from tests.test_discharged_portal import discharge

    discharge(world)
    assert "Questionnaire" not in tab_bar(world)


def test_the_tab_bars_questionnaire_check_is_three_queries_whatever_the_history(
    world, django_assert_num_queries
):
    from assessments.selectors import portal_questionnaire_due

    client = world.client_record
    for weeks in range(12, 0, -1):
        give_scs(client, world.clinic.today() - dt.timedelta(weeks=weeks * 4), 3, 3)
    client.refresh_from_db()
    client.organisation  # noqa: B018 - loaded with the record, as portal_client_for does
    with django_assert_num_queries(3):  # draft, the clinic's schedule, the SCS due date
        due = portal_questionnaire_due(client)
    assert due.label == "Questionnaire due"
