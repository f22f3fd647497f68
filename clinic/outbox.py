"""The transactional outbox: every email is a row written in the transaction that causes it.

A service calls `email_enqueue(...)` inside its own transaction; when that commits, a task sends
the row (send_outbox_email, at the end of this module, with the sweeps). If the consumer is
down, the row waits and the periodic sweep sends it.

Sending is idempotent. The sender first claims the row with one conditional UPDATE (queued and
due, or stuck in 'sending' past its lease) that only one consumer can win, on SQLite and
PostgreSQL alike; it then hands the message to the mail server with a Message-ID derived from
the row's key, and records the server's answer. A row marked sent is never sent again.

What "exactly once" can and cannot promise: if a consumer dies after the server accepted a
message but before the row is marked sent, the row stays 'sending' until its lease runs out and
is then sent again, with the same Message-ID (at least once; receiving servers and mail clients
can drop the copy by its id). Every other interruption (before the server accepted, or after
the mark) sends the message exactly once. See docs/deployment.md for the measured figure.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, on_startup
from huey.exceptions import RetryTask

from clinic.mail import deliver, mail_connection, message_id
from clinic.models import (
    UNSUBSCRIBABLE_KINDS,
    ClientStatus,
    EmailOptOut,
    EmailStatus,
    OutboxEmail,
)

if TYPE_CHECKING:
    from clinic.models import Client, Organisation, User

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# A queued row this old has missed its task (the consumer was down): the sweep sends it.
SWEEP_GRACE = dt.timedelta(seconds=30)
SWEEP_BATCH = 200


def absolute_url(path: str) -> str:
    return f"{settings.SELFKIND_BASE_URL}{path}"


def clinic_label(organisation: Organisation | None) -> str:
    return organisation.name if organisation is not None else "Selfkind"


def email_render(template: str, context: dict[str, Any]) -> tuple[str, str]:
    """Subject (one line) and plain-text body from emails/<template>_subject.txt and _body.txt."""
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    body = render_to_string(f"emails/{template}_body.txt", context).strip() + "\n"
    return subject, body


def retry_delay(attempts: int) -> dt.timedelta:
    """1, 2, 4 ... minutes after each failed attempt, at most an hour."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


# --- writes -----------------------------------------------------------------------------------


def email_enqueue(
    *,
    key: str,
    kind: str,
    to: str,
    template: str,
    context: dict[str, Any] | None = None,
    organisation: Organisation | None = None,
    client: Client | None = None,
    user: User | None = None,
) -> OutboxEmail | None:
    """Queue one email in the caller's transaction; it is sent once that commits.

    Returns None when nothing was queued: `key` was queued before (enqueueing is idempotent), or
    a reminder is addressed to someone who unsubscribed from this clinic's reminders.
    """
    address = to.strip()
    unsubscribable = kind in UNSUBSCRIBABLE_KINDS
    if unsubscribable and email_opted_out(organisation, address):
        return None
    ref = uuid.uuid4()
    subject, body = email_render(
        template,
        {
            "clinic": clinic_label(organisation),
            "unsubscribe_url": absolute_url(reverse("unsubscribe", args=[ref]))
            if unsubscribable
            else "",
            **(context or {}),
        },
    )
    try:
        with transaction.atomic():
            email = OutboxEmail.objects.create(
                key=key,
                ref=ref,
                kind=kind,
                to=address,
                organisation=organisation,
                client=client,
                user=user,
                subject=subject,
                body=body,
            )
    except IntegrityError:
        if OutboxEmail.objects.filter(key=key).exists():
            return None
        raise
    transaction.on_commit(partial(send_outbox_email, email.pk), robust=True)
    return email


def email_opted_out(organisation: Organisation | int | None, address: str) -> bool:
    if organisation is None:
        return False
    return EmailOptOut.objects.filter(
        organisation=organisation, address=address.strip().lower()
    ).exists()


def email_opt_out(*, email: OutboxEmail) -> EmailOptOut:
    """The recipient of `email` wants no more of its clinic's reminders: record it, and drop
    the reminders already queued to that address."""
    address = email.to.strip().lower()
    with transaction.atomic():
        opt_out, _ = EmailOptOut.objects.get_or_create(
            organisation_id=email.organisation_id, address=address
        )
        OutboxEmail.objects.filter(
            organisation_id=email.organisation_id,
            to__iexact=address,
            kind__in=UNSUBSCRIBABLE_KINDS,
            status=EmailStatus.QUEUED,
        ).update(status=EmailStatus.CANCELLED, body="", smtp_reply="Not sent: unsubscribed")
    return opt_out


def email_opt_in(*, organisation: Organisation, address: str) -> bool:
    """The recipient asked for reminders again (in their portal). True if they had opted out."""
    deleted, _ = EmailOptOut.objects.filter(
        organisation=organisation, address=address.strip().lower()
    ).delete()
    return bool(deleted)


# --- sending (called by the tasks) --------------------------------------------------------------


def _claimable(now: dt.datetime) -> Q:
    return Q(status=EmailStatus.QUEUED, not_before__lte=now) | Q(
        status=EmailStatus.SENDING, lease_until__lt=now
    )


def outbox_claim(email_id: int, *, now: dt.datetime) -> OutboxEmail | None:
    """Take the row for sending, or None if another consumer has it, it is not due, or it is
    done. One conditional UPDATE: of any number of concurrent claims exactly one wins."""
    lease_until = now + dt.timedelta(seconds=settings.SELFKIND_OUTBOX_LEASE_SECONDS)
    claimed = OutboxEmail.objects.filter(
        _claimable(now), pk=email_id, attempts__lt=MAX_ATTEMPTS
    ).update(status=EmailStatus.SENDING, lease_until=lease_until, attempts=F("attempts") + 1)
    if not claimed:
        return None
    return OutboxEmail.objects.select_related("organisation", "client").get(pk=email_id)


def _finish(email: OutboxEmail, status: str, **fields: Any) -> None:
    """Leave 'sending' for good; the body (it may carry a one-time link) is erased."""
    OutboxEmail.objects.filter(pk=email.pk, status=EmailStatus.SENDING).update(
        status=status, body="", lease_until=None, **fields
    )


def _not_wanted(email: OutboxEmail) -> str:
    """Why a reminder claimed for sending must not go out after all ('' if it may)."""
    if email.kind not in UNSUBSCRIBABLE_KINDS:
        return ""
    if email_opted_out(email.organisation_id, email.to):
        return "Not sent: unsubscribed"
    if email.client is not None and email.client.status != ClientStatus.ACTIVE:
        return "Not sent: the client is not in active care"
    return ""


def outbox_message(email: OutboxEmail) -> EmailMessage:
    headers = {"Message-ID": message_id(email.key), "Auto-Submitted": "auto-generated"}
    if email.kind in UNSUBSCRIBABLE_KINDS:
        # RFC 8058 one-click unsubscribe: mail clients POST to the link; it needs no login.
        headers["List-Unsubscribe"] = f"<{absolute_url(reverse('unsubscribe', args=[email.ref]))}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return EmailMessage(
        subject=email.subject,
        body=email.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to],
        headers=headers,
    )


def outbox_send(email_id: int, *, now: dt.datetime | None = None) -> float | None:
    """Send one queued email if this consumer wins its claim, and record the outcome.

    Returns the seconds until the next try after a transient failure (the task schedules it),
    else None.
    """
    now = now or timezone.now()
    email = outbox_claim(email_id, now=now)
    if email is None:
        return None
    reason = _not_wanted(email)
    if reason:
        _finish(email, EmailStatus.CANCELLED, smtp_reply=reason)
        return None
    with mail_connection() as connection:
        delivery = deliver(outbox_message(email), connection)
        result = {"smtp_code": delivery.code, "smtp_reply": delivery.reply}
        if delivery.accepted:  # recorded before the connection's QUIT exchange
            _finish(email, EmailStatus.SENT, sent_at=timezone.now(), **result)
    if delivery.accepted:
        logger.info("outbox email %s (%s) sent", email.pk, email.kind)
        return None
    if delivery.transient and email.attempts < MAX_ATTEMPTS:
        delay = retry_delay(email.attempts)
        OutboxEmail.objects.filter(pk=email.pk, status=EmailStatus.SENDING).update(
            status=EmailStatus.QUEUED, not_before=now + delay, lease_until=None, **result
        )
        logger.warning(
            "outbox email %s not sent (attempt %s, SMTP %s): trying again in %s",
            email.pk,
            email.attempts,
            delivery.code,
            delay,
        )
        return delay.total_seconds()
    _finish(email, EmailStatus.FAILED, **result)
    logger.error("outbox email %s failed (SMTP %s)", email.pk, delivery.code)
    return None


@dataclass(frozen=True)
class Sweep:
    sent_or_tried: int
    gave_up: int
    # The latest lease still held by some consumer: if it died, its rows are due then.
    last_lease: dt.datetime | None


def outbox_sweep(*, now: dt.datetime | None = None, limit: int = SWEEP_BATCH) -> Sweep:
    """Send what no task is sending: rows queued while the consumer was down, and rows whose
    consumer died mid-send (lease run out). Safe to run anywhere, any number of times."""
    started = timezone.now()
    now = now or started
    stale = Q(status=EmailStatus.SENDING, lease_until__lt=now)
    gave_up = OutboxEmail.objects.filter(stale, attempts__gte=MAX_ATTEMPTS).update(
        status=EmailStatus.FAILED,
        body="",
        lease_until=None,
        smtp_reply=f"Gave up after {MAX_ATTEMPTS} attempts",
    )
    due = list(
        OutboxEmail.objects.filter(
            Q(status=EmailStatus.QUEUED, not_before__lte=now - SWEEP_GRACE) | stale
        )
        .order_by("not_before", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for email_id in due:
        # Each claim's lease starts when it is taken, not when the sweep began.
        outbox_send(email_id, now=now + (timezone.now() - started))
    last_lease = OutboxEmail.objects.filter(
        status=EmailStatus.SENDING, lease_until__gte=now
    ).aggregate(last=Max("lease_until"))["last"]
    return Sweep(sent_or_tried=len(due), gave_up=gave_up, last_lease=last_lease)


# --- Tasks on the queue (run by `manage.py run_huey`; clinic.tasks imports them) -----------


@db_task()
def send_outbox_email(email_id: int) -> None:
    """Send one outbox row. After a transient failure the row says when to try again, and this
    task is scheduled for then; the sweep is the safety net if that schedule is lost."""
    retry_in = outbox_send(email_id)
    if retry_in is not None:
        raise RetryTask(delay=retry_in)


@db_task()
def sweep_outbox(follow_leases: bool = False) -> None:
    """Send rows no task is sending. `follow_leases`: also come back once the leases held now
    have run out (after a restart, rows a dead consumer was sending are due then)."""
    sweep = outbox_sweep()
    if follow_leases and sweep.last_lease is not None:
        wait = (sweep.last_lease - timezone.now()).total_seconds()
        sweep_outbox.schedule(delay=max(wait, 0) + 1)


@db_periodic_task(crontab(minute="*"))
def sweep_outbox_every_minute() -> None:
    outbox_sweep()


@on_startup()
def recover_outbox() -> None:
    """A consumer that starts picks up what a stopped one left behind, without waiting for the
    minute's sweep (each worker thread runs this; extra sweeps are harmless)."""
    sweep_outbox(follow_leases=True)
