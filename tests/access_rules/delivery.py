"""Email delivery: password reset, one-click unsubscribe, the clinic's delivery log, and the
client's reminder settings."""

from clinic.models import EmailKind, OutboxEmail
from tests.access_rules.base import CLIENT_PAGE, CLINIC_ADMIN_PAGE, PUBLIC_PAGE, Rule


def a_reminder_sent_to_the_client(world) -> dict:
    email = OutboxEmail.objects.create(
        key=f"access-matrix:{world.client_record.pk}",
        kind=EmailKind.REMINDER,
        to="sam@example.org",
        organisation=world.clinic,
        client=world.client_record,
        subject="A message from Riverside Counseling",
    )
    return {"ref": email.ref}


RULES = {
    # Forgotten passwords: public, and the same for anyone logged in.
    "password_reset": Rule(PUBLIC_PAGE),
    "password_reset_done": Rule(PUBLIC_PAGE),
    "password_reset_complete": Rule(PUBLIC_PAGE),
    "password_reset_confirm": Rule(
        # A forged link shows "this link cannot be used" to everyone; see test_password_reset.
        PUBLIC_PAGE,
        kwargs=lambda world: {"uidb64": "MQ", "token": "forged-token"},
    ),
    # The link in a reminder needs no login: its unguessable ref is the credential.
    "unsubscribe": Rule(PUBLIC_PAGE, kwargs=a_reminder_sent_to_the_client),
    "clinic:email_log": Rule(CLINIC_ADMIN_PAGE),
    "tracking:my_reminders": Rule(CLIENT_PAGE),
}
