"""When a client's reminders fall due: pure functions over plain data (no ORM, no request).

A reminder is a wall-clock time in the clinic's time zone on chosen days of the week. Each
occurrence is computed from the local date and time with zoneinfo, so 08:00 stays 08:00 local
across both daylight-saving changes (its UTC instant moves by the hour instead). On the day the
clocks go forward a time inside the skipped hour (e.g. 01:30 in London) falls due when the
clocks jump past it, at 02:30 local; on the day they go back a time inside the repeated hour
falls due once, at its first occurrence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def occurrences(
    weekdays: Iterable[int],
    at: dt.time,
    tz: ZoneInfo,
    start: dt.datetime,
    end: dt.datetime,
) -> list[tuple[dt.date, dt.datetime]]:
    """Each (local date, aware UTC instant) of `at` on `weekdays` (0 = Monday) with
    start < instant <= end. `start` and `end` are aware datetimes in any zone."""
    days = set(weekdays)
    first = start.astimezone(tz).date() - dt.timedelta(days=1)
    last = end.astimezone(tz).date() + dt.timedelta(days=1)
    found = []
    day = first
    while day <= last:
        if day.weekday() in days:
            instant = dt.datetime.combine(day, at, tzinfo=tz).astimezone(dt.UTC)
            if start < instant <= end:
                found.append((day, instant))
        day += dt.timedelta(days=1)
    return found


def occurrence_key(client_id: int, purpose: str, day: dt.date, at: dt.time) -> str:
    """The outbox key of one reminder: a client gets each local date and time once."""
    return f"reminder:{client_id}:{purpose}:{day.isoformat()}T{at:%H:%M}"
