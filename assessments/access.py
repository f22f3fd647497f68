"""The only way to load assessment data for a user (joins through clinic.access scopes).

Anything outside the user's scope answers 404, exactly like a record that does not exist.
"""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone

from assessments.models import Administration, OneTimeLink, hash_token
from clinic.access import clients_for, portal_client_for


def administrations_for(user):
    """Administrations of the clients a staff user may see."""
    return Administration.objects.for_clients(clients_for(user))


def administration_for(user, pk: int) -> Administration:
    """One administration of a client in the staff user's scope, else 404."""
    try:
        return (
            administrations_for(user)
            .select_related("client", "client__organisation", "score", "entered_by")
            .get(pk=pk)
        )
    except (Administration.DoesNotExist, ValueError, TypeError):
        raise Http404("No such assessment.") from None


def portal_administration_for(user, pk: int) -> Administration:
    """One FINAL administration of the client user's own record, else 404."""
    client = portal_client_for(user)
    try:
        return Administration.objects.select_related("client", "score").get(
            pk=pk, client=client, status="final"
        )
    except (Administration.DoesNotExist, ValueError, TypeError):
        raise Http404("No such assessment.") from None


def link_for(user, pk: int) -> OneTimeLink:
    """A one-time link of a client in the staff user's scope, else 404."""
    try:
        return OneTimeLink.objects.select_related("client").get(pk=pk, client__in=clients_for(user))
    except (OneTimeLink.DoesNotExist, ValueError, TypeError):
        raise Http404("No such link.") from None


def open_link_for_token(token: str) -> OneTimeLink:
    """The open (unused, unexpired) one-time link for this token, else 404.

    Expired, used, unknown and tampered tokens all answer the same 404, and so does the link of
    a discharged client (their portal is read-only; it opens again if they are reactivated
    before it expires).
    """
    if not token or len(token) > 200:
        raise Http404("This link is not valid.")
    try:
        link = OneTimeLink.objects.select_related(
            "client", "client__organisation", "administration"
        ).get(token_hash=hash_token(token))
    except OneTimeLink.DoesNotExist:
        raise Http404("This link is not valid.") from None
    if not link.is_open(timezone.now()) or link.client.portal_is_read_only:
        raise Http404("This link is not valid.")
    return link


def link_for_known_token(token: str) -> OneTimeLink:
    """The one-time link of this token whatever its state (used, expired, revoked), else 404:
    for its crisis resources page, which shows only the clinic's crisis contacts and stays
    reachable after the questionnaire is sent."""
    if not token or len(token) > 200:
        raise Http404("This link is not valid.")
    try:
        return OneTimeLink.objects.select_related("client").get(token_hash=hash_token(token))
    except OneTimeLink.DoesNotExist:
        raise Http404("This link is not valid.") from None
