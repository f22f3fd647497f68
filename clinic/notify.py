"""Notifications of the safety pathway: who is told, and what the email may say.

Every safety notification passes through `safety_notice_enqueue`, called inside the transaction
that raises the signal. An email carries the client's initials and a link, nothing else: no
clinical content, nothing the client wrote, not even which kind of record raised the signal.

Delivery belongs to the outbox and its queue (the delivery work): for now this function composes
the notices and records nothing; at merge it writes one outbox row per notice in the same
transaction, and the queue sends each once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.urls import reverse

if TYPE_CHECKING:
    from clinic.models import Client, SafetySignal, User

SUBJECT = "Selfkind: a safety flag needs your attention"


@dataclass(frozen=True)
class Notice:
    """One email to one member of staff."""

    recipient_id: int
    to: str
    subject: str
    body: str


def initials(name: str) -> str:
    """ "Sam R." -> "S.R."; the client's name never goes into an email in full."""
    letters = [part[0].upper() for part in name.replace(".", " ").split() if part[:1].isalpha()]
    return ".".join(letters[:3]) + "." if letters else "?"


def signal_path(signal: SafetySignal) -> str:
    return reverse("clinic:safety_signal", kwargs={"pk": signal.pk})


def safety_notice(recipient: User, client: Client, signal: SafetySignal) -> Notice:
    """The email for one recipient: initials and a link (a path: the outbox makes it absolute
    with the site's address)."""
    body = (
        f"A safety flag was raised for a client with the initials {initials(client.display_name)}."
        f"\n\nOpen it in Selfkind (you will be asked to log in): {signal_path(signal)}\n\n"
        "Selfkind sends no details by email."
    )
    return Notice(recipient.pk, recipient.email, SUBJECT, body)


def safety_notice_enqueue(
    recipients: Iterable[User], client: Client, signal: SafetySignal
) -> list[Notice]:
    """The one place safety notifications go through, inside the raising transaction: one notice
    per recipient with an email address. Records nothing yet (see the module's docstring)."""
    return [safety_notice(user, client, signal) for user in recipients if user.email]
