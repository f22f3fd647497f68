"""Crafted data for the dashboard tests: SCS scores, inner-critic entries and practice."""

from __future__ import annotations

import datetime as dt

from assessments.instruments import get_instrument
from assessments.models import Mode, ReliableChangeSetting
from assessments.services import administration_create
from tests.factories import write_entry, write_practice
from tracking.models import InnerCriticEntry, PracticeSession, PracticeType

SCS = get_instrument("scs")


def scs_answers(positive: int, negative: int) -> dict[int, int]:
    """Positive-subscale items `positive`, negative ones (raw) `negative`: the subscale_mean
    total is (positive + 6 - negative) / 2."""
    return {item.number: negative if item.reverse else positive for item in SCS.items}


def give_scs(client, on: dt.date, positive: int, negative: int, actor=None):
    return administration_create(
        client=client,
        instrument=SCS,
        answers=scs_answers(positive, negative),
        administered_on=on,
        mode=Mode.PAPER,
        entered_by=actor,
    )


def configure_sd(organisation, scale: str = "total", sd: float = 0.70):
    """SD 0.70 with r .93: a change of at least 0.51 on the total is reliable."""
    return ReliableChangeSetting.objects.create(
        organisation=organisation,
        instrument_code="scs",
        scale=scale,
        reference_sd=sd,
        source="test reference",
    )


def at_noon(organisation, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=organisation.tz)


def log_entry(client, day: dt.date, intensity: int = 5, **extra) -> InnerCriticEntry:
    """An entry at noon of `day` (clinic time), written through the service."""
    return write_entry(
        client, occurred_at=at_noon(client.organisation, day), intensity=intensity, **extra
    )


def practise(client, day: dt.date, minutes: int = 10) -> PracticeSession:
    return write_practice(
        client,
        practised_on=day,
        practice_type=PracticeType.SELF_COMPASSION_BREAK,
        minutes=minutes,
    )
