"""Password rules beyond Django's own (settings.AUTH_PASSWORD_VALIDATORS)."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class UsernameNotInPasswordValidator:
    """Refuse a password that contains the login name, in any letter case.

    Django's UserAttributeSimilarityValidator compares the whole password with the name, so
    "drewdrew1" passes it for "drew". Login names shorter than `min_username_length` are not
    checked: two letters turn up by chance inside almost any passphrase.
    """

    def __init__(self, min_username_length: int = 3):
        self.min_username_length = min_username_length

    def validate(self, password: str, user=None) -> None:
        username = (getattr(user, "username", "") or "").casefold()
        if len(username) >= self.min_username_length and username in password.casefold():
            raise ValidationError(
                "This password contains your login name. Choose one that does not.",
                code="password_contains_username",
            )

    def get_help_text(self) -> str:
        return "Your password cannot contain your login name."
