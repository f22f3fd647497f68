"""Tuned reads for clinic pages. Each runs a fixed number of queries whatever the data size."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from clinic.access import client_for, clients_for
from clinic.models import (
    AuditEvent,
    CareTeamMember,
    Client,
    ClientStatus,
    CrisisContact,
    OutboxEmail,
    Programme,
    Role,
    Tag,
    User,
)
from clinic.validation import client_code_key

SORTS = {
    "code": ("code",),
    "-code": ("-code",),
    "name": ("display_name", "code"),
    "-name": ("-display_name", "code"),
    "intake": ("intake_date", "code"),
    "-intake": ("-intake_date", "code"),
    "updated": ("updated_at", "code"),
    "-updated": ("-updated_at", "code"),
    "status": ("status", "code"),
}

STATUS_FILTERS = {
    "open": [ClientStatus.ACTIVE, ClientStatus.ON_HOLD],
    "active": [ClientStatus.ACTIVE],
    "on_hold": [ClientStatus.ON_HOLD],
    "discharged": [ClientStatus.DISCHARGED],
    "all": None,
}


@dataclass(frozen=True)
class CaseloadFilters:
    q: str = ""
    status: str = "open"
    tag: Tag | None = None
    programme: Programme | None = None
    clinician: User | None = None
    sort: str = "code"


def caseload_for(user: User, filters: CaseloadFilters) -> QuerySet[Client]:
    """The user's caseload (a clinic admin's is the whole clinic), filtered and sorted."""
    clients = clients_for(user)
    clients = clients.matching(filters.q)
    statuses = STATUS_FILTERS.get(filters.status, STATUS_FILTERS["open"])
    if statuses is not None:
        clients = clients.filter(status__in=statuses)
    if filters.tag is not None:
        clients = clients.filter(tags=filters.tag)
    if filters.programme is not None:
        clients = clients.filter(programmes=filters.programme)
    if filters.clinician is not None:
        clients = clients.on_care_team_of(filters.clinician)
    return (
        clients.select_related("primary_clinician")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
        .order_by(*SORTS.get(filters.sort, SORTS["code"]))
    )


def clients_by_code(organisation_id: int) -> dict[str, Client]:
    """The clinic's clients keyed by clinic.validation.client_code_key(code), in one query: an
    import (or any lookup by code) looks a typed code up with client_code_key(typed), so
    ZOË-01 in NFD, in lower case or with spaces around it finds ZOË-01, and a code holding an
    invisible or text-direction character is refused rather than matched bytewise."""
    clients = Client.objects.filter(organisation_id=organisation_id).only(
        "pk", "code", "organisation_id"
    )
    return {client_code_key(client.code): client for client in clients}


def client_detail_for(user: User, client_id: int) -> Client:
    """A client with everything its detail page shows, loaded in a fixed number of queries."""
    return client_for(
        user,
        client_id,
        select_related=["primary_clinician", "organisation", "user"],
        prefetch_related=[
            Prefetch("tags", queryset=Tag.objects.order_by("name")),
            Prefetch("programmes", queryset=Programme.objects.order_by("name")),
            Prefetch(
                "care_team",
                queryset=CareTeamMember.objects.select_related("clinician").order_by(
                    "clinician__last_name", "clinician__username"
                ),
            ),
        ],
    )


def staff_of(organisation_id: int, *, include_inactive: bool = False) -> QuerySet[User]:
    """Clinic staff of an organisation, e.g. for choices in forms."""
    staff = User.objects.filter(
        organisation_id=organisation_id, role__in=[Role.CLINICIAN, Role.CLINIC_ADMIN]
    )
    if not include_inactive:
        staff = staff.filter(is_active=True)
    return staff.order_by("last_name", "first_name", "username")


def audit_events_for(client: Client, limit: int = 200) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(client=client).select_related("actor")[:limit]


def emails_of(organisation_id: int) -> QuerySet[OutboxEmail]:
    """A clinic's emails, newest first, without their bodies (one-time links live there)."""
    return (
        OutboxEmail.objects.filter(organisation_id=organisation_id)
        .defer("body")
        .order_by("-created_at", "-id")
    )


def crisis_contacts_of(organisation_id: int) -> list[CrisisContact]:
    """The clinic's crisis contacts in the order it chose: one query."""
    return list(CrisisContact.objects.filter(organisation_id=organisation_id))
