"""Plain factory functions for tests: explicit, no magic, sensible defaults."""

from __future__ import annotations

import datetime as dt
import itertools

from clinic.models import Client, Organisation, Role, Tag, User

_counter = itertools.count(1)


def make_organisation(name: str = "Riverside Counseling", **extra) -> Organisation:
    n = next(_counter)
    return Organisation.objects.create(
        name=name,
        slug=extra.pop("slug", f"org-{n}"),
        time_zone=extra.pop("time_zone", "Europe/London"),
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
