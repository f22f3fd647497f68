"""Session engine (settings.SESSION_ENGINE): Django's database sessions, plus the user's id
in its own indexed column (clinic.models.UserSession), so that every session of one user can
be ended at once, e.g. when a client is discharged (clinic.services.user_sessions_end)."""

from __future__ import annotations

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    @classmethod
    def get_model_class(cls):
        from clinic.models import UserSession

        return UserSession

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        try:
            session.user_id = int(data.get(SESSION_KEY))
        except (TypeError, ValueError):
            session.user_id = None
        return session
