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
    # False for what has a day but no time of day (a questionnaire's date, a week's summary):
    # the timeline then shows the date alone, never a made-up "00:00" or "12:00".
    timed: bool = True


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


class LinkRegistry:
    """Links other apps contribute to a clinic page, in registration order, each once."""

    def __init__(self) -> None:
        self._links: list[NavLink] = []

    def register(self, label: str, url_name: str) -> None:
        link = NavLink(label, url_name)
        if link not in self._links:
            self._links.append(link)

    def links(self) -> list[NavLink]:
        return list(self._links)


# Client detail page: reversed with client_id=<client.pk>.
CLIENT_LINKS = LinkRegistry()
# Client portal home: reversed without arguments.
PORTAL_LINKS = LinkRegistry()
# The client's own data to download (shown on the portal home, also once it is read-only):
# reversed without arguments.
PORTAL_DOWNLOADS = LinkRegistry()
# Clinic settings page (clinic admins): reversed without arguments.
SETTINGS_LINKS = LinkRegistry()

register_client_link = CLIENT_LINKS.register
register_portal_link = PORTAL_LINKS.register
register_portal_download = PORTAL_DOWNLOADS.register
register_settings_link = SETTINGS_LINKS.register
client_links = CLIENT_LINKS.links
portal_links = PORTAL_LINKS.links
portal_downloads = PORTAL_DOWNLOADS.links
settings_links = SETTINGS_LINKS.links
