"""An entry written while its clinic moves time zone is counted on the day of the zone the
clinic is in once the write holds the client's lock, not the zone its request read earlier
(clinic.models.clients_lock, tracking.projections.entry_counted).

22:00 in London on 2 November is already 3 November in Tokyo, so the two zones put the entry
on different days."""

from __future__ import annotations

import datetime as dt
import io
import threading
import time
import zoneinfo

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse

from clinic.models import Client, Organisation
from dashboard.consistency import differences
from dashboard.services import organisation_time_zone_set
from tests.tracking.test_rollups_concurrent import in_thread
from tracking.models import ClientDay
from tracking.services import entry_create, entry_delete

LONDON = zoneinfo.ZoneInfo("Europe/London")
LATE_EVENING = dt.datetime(2026, 11, 2, 22, tzinfo=LONDON)  # 3 November in Tokyo
ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def write(world, client: Client):
    return entry_create(
        actor=world.client,
        client=client,
        data={"critic_text": "Not good enough.", "intensity": 6, "occurred_at": LATE_EVENING},
    )


def days_of(client: Client) -> list[dt.date]:
    return list(ClientDay.objects.filter(client=client).values_list("day", flat=True))


def stale_record(world) -> Client:
    """The client as a request read it, with its clinic's zone, before the move."""
    client = Client.objects.select_related("organisation").get(pk=world.client_record.pk)
    assert client.organisation.time_zone == "Europe/London"
    return client


def move_to_tokyo(world) -> None:
    organisation_time_zone_set(
        organisation=Organisation.objects.get(pk=world.clinic.pk), time_zone="Asia/Tokyo"
    )


def test_an_entry_whose_request_read_the_zone_before_the_clinic_moved_lands_on_the_new_day(
    world,
):
    client = stale_record(world)
    move_to_tokyo(world)

    write(world, client)

    assert days_of(client) == [dt.date(2026, 11, 3)]
    assert differences([client.pk]) == []


def test_deleting_an_entry_counted_in_the_old_zone_takes_it_off_the_new_day(world):
    entry = write(world, stale_record(world))
    entry = type(entry).objects.select_related("client__organisation").get(pk=entry.pk)
    move_to_tokyo(world)

    entry_delete(actor=world.client, entry=entry)  # its client still says London

    assert days_of(world.client_record) == []
    assert differences([world.client_record.pk]) == []


def second_waits_for_first(first, second) -> None:
    """Run `first` in a transaction in another thread and keep it open; start `second` in a
    third; check that it is still waiting half a second later; then commit `first` and wait
    for both to finish."""
    done, release = threading.Event(), threading.Event()

    def held_open():
        with transaction.atomic():
            first()
            done.set()
            release.wait(10)

    holder = in_thread(held_open)
    assert done.wait(10)
    waiter = in_thread(second)
    time.sleep(0.5)  # time enough for `second` to finish, if nothing holds it back
    assert waiter.is_alive()
    release.set()
    holder.join(10)
    waiter.join(10)


committing = pytest.mark.django_db(transaction=True, serialized_rollback=True)
postgresql_only = pytest.mark.skipif(
    not ON_POSTGRESQL, reason="row locks and READ COMMITTED: PostgreSQL"
)


@committing
@postgresql_only
def test_an_entry_that_waits_for_a_move_in_progress_reads_the_new_zone_after_it(world):
    client = stale_record(world)
    # The entry waits for the clinic's row, holding no client.
    second_waits_for_first(lambda: move_to_tokyo(world), lambda: write(world, client))

    assert days_of(client) == [dt.date(2026, 11, 3)]
    assert differences([client.pk]) == []


@committing
@postgresql_only
def test_a_move_waits_for_an_entry_in_flight_and_then_rebuilds_it_in_the_new_zone(world):
    client = stale_record(world)
    # The move waits for the clinic's row the entry share-locks.
    second_waits_for_first(lambda: write(world, client), lambda: move_to_tokyo(world))

    assert days_of(client) == [dt.date(2026, 11, 3)]
    assert differences([client.pk]) == []


@committing
@postgresql_only
def test_an_entry_that_waits_for_a_move_which_has_taken_the_clinic_deadlocks_with_neither(
    world, monkeypatch
):
    """The move has updated the clinic's row and not yet locked its clients; an entry comes.
    The entry's lock takes the clinic's row before its client (CLIENTS_LOCK_SQL), so it waits
    holding no client, and the move then locks every client without waiting for it. In the
    other order each would wait for the other until PostgreSQL ended one as a deadlock."""
    from tracking import projections

    client = stale_record(world)
    rebuild, updated, go_on = projections.clients_rebuild, threading.Event(), threading.Event()

    def rebuild_once_held(ids):
        if not updated.is_set():  # the move's rebuild: the entry only rebuilds after it
            updated.set()
            go_on.wait(10)
        rebuild(ids)

    monkeypatch.setattr(projections, "clients_rebuild", rebuild_once_held)
    mover = in_thread(lambda: move_to_tokyo(world))
    assert updated.wait(10)
    writer = in_thread(lambda: write(world, client))
    time.sleep(0.5)  # the entry waits for the clinic's row
    go_on.set()
    mover.join(10)
    writer.join(10)

    assert Organisation.objects.get(pk=world.clinic.pk).time_zone == "Asia/Tokyo"
    assert days_of(client) == [dt.date(2026, 11, 3)]
    assert differences([client.pk]) == []


def test_the_command_moves_a_clinic_and_its_days(world):
    write(world, world.client_record)
    out = io.StringIO()
    call_command("clinic_time_zone", world.clinic.slug, "Asia/Tokyo", stdout=out)
    assert "Europe/London -> Asia/Tokyo" in out.getvalue()
    assert days_of(world.client_record) == [dt.date(2026, 11, 3)]
    with pytest.raises(CommandError, match="not a known time zone"):
        call_command("clinic_time_zone", world.clinic.slug, "Mars/Olympus")
    with pytest.raises(CommandError, match="No clinic"):
        call_command("clinic_time_zone", "no-such-clinic", "Asia/Tokyo")


def test_the_admin_shows_a_clinics_zone_but_does_not_change_it(world):
    """Saved there, the projections would keep the old zone's days: the command moves it."""
    world.clinic_admin.is_superuser = True
    world.clinic_admin.save()
    http = world.browser("clinic_admin")
    url = reverse("admin:clinic_organisation_change", args=[world.clinic.pk])
    page = http.get(url).content.decode()
    assert "Europe/London" in page and 'name="time_zone"' not in page
    assert 'name="time_zone"' in http.get(reverse("admin:clinic_organisation_add")).content.decode()
