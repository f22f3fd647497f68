"""Writes of the dashboard: acknowledgements and thresholds, and the writes that span apps.

The dashboard keeps no copy of the other apps' data: it reads their projections. Its own rows
are the clinic's thresholds, the acknowledgements and, per client, the episode of each flag last
acknowledged (FlagState).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.db import transaction
from django.utils import timezone

from assessments.services import assessment_settings_update
from clinic.audit import audit_record
from clinic.models import AuditAction, Client, Organisation, User, clients_lock
from dashboard import flags, selectors
from dashboard.models import FlagAcknowledgement, FlagSettings, FlagState
from tracking import projections as tracking_projections

ACK_FIELDS = {
    flags.DETERIORATION: "ack_deterioration",
    flags.DISTRESS: "ack_distress",
    flags.QUIET: "ack_quiet",
    flags.OVERDUE: "ack_overdue",
    flags.RISING: "ack_rising",
}


class FlagNotRaised(Exception):
    """The flag being acknowledged is not raised (any more) for that episode."""


def flag_acknowledge(
    *, actor: User, client: Client, kind: str, episode: str, note: str, today: dt.date
) -> FlagAcknowledgement:
    """Record that `actor` saw the flag and what they noted; the flag stays quiet until its
    episode changes. Refused when that flag is not raised for that episode (e.g. the page was
    out of date): nothing is saved. The same note posted twice is recorded once."""
    with transaction.atomic():
        # The client's row is locked first, so two acknowledgements of one client queue up
        # (in the mode every projection write takes: clinic.models.clients_lock).
        clients_lock([client.pk])
        context = selectors.clinic_context(client.organisation_id)
        row = selectors.client_row(client, context, today)
        raised = {(flag.kind, flag.episode): flag for flag in row.flags}
        if (kind, episode) not in raised:
            raise FlagNotRaised(kind)
        if raised[kind, episode].acknowledged:
            # The same note posted again (a double click): the acknowledgement it made. A
            # different note for the episode is a note of its own, kept beside the first.
            repeat = FlagAcknowledgement.objects.filter(
                client=client, kind=kind, episode=episode, note=note
            ).first()
            if repeat is not None:
                return repeat
        acknowledgement = FlagAcknowledgement.objects.create(
            client=client, kind=kind, episode=episode, note=note, acknowledged_by=actor
        )
        FlagState.objects.update_or_create(
            client=client, defaults={ACK_FIELDS[kind]: flags.parse_episode(kind, episode)}
        )
        audit_record(actor, client, AuditAction.UPDATE, subject="flag", fields=["acknowledged"])
    return acknowledgement


def flag_settings_update(*, actor: User, data: dict, every_weeks: int) -> FlagSettings:
    """Save the clinic's thresholds and its default SCS schedule; every flag follows at once
    (flags are worked out when read)."""
    with transaction.atomic():
        settings, _ = FlagSettings.objects.select_for_update().get_or_create(
            organisation_id=actor.organisation_id
        )
        for name, value in data.items():
            setattr(settings, name, value)
        settings.updated_at = timezone.now()
        settings.updated_by = actor
        settings.save()
        assessment_settings_update(organisation_id=actor.organisation_id, every_weeks=every_weeks)
    return settings


def organisation_time_zone_set(*, organisation: Organisation, time_zone: str) -> None:
    """Move a clinic to another time zone. Every clinic-local day the other apps' projections
    hold moves with it, so they are rebuilt from the raw rows in the same transaction (this is
    the dashboard's write because only the top of the house may call every app)."""
    if time_zone not in zoneinfo.available_timezones():
        raise ValueError(f"{time_zone!r} is not a known time zone (e.g. Europe/London).")
    with transaction.atomic():
        # The clinic's row first: the update waits for the writes in flight, which share-lock
        # it with their clients, and holds every later one back until the rebuild commits;
        # they then bucket their days in the new zone (clinic.models.clients_lock).
        Organisation.objects.filter(pk=organisation.pk).update(time_zone=time_zone)
        organisation.time_zone = time_zone
        ids = list(Client.objects.filter(organisation=organisation).values_list("pk", flat=True))
        tracking_projections.clients_rebuild(ids)
