"""The only way to load client-scoped data for a user.

Every view that touches a client goes through these functions. A record outside the user's
scope answers 404, exactly as a record that does not exist: no hint that it is there.

Scope:
- clinic admin: every client of their organisation;
- clinician: clients whose primary clinician they are or whose care team includes them;
- client user: only their own record (through `portal_client_for`), read-only once the
  record is discharged: every portal write passes `portal_writable`, which answers 403 with
  an explanation (PortalReadOnly); reading and the client's own export stay available;
- anyone else (anonymous, superuser without organisation): nothing.

Safety signals widen one thing, on purpose: a clinic's safety contacts (staff a clinic admin
marks as such) may open every safety signal of their clinic (`safety_signals_for`), so someone
can act on one whoever the client's clinician is; the client's other records stay in scope as
above.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404

from clinic.models import Client, ClientQuerySet, SafetySignal

if TYPE_CHECKING:
    from clinic.models import User


def clients_for(user: User) -> ClientQuerySet:
    """Client records a staff user may see. Empty for everyone else."""
    if not user.is_authenticated or not getattr(user, "is_clinic_staff", False):
        return Client.objects.none()
    scoped = Client.objects.in_organisation(user.organisation_id)
    if user.is_clinic_admin:
        return scoped
    return scoped.on_care_team_of(user)


def client_for(
    user: User,
    client_id: int,
    *,
    select_related: Iterable[str] = (),
    prefetch_related: Iterable[str | Prefetch] = (),
) -> Client:
    """One client record a staff user may see, else 404.

    Callers may ask for related rows to be loaded in the same few queries.
    """
    scoped = clients_for(user)
    if select_related:
        scoped = scoped.select_related(*select_related)
    if prefetch_related:
        scoped = scoped.prefetch_related(*prefetch_related)
    try:
        return scoped.get(pk=client_id)
    except (Client.DoesNotExist, ValueError, TypeError):
        raise Http404("No such client.") from None


def safety_signals_for(user: User):
    """Safety signals a staff user may open: those of the clients in their scope, and every one
    of their clinic when they are a clinic admin or one of its safety contacts."""
    if not user.is_authenticated or not getattr(user, "is_clinic_staff", False):
        return SafetySignal.objects.none()
    signals = SafetySignal.objects.filter(organisation_id=user.organisation_id)
    if user.is_clinic_admin or user.is_safety_contact:
        return signals
    return signals.filter(client__in=clients_for(user))


def safety_signal_for(user: User, pk: int) -> SafetySignal:
    """One safety signal the staff user may open (with its client and their clinician), else
    404."""
    try:
        return (
            safety_signals_for(user)
            .select_related("client", "client__primary_clinician", "raised_by", "acknowledged_by")
            .get(pk=pk)
        )
    except (SafetySignal.DoesNotExist, ValueError, TypeError):
        raise Http404("No such safety flag.") from None


class PortalReadOnly(PermissionDenied):
    """A write to the portal of a discharged client. Answered with a 403 page that says why
    and where their own data can still be downloaded (clinic.views.permission_denied)."""

    def __init__(self, client: Client):
        self.discharge_date = client.discharge_date
        super().__init__("This portal is read-only since the client's discharge.")


def portal_writable(client: Client) -> Client:
    """The one check every client-portal write passes: after discharge the portal is
    read-only (PortalReadOnly, 403). Reactivation makes it writable again."""
    if client.portal_is_read_only:
        raise PortalReadOnly(client)
    return client


def portal_client_for(user: User, *, write: bool = False) -> Client:
    """A client user's own record, else 404. Clients see only their own data.

    `write=True` for a request that writes (a POST): refused with PortalReadOnly once the
    record is discharged.
    """
    if not user.is_authenticated or not getattr(user, "is_client_user", False):
        raise Http404("No client record for this login.")
    try:
        client = Client.objects.get(user=user, organisation_id=user.organisation_id)
    except Client.DoesNotExist:
        raise Http404("No client record for this login.") from None
    # The same clinic row as the user's, which the time-zone middleware has already read on
    # every signed-in request: joined again it cost each portal page 0.1 ms.
    client.organisation = user.organisation
    return portal_writable(client) if write else client


def staff_required(view: Callable) -> Callable:
    """Clinic staff only (clinic admins and clinicians); others get 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not getattr(request.user, "is_clinic_staff", False):
            raise PermissionDenied("Clinic staff only.")
        return view(request, *args, **kwargs)

    return wrapper


def clinic_admin_required(view: Callable) -> Callable:
    """Clinic admins only; others get 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not getattr(request.user, "is_clinic_admin", False):
            raise PermissionDenied("Clinic admins only.")
        return view(request, *args, **kwargs)

    return wrapper


def client_user_required(view: Callable) -> Callable:
    """Client portal users only; others get 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not getattr(request.user, "is_client_user", False):
            raise PermissionDenied("Client portal only.")
        return view(request, *args, **kwargs)

    return wrapper
