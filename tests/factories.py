"""Plain factory functions for tests: explicit, no magic, sensible defaults."""

from __future__ import annotations

import datetime as dt
import itertools

from clinic.models import Client, Organisation, Role, Tag, User

_counter = itertools.count(1)


def make_organisation(name: str = "Riverside Counseling", **extra) -> Organisation:
    """A clinic. Two-factor sign-in for staff is off unless asked for: the personas sign in
    with their password alone (force_login); tests of the requirement turn it on."""
    n = next(_counter)
    return Organisation.objects.create(
        name=name,
        slug=extra.pop("slug", f"org-{n}"),
        time_zone=extra.pop("time_zone", "Europe/London"),
        two_factor_required=extra.pop("two_factor_required", False),
        **extra,
    )


def make_user(organisation: Organisation | None, role: str = Role.CLINICIAN, **extra) -> User:
    n = next(_counter)
    username = extra.pop("username", f"user{n}")
    user = User(username=username, organisation=organisation, role=role, **extra)
    user.set_password("correct horse battery staple")
    user.save()
    return user


def make_client(
    organisation: Organisation, primary: User, *, user: User | None = None, **extra
) -> Client:
    n = next(_counter)
    tags = extra.pop("tags", ())
    client = Client.objects.create(
        organisation=organisation,
        primary_clinician=primary,
        user=user,
        code=extra.pop("code", f"C-{n:05d}"),
        display_name=extra.pop("display_name", f"Client {n}"),
        intake_date=extra.pop("intake_date", dt.date(2026, 1, 5)),
        **extra,
    )
    if tags:
        client.tags.set(tags)
    return client


def builtin_tag(name: str = "Shame") -> Tag:
    return Tag.objects.get(organisation__isnull=True, name=name)


def write_entry(client: Client, **fields):
    """An inner-critic entry written through the service, so the projections follow: on the
    client's behalf when they have a portal login, else their primary clinician's."""
    from django.utils import timezone

    from tracking.services import entry_create

    data = {
        "critic_text": "Not good enough.",
        "intensity": 5,
        "occurred_at": timezone.now() - dt.timedelta(hours=2),
        **fields,
    }
    return entry_create(actor=client.user or client.primary_clinician, client=client, data=data)


def write_practice(client: Client, **fields):
    """A practice session written through the service (the projections follow)."""
    from django.utils import timezone

    from tracking.services import practice_create

    data = {
        "practised_on": timezone.localdate(),
        "practice_type": "self_compassion_break",
        "minutes": 10,
        **fields,
    }
    return practice_create(actor=client.user or client.primary_clinician, client=client, data=data)
