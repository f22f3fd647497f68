"""A clinic loads its own copy of the published item wording; screens say which is in use."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from assessments.instruments import get_instrument
from assessments.models import ItemWording
from assessments.services import one_time_link_create


def test_wording_from_a_text_file_is_shown_with_its_source(world, tmp_path, capsys):
    path = tmp_path / "scs-wording.txt"
    path.write_text("\n".join(f"Clinic wording {n}" for n in range(1, 27)))
    call_command("load_item_wording", "scs", str(path), "--clinic", world.clinic.slug)
    assert "loaded the wording of 26 SCS items" in capsys.readouterr().out
    assert ItemWording.objects.get().wording["8"] == "Clinic wording 8"

    entry = world.browser("clinician").get(
        reverse("assessments:entry", args=[world.client_record.pk, "scs"])
    )
    assert b"Clinic wording 8" in entry.content
    assert b"Clinic-loaded wording: scs-wording.txt" in entry.content
    _, token = one_time_link_create(
        client=world.client_record, instrument=get_instrument("scs"), created_by=None
    )
    page = world.browser("anonymous").get(reverse("assessment_link", args=[token]))
    assert b"Clinic wording 26" in page.content
    assert b"read each question from the paper copy" not in page.content


def test_another_clinic_does_not_see_the_wording(world, tmp_path):
    path = tmp_path / "w.json"
    path.write_text(json.dumps({str(n): f"Other clinic wording {n}" for n in range(1, 27)}))
    call_command("load_item_wording", "scs", str(path), "--clinic", world.other_clinic.slug)
    entry = world.browser("clinician").get(
        reverse("assessments:entry", args=[world.client_record.pk, "scs"])
    )
    assert b"Other clinic wording" not in entry.content and b"own item labels" in entry.content


def test_an_incomplete_file_is_refused_naming_the_missing_items(world, tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("item,wording\n1,First\n2,Second\n")
    with pytest.raises(CommandError, match="lacks items 3, 4"):
        call_command("load_item_wording", "scs", str(path), "--clinic", world.clinic.slug)
    assert not ItemWording.objects.exists()


def test_a_csv_wording_with_an_unquoted_comma_is_refused_not_cut_at_the_comma(world, tmp_path):
    """Found with the one CSV reader: csv.DictReader stored "I am kind" for item 1 below and
    dropped the rest of the wording silently."""
    rows = [f'{n},"Clinic wording {n}, quoted"' for n in range(1, 27)]
    rows[0] = "1,I am kind, mostly"
    path = tmp_path / "w.csv"
    path.write_text("\n".join(["item,wording", *rows]) + "\n", encoding="utf-8")
    with pytest.raises(CommandError, match="row 2: 3 cells, but the header has 2 columns"):
        call_command("load_item_wording", "scs", str(path), "--clinic", world.clinic.slug)
    assert not ItemWording.objects.exists()

    rows[0] = '1,"I am kind, mostly"'
    path.write_text("\n".join(["item,wording", *rows]) + "\n", encoding="utf-8")
    call_command("load_item_wording", "scs", str(path), "--clinic", world.clinic.slug)
    assert ItemWording.objects.get().wording["1"] == "I am kind, mostly"
    assert ItemWording.objects.get().wording["2"] == "Clinic wording 2, quoted"
