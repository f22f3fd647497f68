"""Repairs of rows stored before clinic.validation's rules existed, for the data migrations.

Each function takes the (historical) model classes a migration hands it and changes rows with
queryset updates, so no model signal runs. Identifiers are normalised the way the forms now
normalise them (refused characters are removed rather than refused, as the row exists
already); where that would make two rows of one scope equal, nothing is changed and
RepairConflict says which rows to rename first: two clients are never merged silently.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import defaultdict
from zoneinfo import ZoneInfo

from clinic.validation import EARLIEST, is_refused


class RepairConflict(RuntimeError):
    """Normalising would make two stored identifiers equal (or one empty): rename first."""


def repaired_identifier(value: str, *, form: str = "NFC", collapse: bool = False) -> str:
    """`value` normalised (`form`), its refused characters removed, trimmed; with `collapse`,
    runs of white space become one space (as the name forms do)."""
    text = unicodedata.normalize(form, value)
    if collapse:
        text = " ".join(text.split())
    return unicodedata.normalize(form, "".join(c for c in text if not is_refused(c))).strip()


def normalise_column(
    model, field: str, *, scope: str | None, label: str, form: str = "NFC", collapse: bool = False
) -> list[tuple[int, str, str]]:
    """Normalise `model.field` in place, unique within `scope` (a field name, None: the whole
    table). Returns (pk, old, new) for each row changed; raises RepairConflict, changing
    nothing, when two rows of one scope would become equal or a value would become empty."""
    rows = list(model.objects.order_by("pk").values_list("pk", scope or "pk", field))
    groups: dict[tuple, list[tuple[int, str]]] = defaultdict(list)
    changes = []
    for pk, within, value in rows:
        new = repaired_identifier(value, form=form, collapse=collapse)
        groups[(within if scope else None, new)].append((pk, value))
        if new != value:
            changes.append((pk, value, new))
    problems = [
        f"{label}s {' and '.join(f'{old!a} (id {pk})' for pk, old in members)}"
        + (f" of {scope} {within}" if scope else "")
        + f" would all become {new!a}"
        for (within, new), members in groups.items()
        if len(members) > 1 and any(new != old for _, old in members)
    ]
    problems += [
        f"{label} {value!a} (id {pk}) would become empty"
        for (_, new), members in groups.items()
        if not new
        for pk, value in members
    ]
    if problems:
        raise RepairConflict(
            f"Cannot normalise {label}s: {'; '.join(problems)}. Nothing was changed. Rename "
            "all but one of each group (e.g. in the Django admin), then run migrate again."
        )
    for pk, _, new in changes:
        model.objects.filter(pk=pk).update(**{field: new})
    return changes


def local_day(moment: dt.datetime, time_zone: str) -> dt.date:
    return moment.astimezone(ZoneInfo(time_zone)).date()


def plausible_day(day: dt.date | None, latest: dt.date) -> bool:
    return day is None or EARLIEST <= day <= latest


def report(what: str, count: int, action: str) -> None:
    """Say what a migration changed (nothing is printed when nothing changed)."""
    if count:
        print(f"\n  {count} {what}: {action}")
