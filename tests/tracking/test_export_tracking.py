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
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["critic_text"] for row in rows] == ['\'=HYPERLINK("http://evil")', "Second"]
    assert rows[0]["is_private"] == "True" and rows[0]["self_kindness"] == "Kind words"


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
