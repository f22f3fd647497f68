"""Notifications of the safety pathway: who is told, and what the email may say.

Every safety notification passes through `safety_notice_enqueue`, called inside the transaction
that raises the signal: one outbox email per recipient (clinic.outbox), sent once by the queue
after the raising transaction commits. An email carries the client's initials and a link,
nothing else: no clinical content, nothing the client wrote, not even which kind of record
raised the signal.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.urls import reverse

from clinic.models import EmailKind, OutboxEmail
from clinic.outbox import absolute_url, email_enqueue

if TYPE_CHECKING:
    from clinic.models import Client, SafetySignal, User


def initials(name: str) -> str:
    """ "Sam R." -> "S.R."; the client's name never goes into an email in full."""
    letters = [part[0].upper() for part in name.replace(".", " ").split() if part[:1].isalpha()]
    return ".".join(letters[:3]) + "." if letters else "?"


def signal_path(signal: SafetySignal) -> str:
    return reverse("clinic:safety_signal", kwargs={"pk": signal.pk})


def safety_notice_enqueue(
    recipients: Iterable[User], client: Client, signal: SafetySignal
) -> list[OutboxEmail]:
    """The one place safety notifications go through, inside the raising transaction: one
    outbox email per recipient with an address, keyed by signal and recipient (a second tap on
    the same open signal sends nothing new). Returns the emails queued."""
    queued = []
    for user in recipients:
        if not user.email:
            continue
        email = email_enqueue(
            key=f"safety:{signal.pk}:{user.pk}",
            kind=EmailKind.SAFETY,
            to=user.email,
            template="safety_notice",
            context={
                "initials": initials(client.display_name),
                "link": absolute_url(signal_path(signal)),
            },
            organisation=client.organisation,
            client=client,
            user=user,
        )
        if email is not None:
            queued.append(email)
    return queued
