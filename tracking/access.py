"""The only way to reach tracking rows. Each joins through clinic.access, so a row outside the
user's scope answers 404 (or is simply absent), exactly like a row that does not exist.

- Client users reach their own rows (`own_*`), words included; a write to one of them passes
  clinic.access.portal_writable (read-only after discharge).
- Staff reach their caseload's rows (`staff_*`, scoped by clients_for inside the same SQL).
  Staff reads of inner-critic entries go through tracking.selectors.redacted_entries, which
  never loads the words of a private entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet
from django.http import Http404

from clinic.access import client_for, clients_for, portal_writable
from tracking.models import InnerCriticEntry, JournalEntry, PracticeSession, Reminder

if TYPE_CHECKING:
    from clinic.models import Client, User


def _own(model: type[Model], user: User) -> QuerySet:
    if not user.is_authenticated or not getattr(user, "is_client_user", False):
        return model.objects.none()
    return model.objects.filter(client__user=user, client__organisation_id=user.organisation_id)


def own_entries(user: User) -> QuerySet[InnerCriticEntry]:
    """A client user's own inner-critic entries (words included)."""
    return _own(InnerCriticEntry, user)


def own_entry(user: User, entry_id: int, *, write: bool = False) -> InnerCriticEntry:
    """One of the client user's own entries (with its client record), else 404.

    `write=True` for a request that changes or deletes it: refused (PortalReadOnly, 403) once
    the client is discharged.
    """
    try:
        entry = own_entries(user).select_related("trigger", "client__organisation").get(pk=entry_id)
    except (InnerCriticEntry.DoesNotExist, ValueError, TypeError):
        raise Http404("No such entry.") from None
    if write:
        portal_writable(entry.client)
    return entry


def own_practice(user: User) -> QuerySet[PracticeSession]:
    return _own(PracticeSession, user)


def own_journal(user: User) -> QuerySet[JournalEntry]:
    return _own(JournalEntry, user)


def own_reminders(user: User) -> QuerySet[Reminder]:
    return _own(Reminder, user)


def own_record(user: User, source: str, record_id: int) -> Model:
    """One of the client user's own entries, practices or journal entries (`source`: "entry",
    "practice" or "journal"), else 404."""
    rows = {"entry": own_entries, "practice": own_practice, "journal": own_journal}[source](user)
    try:
        return rows.get(pk=record_id)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404("No such record.") from None


def own_practice_session(user: User, practice_id: int) -> PracticeSession:
    """One of the client user's own practice sessions (with its client record), else 404."""
    try:
        return own_practice(user).select_related("client__organisation").get(pk=practice_id)
    except (PracticeSession.DoesNotExist, ValueError, TypeError):
        raise Http404("No such practice.") from None


def staff_client(user: User, client_id: int) -> Client:
    """A client on the staff user's caseload, with its clinic, else 404."""
    return client_for(user, client_id, select_related=("organisation",))


def _staff(model: type[Model], user: User, client: Client) -> QuerySet:
    return model.objects.filter(client_id=client.pk, client__in=clients_for(user))


def staff_entries(user: User, client: Client) -> QuerySet[InnerCriticEntry]:
    """Entries of a client on the staff user's caseload. Never iterate this as model objects
    in a staff view: read it through tracking.selectors.redacted_entries."""
    return _staff(InnerCriticEntry, user, client)


def staff_practice(user: User, client: Client) -> QuerySet[PracticeSession]:
    return _staff(PracticeSession, user, client)


def staff_journal(user: User, client: Client) -> QuerySet[JournalEntry]:
    return _staff(JournalEntry, user, client)
