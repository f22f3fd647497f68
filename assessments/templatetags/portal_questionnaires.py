"""{% questionnaire_due client as due %}: the portal tab bar's questionnaire, when one is due."""

from __future__ import annotations

from django import template

from assessments.selectors import portal_questionnaire_due

register = template.Library()


@register.simple_tag
def questionnaire_due(client):
    """A DueQuestionnaire (label, url) for the client's portal, or None."""
    return portal_questionnaire_due(client) if client is not None else None
