"""A client downloads everything they logged, as CSV and as JSON."""

from __future__ import annotations

import csv
import io
import json

from django.urls import reverse

from tracking.models import InnerCriticEntry, PracticeSession


def make_entries(world):
    InnerCriticEntry.objects.create(
        client=world.client_record,
        critic_text='=HYPERLINK("http://evil")',
        intensity=6,
        is_private=True,
        self_kindness="Kind words",
    )
    InnerCriticEntry.objects.create(client=world.client_record, critic_text="Second", intensity=3)
    InnerCriticEntry.objects.create(
        client=world.other_client_record, critic_text="PAT", intensity=1
    )
    PracticeSession.objects.create(
        client=world.client_record, practice_type="loving_kindness", minutes=10
    )


def test_the_csv_export_holds_all_and_only_the_clients_own_entries(world):
    make_entries(world)
    response = world.browser("client").get(reverse("tracking:my_export_csv"))
    assert response["Content-Disposition"].startswith("attachment;")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["What the critic said"] for row in rows] == [
        '\'=HYPERLINK("http://evil")',
        "Second",
    ]
    assert rows[0]["Words kept private"] == "yes" and rows[0]["Self-kindness"] == "Kind words"


def test_the_csv_is_for_a_person_local_times_readable_headers_and_a_bom_for_excel(world):
    import datetime as dt
    from zoneinfo import ZoneInfo

    summer = dt.datetime(2026, 7, 3, 8, 30, tzinfo=dt.UTC)  # 09:30 in London (BST, +01:00)
    InnerCriticEntry.objects.create(
        client=world.client_record,
        critic_text="Tu n\u2019es jamais à la hauteur, Zoë.",
        intensity=7,
        occurred_at=summer,
        pattern="self_judgment",
        emotions=["shame", "guilt"],
    )
    response = world.browser("client").get(reverse("tracking:my_export_csv"))
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark: Excel reads the accents
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header, row = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert header[:4] == [
        "Entry number",
        "When (Europe/London time)",
        "What the critic said",
        "Intensity (0 to 10)",
    ]
    assert not any("_" in name for name in header)  # no machine column names
    assert row["When (Europe/London time)"] == "2026-07-03 09:30+01:00"
    assert row["What the critic said"] == "Tu n\u2019es jamais à la hauteur, Zoë."
    assert row["Pattern"] == "Self-judgment" and row["Emotions"] == "Shame; Guilt"
    assert row["Words kept private"] == "no"
    assert ZoneInfo("Europe/London")  # the clinic's zone, named in the header


def test_the_json_export_holds_entries_practice_and_journal(world):
    make_entries(world)
    response = world.browser("client").get(reverse("tracking:my_export_json"))
    payload = json.loads(response.content)
    assert payload["client"] == "RC-001"
    assert [entry["critic_text"] for entry in payload["entries"]] == [
        '=HYPERLINK("http://evil")',
        "Second",
    ]
    assert payload["practice"][0]["practice_type"] == "loving_kindness"
    assert payload["journal"] == []
    assert "PAT" not in response.content.decode()


def test_staff_cannot_export_a_clients_words(world):
    make_entries(world)
    for persona in ("clinician", "clinic_admin"):
        http = world.browser(persona)
        assert http.get(reverse("tracking:my_export_csv")).status_code == 403
        assert http.get(reverse("tracking:my_export_json")).status_code == 403
