"""Login lockouts beyond one username: django-axes with a second, higher limit per address.

axes records each failure under the lockout parameters (settings.AXES_LOCKOUT_PARAMETERS:
username with address, and address alone) and compares one number, the most failures under
any of them, with one limit. Address alone always counts the most, so on its own that would
lock an address at the per-username limit. This handler keeps axes' records and its checks
and changes only how the number is read:

- a username from one address is locked after AXES_FAILURE_LIMIT failures (as before);
- an address is locked for every username after SELFKIND_ADDRESS_FAILURE_LIMIT failures across
  usernames (password spraying), reported to axes as reaching its limit;
- a successful sign-in clears that username's failures from that address only: signing in to
  one's own account must not wipe the address's count of a spray.
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


class LockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        by_username, by_address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if by_address >= settings.SELFKIND_ADDRESS_FAILURE_LIMIT:
            return max(by_username, settings.AXES_FAILURE_LIMIT)
        return by_username

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        deleted, _ = AccessAttempt.objects.filter(
            username=get_client_username(request, credentials),
            ip_address=request.axes_ip_address,
        ).delete()
        return deleted
