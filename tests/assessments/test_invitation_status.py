"""What staff read about a scheduled questionnaire is worked out from stored facts (pure, no
database): the steps in the order they happened, the last one its status."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from assessments.invitations import (
    EmailFacts,
    InvitationFacts,
    invitation_status,
    invitation_steps,
    link_expiry,
    reminder_due_at,
    reminder_plan_problem,
)

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
SENT = EmailFacts("sent", T0 + H, "2.0.0 Ok")


def steps(facts: InvitationFacts, now=T0 + 100 * H) -> list[str]:
    return [step.label for step in invitation_steps(facts, now)]


def test_an_email_waiting_in_the_outbox_is_scheduled():
    facts = InvitationFacts(T0, email=EmailFacts("queued"))
    assert steps(facts) == ["scheduled"]
    assert invitation_status(InvitationFacts(T0, email=EmailFacts("sending")), T0).status == (
        "scheduled"
    )


def test_no_email_could_go_says_why():
    assert steps(InvitationFacts(T0, not_delivered="no email address")) == [
        "scheduled",
        "not delivered: no email address",
    ]


def test_a_refused_or_cancelled_email_is_failed_with_the_reason():
    refused = InvitationFacts(T0, email=EmailFacts("failed", None, "5.1.1 No such mailbox"))
    assert steps(refused) == ["scheduled", "failed: 5.1.1 No such mailbox"]
    cancelled = InvitationFacts(T0, email=EmailFacts("cancelled", None, "Not sent: unsubscribed"))
    assert invitation_status(cancelled, T0).label == "failed: Not sent: unsubscribed"


def test_steps_come_in_the_order_they_happened_and_completion_ends_them():
    facts = InvitationFacts(
        T0,
        email=SENT,
        opened_at=T0 + 2 * H,
        reminders_queued=1,
        last_reminder=EmailFacts("sent", T0 + 48 * H),
        completed_at=T0 + 50 * H,
        expires_at=T0 + 96 * H,
    )
    assert steps(facts) == ["scheduled", "sent", "opened", "reminded", "completed"]
    assert invitation_steps(facts, T0)[-1].at == T0 + 50 * H


def test_an_open_link_past_its_expiry_is_expired():
    facts = InvitationFacts(T0, email=SENT, expires_at=T0 + 96 * H)
    assert invitation_status(facts, T0 + 95 * H).status == "sent"
    assert invitation_status(facts, T0 + 96 * H).status == "expired"


def test_several_reminders_are_counted_and_a_refused_one_says_so():
    many = InvitationFacts(
        T0, email=SENT, reminders_queued=3, last_reminder=EmailFacts("sent", T0 + 72 * H)
    )
    assert steps(many, T0 + 73 * H)[-1] == "reminded: 3 reminders"
    refused = InvitationFacts(
        T0, email=SENT, reminders_queued=1, last_reminder=EmailFacts("failed", None, "4.2.2 Full")
    )
    assert steps(refused, T0 + 50 * H)[-1] == "reminded: not sent (4.2.2 Full)"


def test_a_link_keeps_the_local_time_across_both_clock_changes():
    london = ZoneInfo("Europe/London")
    spring = link_expiry(dt.datetime(2026, 3, 27, 9, 0, tzinfo=dt.UTC), 4, london)
    assert spring.astimezone(london).replace(tzinfo=None) == dt.datetime(2026, 3, 31, 9, 0)
    autumn = link_expiry(dt.datetime(2026, 10, 23, 8, 0, tzinfo=dt.UTC), 4, london)
    assert autumn.astimezone(london).replace(tzinfo=None) == dt.datetime(2026, 10, 27, 9, 0)


def test_reminders_fall_due_a_period_apart_from_the_email():
    assert reminder_due_at(T0, 2, 1) == T0 + dt.timedelta(days=2)
    assert reminder_due_at(T0, 2, 3) == T0 + dt.timedelta(days=6)


def test_a_reminder_plan_must_end_while_the_link_opens():
    assert reminder_plan_problem(1, 2, 4) == ""
    assert reminder_plan_problem(0, 14, 1) == ""
    assert "day 4" in reminder_plan_problem(2, 2, 4)
    assert "day 9" in reminder_plan_problem(3, 3, 7)
