"""What happened to a scheduled questionnaire, worked out when a page is read: pure functions
over plain data (no ORM, no request).

An invitation stores only that it was made, and why no email could go if none could; every
later step is read from the rows it points at (the outbox email and the mail server's answer,
the last reminder's email, the first view of the link's page in the audit trail, the link's use
and expiry), so the status shown is never a copy that could disagree with them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

SCHEDULED = "scheduled"
NOT_DELIVERED = "not delivered"
SENT = "sent"
REMINDED = "reminded"
OPENED = "opened"
COMPLETED = "completed"
EXPIRED = "expired"
FAILED = "failed"

# The outbox's statuses (clinic.models.EmailStatus), as plain text.
EMAIL_SENT = "sent"
EMAIL_NOT_SENT = ("failed", "cancelled")


@dataclass(frozen=True)
class EmailFacts:
    """One outbox email: its status, when the mail server accepted it, and its answer."""

    status: str
    sent_at: dt.datetime | None = None
    reply: str = ""


@dataclass(frozen=True)
class InvitationFacts:
    scheduled_at: dt.datetime
    not_delivered: str = ""
    email: EmailFacts | None = None
    reminders_queued: int = 0
    last_reminder: EmailFacts | None = None
    opened_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None


@dataclass(frozen=True)
class Step:
    status: str
    at: dt.datetime | None = None
    detail: str = ""

    @property
    def label(self) -> str:
        return f"{self.status}: {self.detail}" if self.detail else self.status


def invitation_steps(facts: InvitationFacts, now: dt.datetime) -> list[Step]:
    """Each step the invitation went through, in the order they happened; the last one is its
    status. Completed, expired, failed and not delivered end it."""
    scheduled = Step(SCHEDULED, facts.scheduled_at)
    email = facts.email
    if email is None:
        if facts.not_delivered:
            return [scheduled, Step(NOT_DELIVERED, facts.scheduled_at, facts.not_delivered)]
        return [scheduled]
    if email.status in EMAIL_NOT_SENT:
        return [scheduled, Step(FAILED, None, email.reply or "the mail server gave no answer")]
    if email.status != EMAIL_SENT:
        return [scheduled]  # queued, or being sent
    timed = [Step(SENT, email.sent_at or facts.scheduled_at)]
    reminder = facts.last_reminder
    if reminder is not None and reminder.status == EMAIL_SENT and reminder.sent_at is not None:
        times = f"{facts.reminders_queued} reminders" if facts.reminders_queued > 1 else ""
        timed.append(Step(REMINDED, reminder.sent_at, times))
    elif reminder is not None and reminder.status in EMAIL_NOT_SENT:
        timed.append(Step(REMINDED, None, f"not sent ({reminder.reply or 'no answer'})"))
    if facts.opened_at is not None:
        timed.append(Step(OPENED, facts.opened_at))
    timed.sort(key=lambda step: step.at or now)
    if facts.completed_at is not None:
        timed.append(Step(COMPLETED, facts.completed_at))
    elif facts.expires_at is not None and facts.expires_at <= now:
        timed.append(Step(EXPIRED, facts.expires_at))
    return [scheduled, *timed]


def invitation_status(facts: InvitationFacts, now: dt.datetime) -> Step:
    return invitation_steps(facts, now)[-1]


def reminder_due_at(sent_at: dt.datetime, remind_after_days: int, number: int) -> dt.datetime:
    """When reminder `number` (1, 2, 3) falls due: that many periods after the email was sent
    (in absolute time; the day count is what the clinic chose)."""
    return sent_at + dt.timedelta(days=remind_after_days * number)


def link_expiry(now: dt.datetime, valid_days: int, tz: dt.tzinfo) -> dt.datetime:
    """The same clinic-local wall-clock time `valid_days` later, across clock changes too (an
    email sent at 09:00 before the clocks change opens until 09:00 local)."""
    local = now.astimezone(tz)
    return (local + dt.timedelta(days=valid_days)).astimezone(dt.UTC)


def reminder_plan_problem(count: int, after_days: int, valid_days: int) -> str:
    """Why a clinic's reminder plan cannot work with its link validity ('' if it can): the
    last reminder must come while the link still opens."""
    if count and count * after_days >= valid_days:
        return (
            f"The last reminder would go on day {count * after_days}, when the link (valid "
            f"{valid_days} days) no longer opens: send fewer reminders, remind sooner, or keep "
            "links valid longer."
        )
    return ""
