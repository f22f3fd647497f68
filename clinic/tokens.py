"""One-time tokens for password-reset links.

Django's token (bound to the password hash and last login, so it works once) under its own salt,
so an invitation link cannot serve as a reset link or the other way round, and valid for
SELFKIND_RESET_LINK_SECONDS (an hour) rather than the week an invitation has.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.http import base36_to_int


class ResetTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "selfkind.password_reset"

    def check_token(self, user, token) -> bool:
        if not super().check_token(user, token):
            return False
        try:
            made_at = base36_to_int(token.partition("-")[0])
        except ValueError:
            return False
        return self._num_seconds(self._now()) - made_at <= settings.SELFKIND_RESET_LINK_SECONDS


reset_token_generator = ResetTokenGenerator()
