"""CSV export of scores (one client, a caseload, a programme cohort) and import of paper forms."""

import csv
import io

from django.urls import reverse

from clinic.models import AuditEvent, Programme
from tests.access_rules.assessments import administration_of
from tests.factories import make_client


def rows_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_one_clients_export_has_a_row_per_administration_with_directions_and_method(world):
    administration_of(world.client_record, dict.fromkeys(range(1, 27), 3))
    response = world.browser("clinician").get(
        reverse("assessments:export_csv", args=[world.client_record.pk]), {"instrument": "scs"}
    )
    rows = rows_of(response)
    assert len(rows) == 1
    row = rows[0]
    assert row["client_code"] == "RC-001"
    assert row["self_judgment (higher = more self-criticism)"] == "3.0000"
    assert row["total (higher = more self-compassion)"] == "3.0000"
    assert row["total_method"] == "subscale_mean" and row["band"] == "moderate"
    assert AuditEvent.objects.filter(action="export", client=world.client_record).count() == 1


def test_a_client_code_is_never_exported_as_a_spreadsheet_formula(world):
    """Found in review: the scores export wrote client codes unescaped."""
    world.client_record.code = "=HYPERLINK(1)"
    world.client_record.save()
    administration_of(world.client_record, dict.fromkeys(range(1, 27), 3))
    response = world.browser("clinician").get(
        reverse("assessments:export_csv", args=[world.client_record.pk]), {"instrument": "scs"}
    )
    assert rows_of(response)[0]["client_code"] == "'=HYPERLINK(1)"


def test_the_caseload_export_holds_only_clients_in_scope(world):
    administration_of(world.client_record)
    administration_of(world.other_client_record)
    administration_of(world.other_clinic_record)
    url = reverse("assessments:export_cohort_csv")

    clinician_rows = rows_of(world.browser("clinician").get(url))
    admin_rows = rows_of(world.browser("clinic_admin").get(url))

    assert [r["client_code"] for r in clinician_rows] == ["RC-001"]
    assert [r["client_code"] for r in admin_rows] == ["RC-001", "RC-002"]
    assert AuditEvent.objects.filter(action="export").count() == 3


def test_a_programme_cohort_export_and_an_unknown_programme(world):
    programme = Programme.objects.create(organisation=world.clinic, name="MSC spring")
    member = make_client(world.clinic, world.clinician, code="RC-010")
    member.programmes.add(programme)
    administration_of(member)
    administration_of(world.client_record)
    http = world.browser("clinic_admin")
    url = reverse("assessments:export_cohort_csv")
    assert [r["client_code"] for r in rows_of(http.get(url, {"programme": programme.pk}))] == [
        "RC-010"
    ]
    foreign = Programme.objects.create(organisation=world.other_clinic, name="Other")
    assert http.get(url, {"programme": foreign.pk}).status_code == 404


# --- import ----------------------------------------------------------------------------------

import pytest  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import CommandError, call_command  # noqa: E402

from assessments.models import Administration  # noqa: E402

HEADER = "client_code,instrument,administered_on," + ",".join(f"item_{n}" for n in range(1, 27))


def line(code="RC-001", instrument="scs", on="2026-02-01", items=None):
    items = items if items is not None else ["3"] * 26
    return ",".join([code, instrument, on, *items])


def write(tmp_path, *lines):
    path = tmp_path / "forms.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return str(path)


def test_a_valid_file_is_imported_and_scored(world, tmp_path, capsys):
    short = ["4"] * 12 + [""] * 14
    path = write(tmp_path, line(), line("rc-002", "scs-sf", "2026-02-03", short))
    call_command("import_assessments", world.clinic.slug, path)
    assert "imported 2 administrations" in capsys.readouterr().out
    first, second = Administration.objects.order_by("pk")
    assert first.client == world.client_record and first.score.total == 3.0
    assert first.mode == "import"
    assert second.client == world.other_client_record and second.instrument_code == "scs-sf"


def test_every_problem_is_reported_with_its_row_and_nothing_is_imported(world, tmp_path, capsys):
    bad_items = ["3"] * 26
    bad_items[7] = "9"
    path = write(
        tmp_path,
        line(),
        line("NOPE"),
        line(instrument="phq9"),
        line(on="01/02/2026"),
        line(items=bad_items),
        line("HP-001"),  # another clinic's client
    )
    with pytest.raises(CommandError, match="5 of 6 rows are invalid; nothing imported"):
        call_command("import_assessments", world.clinic.slug, path)
    err = capsys.readouterr().err
    assert "row 3: no client with code 'NOPE'" in err
    assert "row 4: unknown instrument 'phq9'" in err
    assert "row 5: administered_on '01/02/2026' is not a date" in err
    assert "row 6: item 8: 9 is outside the response range 1..5" in err
    assert "row 7: no client with code 'HP-001'" in err
    assert not Administration.objects.exists()


def test_skip_invalid_imports_only_the_valid_rows(world, tmp_path, capsys):
    path = write(tmp_path, line(), line("NOPE"), line(on="2026-03-01"))
    call_command("import_assessments", world.clinic.slug, path, "--skip-invalid")
    assert "imported 2 administrations" in capsys.readouterr().out
    assert Administration.objects.count() == 2


def test_an_unusable_file_or_clinic_is_an_error(world, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,score\nx,1\n")
    with pytest.raises(CommandError, match="missing column"):
        call_command("import_assessments", world.clinic.slug, str(bad))
    with pytest.raises(CommandError, match="no clinic"):
        call_command("import_assessments", "nowhere", str(bad))


def test_the_upload_page_gives_the_same_report(world):
    http = world.browser("clinic_admin")
    url = reverse("assessments:import_upload")
    content = "\n".join([HEADER, line(), line("NOPE")]).encode()
    response = http.post(url, {"file": SimpleUploadedFile("f.csv", content, "text/csv")})
    assert response.status_code == 400
    assert b"row 3: no client with code" in response.content
    assert b"Nothing was imported" in response.content
    assert not Administration.objects.exists()

    response = http.post(
        url, {"file": SimpleUploadedFile("f.csv", content, "text/csv"), "skip_invalid": "on"}
    )
    assert response.status_code == 200 and b"Imported 1 of 2 rows" in response.content
    assert Administration.objects.get().entered_by == world.clinic_admin


def test_importing_the_same_file_twice_adds_nothing_the_second_time(world, tmp_path):
    path = write(tmp_path, line(), line(on="2026-03-01"), line(on="2026-03-01"))
    with pytest.raises(CommandError, match="1 of 3 rows are invalid"):
        call_command("import_assessments", world.clinic.slug, path)
    call_command("import_assessments", world.clinic.slug, path, "--skip-invalid")
    assert Administration.objects.count() == 2
    with pytest.raises(CommandError, match="3 of 3 rows are invalid"):
        call_command("import_assessments", world.clinic.slug, path)
    assert Administration.objects.count() == 2
