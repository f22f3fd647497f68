"""The client record's timeline, filled by other apps without clinic importing them.

An app registers a provider in its AppConfig.ready():

    from clinic.timeline import register_timeline_provider
    register_timeline_provider(my_provider)

A provider takes (client, user) and returns TimelineItems; it must run a bounded number of
queries whatever the amount of data (limit what it returns).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clinic.models import Client, User


@dataclass(frozen=True)
class TimelineItem:
    when: datetime
    kind: str  # short label, e.g. "Assessment", "Inner-critic log"
    title: str
    url: str = ""
    summary: str = ""


TimelineProvider = Callable[["Client", "User"], list[TimelineItem]]
_providers: list[TimelineProvider] = []


def register_timeline_provider(provider: TimelineProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def timeline_for(client: Client, user: User, limit: int = 30) -> list[TimelineItem]:
    items: list[TimelineItem] = []
    for provider in _providers:
        items.extend(provider(client, user))
    items.sort(key=lambda item: item.when, reverse=True)
    return items[:limit]


@dataclass(frozen=True)
class NavLink:
    label: str
    url_name: str  # reversed with the client's id for client links, without args for portal


_client_links: list[NavLink] = []
_portal_links: list[NavLink] = []
_settings_links: list[NavLink] = []


def register_client_link(label: str, url_name: str) -> None:
    """A link shown on the client detail page, reversed with client_id=<client.pk>."""
    link = NavLink(label, url_name)
    if link not in _client_links:
        _client_links.append(link)


def register_portal_link(label: str, url_name: str) -> None:
    """A link shown on the client portal home page, reversed without arguments."""
    link = NavLink(label, url_name)
    if link not in _portal_links:
        _portal_links.append(link)


def register_settings_link(label: str, url_name: str) -> None:
    """A link on the clinic settings page (clinic admins), reversed without arguments."""
    link = NavLink(label, url_name)
    if link not in _settings_links:
        _settings_links.append(link)


def settings_links() -> list[NavLink]:
    return list(_settings_links)


def client_links() -> list[NavLink]:
    return list(_client_links)


def portal_links() -> list[NavLink]:
    return list(_portal_links)
