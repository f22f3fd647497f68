"""Counselor entry of a paper form: keyboard grid, validation that keeps every value."""

from django.urls import reverse

from assessments.models import Administration, Score
from clinic.models import AuditEvent


def entry_url(world, instrument="scs"):
    return reverse(
        "assessments:entry",
        kwargs={"client_id": world.client_record.pk, "instrument": instrument},
    )


def form_data(values, **extra):
    data = {"administered_on": "2026-03-02", "mode": "paper"}
    data.update({f"item_{n}": str(v) for n, v in enumerate(values, start=1)})
    data.update(extra)
    return data


def test_the_grid_offers_one_numeric_single_digit_input_per_item_in_natural_tab_order(world):
    response = world.browser("clinician").get(entry_url(world))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="form-control sk-item-input"') == 26
    assert 'maxlength="1"' in html and 'inputmode="numeric"' in html
    # The page's own order: the skip link and navigation first, then the form; no positive
    # tabindex. The cursor starts in item 1.
    assert "tabindex" not in html
    assert html.count("autofocus") == 1 and 'name="item_1"' in html.split("autofocus")[0][-400:]
    assert "assessments/entry.js" in html and "<script>" not in html  # no inline script
    assert 'id="sk-preview-key"' in html
    assert "self-judgment, reverse-keyed" in html
    assert "Selfkind&#x27;s own item labels" in html  # which wording is in use


def test_a_complete_form_is_saved_scored_and_audited(world):
    http = world.browser("clinician")
    values = [3] * 26
    for item in (5, 12, 19, 23, 26):  # self-kindness
        values[item - 1] = 5

    response = http.post(entry_url(world), form_data(values))

    administration = Administration.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:results", kwargs={"pk": administration.pk})
    assert administration.entered_by == world.clinician
    assert administration.status == "final" and administration.mode == "paper"
    assert administration.answers["5"] == 5 and administration.answers["1"] == 3
    score = administration.score
    assert score.subscale_score("self_kindness") == 5.0
    assert score.subscale_score("self_judgment") == 3.0
    assert score.total_method == "subscale_mean"
    assert score.total == (5 + 3 + 3 + 3 + 3 + 3) / 6
    assert score.band == "moderate"
    assert AuditEvent.objects.filter(
        client=world.client_record, action="create", subject="assessment"
    ).exists()


def test_bad_items_are_marked_every_value_is_kept_and_nothing_is_saved(world):
    values = [3] * 26
    values[7] = 7  # item 8 out of range
    values[11] = "x"  # item 12 not a number

    response = world.browser("clinician").post(entry_url(world), form_data(values, item_2="4"))

    html = response.content.decode()
    assert response.status_code == 400
    assert "Item 8: &#x27;7&#x27; is not an answer" in html
    assert "Item 12: &#x27;x&#x27; is not an answer" in html
    assert 'name="item_8" value="7"' in html  # the bad value is kept to be corrected
    assert 'name="item_2" value="4"' in html  # and so is every good one
    assert html.count("is-invalid") >= 2
    assert 'value="2026-03-02"' in html
    assert not Administration.objects.exists() and not Score.objects.exists()


def test_blank_items_follow_the_missing_item_rule_and_are_listed(world):
    values = [3] * 26
    values[4] = ""  # item 5, one blank of the five self-kindness items: still scored
    world.browser("clinician").post(entry_url(world), form_data(values))

    score = Administration.objects.get().score
    assert score.missing_items == [5]
    assert score.prorated is True
    assert score.status == "scored"


def test_a_date_in_the_future_or_an_empty_form_is_refused(world):
    http = world.browser("clinician")
    response = http.post(entry_url(world), form_data([3] * 26, administered_on="2999-01-01"))
    assert response.status_code == 400
    assert b"cannot be in the future" in response.content
    response = http.post(entry_url(world), form_data([""] * 26))
    assert b"Every item is blank" in response.content
    assert not Administration.objects.exists()


def test_the_fscrs_grid_accepts_zero_and_sums_subscales(world):
    response = world.browser("clinician").post(
        entry_url(world, "fscrs"), form_data([0] * 22, item_3="4")
    )
    assert response.status_code == 302
    score = Administration.objects.get().score
    assert score.subscale_score("reassured_self") == 4
    assert score.subscale_score("hated_self") == 0
    assert score.total is None


def test_an_unknown_instrument_is_not_found(world):
    assert world.browser("clinician").get(entry_url(world, "phq9")).status_code == 404
