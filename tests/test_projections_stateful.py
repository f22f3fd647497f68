"""Random sequences of writes never leave a projection different from its raw rows.

A hypothesis state machine writes through the real services, in any order: inner-critic entries
(new, edited, reframed, made private, deleted), practice (rated before and after or not: the
last three rated practices behind the "practice raising distress" flag), questionnaires (scored
and unscored, in and out of date order), corrections, an imported file, care-team changes and a
new clinic time zone. After every step `dashboard.consistency.differences` recomputes every
projection of the clinic from the raw rows and must find nothing. Runs on SQLite and PostgreSQL
alike.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
)

from assessments.importing import import_valid, validate
from assessments.instruments import get_instrument
from assessments.models import Administration, Mode
from assessments.services import administration_create, correction_create
from clinic import services as clinic_services
from clinic.models import Client, Role
from dashboard.consistency import differences
from dashboard.services import organisation_time_zone_set
from tests.factories import make_client, make_organisation, make_user
from tracking import services as tracking_services
from tracking.models import InnerCriticEntry, PracticeType, TriggerCategory

SCS = get_instrument("scs")
BASE = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)  # a month of London's clock change
ZONES = ["Europe/London", "Pacific/Auckland", "America/New_York", "Asia/Kolkata"]
_clinics = itertools.count(1)

# Days close together, so that practice, reframes and questionnaires often share a day: the
# interval rules (start < day <= end) are decided on those days.
moments = st.builds(
    lambda days, minutes: BASE + dt.timedelta(days=days, minutes=minutes),
    st.integers(-6, 6),
    st.integers(0, 24 * 60 - 1),
)
intensities = st.integers(0, 10)
distress = st.one_of(st.integers(0, 10), st.integers(0, 10), st.none())
answers = st.dictionaries(
    st.integers(1, SCS.item_count), st.integers(1, 5), min_size=0, max_size=SCS.item_count
)
full_answers = st.lists(st.integers(1, 5), min_size=SCS.item_count, max_size=SCS.item_count).map(
    lambda values: dict(enumerate(values, start=1))
)


class Projections(RuleBasedStateMachine):
    entries = Bundle("entries")
    administrations = Bundle("administrations")

    @initialize()
    def a_clinic(self):
        n = next(_clinics)
        self.clinic = make_organisation(f"State Clinic {n}", time_zone="Europe/London")
        self.clinician = make_user(self.clinic, Role.CLINICIAN, username=f"state-alex-{n}")
        self.colleague = make_user(self.clinic, Role.CLINICIAN, username=f"state-blair-{n}")
        self.clients = [
            make_client(self.clinic, self.clinician, code=f"ST-{n}-{k}") for k in range(2)
        ]
        self.triggers = list(TriggerCategory.objects.filter(organisation__isnull=True)[:3])

    def client(self, index: int) -> Client:
        return Client.objects.select_related("organisation").get(pk=self.clients[index].pk)

    @rule(
        target=entries,
        who=st.integers(0, 1),
        when=moments,
        intensity=intensities,
        private=st.booleans(),
        pattern=st.sampled_from(["", "self_judgment", "isolation"]),
        trigger=st.integers(-1, 2),
    )
    def log_an_entry(self, who, when, intensity, private, pattern, trigger):
        return tracking_services.entry_create(
            actor=self.clinician,
            client=self.client(who),
            data={
                "critic_text": "Not good enough.",
                "occurred_at": when,
                "intensity": intensity,
                "is_private": private,
                "pattern": pattern,
                "trigger": self.triggers[trigger] if trigger >= 0 else None,
            },
        )

    @rule(entry=entries, when=moments, intensity=intensities, private=st.booleans())
    def edit_an_entry(self, entry, when, intensity, private):
        stored = InnerCriticEntry.objects.select_related("client__organisation").get(pk=entry.pk)
        tracking_services.entry_update(
            actor=self.clinician,
            entry=stored,
            data={"occurred_at": when, "intensity": intensity, "is_private": private},
        )

    @rule(entry=entries, after=intensities)
    def reframe_an_entry(self, entry, after):
        stored = InnerCriticEntry.objects.select_related("client__organisation").get(pk=entry.pk)
        tracking_services.entry_reframe(
            actor=self.clinician,
            entry=stored,
            data={"self_kindness": "Everyone struggles.", "intensity_after": after},
        )

    @rule(entry=consumes(entries))
    def delete_an_entry(self, entry):
        stored = InnerCriticEntry.objects.select_related("client__organisation").get(pk=entry.pk)
        tracking_services.entry_delete(actor=self.clinician, entry=stored)

    @rule(
        who=st.integers(0, 1),
        days=st.integers(-6, 6),
        minutes=st.integers(1, 90),
        kind=st.sampled_from(PracticeType.values),
        before=distress,
        after=distress,
    )
    def practise(self, who, days, minutes, kind, before, after):
        """Practice, often rated before and after: ClientActivity keeps the last three rated
        practices (by day, then the order logged), which days close together reorder."""
        tracking_services.practice_create(
            actor=self.clinician,
            client=self.client(who),
            data={
                "practised_on": BASE.date() + dt.timedelta(days=days),
                "practice_type": kind,
                "minutes": minutes,
                "distress_before": before,
                "distress_after": after,
            },
        )

    @rule(
        target=administrations,
        who=st.integers(0, 1),
        days=st.integers(-6, 6),
        items=st.one_of(full_answers, full_answers, answers),
    )
    def enter_a_questionnaire(self, who, days, items):
        return administration_create(
            client=self.client(who),
            instrument=SCS,
            answers=items or {1: 3},
            administered_on=BASE.date() + dt.timedelta(days=days),
            mode=Mode.PAPER,
            entered_by=self.clinician,
        )

    @rule(administration=administrations, minutes=st.integers(1, 60), after=st.integers(-1, 1))
    def practise_around_a_questionnaire_day(self, administration, minutes, after):
        """The interval rule (start < day <= end) is decided on a questionnaire's own day."""
        tracking_services.practice_create(
            actor=self.clinician,
            client=Client.objects.select_related("organisation").get(pk=administration.client_id),
            data={
                "practised_on": administration.administered_on + dt.timedelta(days=after),
                "practice_type": PracticeType.HAND_ON_HEART,
                "minutes": minutes,
            },
        )

    @rule(administration=administrations, items=answers)
    def correct_a_questionnaire(self, administration, items):
        correction_create(
            administration=Administration.objects.get(pk=administration.pk),
            new_answers=items,
            reason="misread",
            user=self.clinician,
        )

    @rule(who=st.integers(0, 1), days=st.integers(-6, 6), items=full_answers)
    def import_a_file(self, who, days, items):
        client = self.client(who)
        header = "client_code,instrument,administered_on," + ",".join(
            f"item_{n}" for n in range(1, SCS.item_count + 1)
        )
        on = (BASE.date() + dt.timedelta(days=days)).isoformat()
        row = f"{client.code},scs,{on}," + ",".join(str(items[n]) for n in sorted(items))
        report = validate(self.clinic, f"{header}\n{row}\n".encode())
        assert not report.file_error, report.file_error
        imported = import_valid(report, actor=self.clinician)
        assert imported == 1 or "already in the record" in str(report.problems)

    @rule(who=st.integers(0, 1), swap=st.booleans())
    def change_the_care_team(self, who, swap):
        client = self.client(who)
        primary, other = (
            (self.colleague, self.clinician) if swap else (self.clinician, self.colleague)
        )
        clinic_services.client_care_team_set(
            actor=self.clinician,
            client=client,
            expected_version=client.version,
            primary=primary,
            others=[other],
        )

    @rule(zone=st.sampled_from(ZONES), now=st.integers(0, 5))
    def move_the_clinic(self, zone, now):
        if now == 0:  # rarely: a move rebuilds every projection of the clinic
            organisation_time_zone_set(organisation=self.clinic, time_zone=zone)

    @invariant()
    def every_projection_matches_the_raw_rows(self):
        if not hasattr(self, "clinic"):
            return
        found = differences([client.pk for client in self.clients])
        assert found == [], "\n".join(map(str, found[:10]))


Projections.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.django_db
def test_random_writes_leave_every_projection_equal_to_its_raw_rows():
    Projections.TestCase().runTest()
