"""A safety flag end to end, with nothing stood in for: the client taps "this brought up
something difficult" in the portal, and a real consumer process sends one email to the primary
clinician and one to the clinic's safety contact through a real SMTP server. What arrives
carries the client's initials and a link to the flag, and nothing of what the client wrote, nor
which kind of record raised it; the link opens the flag for the clinician who received it."""

from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from clinic.models import EmailKind, OutboxEmail, SafetySignal
from tests.delivery.harness import Consumer, every_email_sent, shared_queue  # noqa: F401
from tests.factories import write_entry
from tests.mailserver import Inbox, smtp_server, wait_until

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WAIT = 60  # seconds: a bound on waiting on a loaded machine, never a measurement
WORDS = "I am a burden to everyone."


def test_a_tap_on_something_difficult_emails_the_clinician_and_the_safety_contact_once(
    world,
    shared_queue,  # noqa: F811
    tmp_path,
):
    world.clinician.email = "alex@example.org"
    world.clinician.save()
    world.clinic_admin.email = "casey@example.org"
    world.clinic_admin.is_safety_contact = True
    world.clinic_admin.save()
    entry = write_entry(world.client_record, critic_text=WORDS, is_private=True)

    with smtp_server() as (inbox, port):
        consumer = Consumer(queue_file=shared_queue, smtp_port=port, log=tmp_path / "log")
        consumer.start()
        try:
            portal = world.browser("client")
            tap = {"source": "entry", "record": entry.pk, "contact": "yes"}
            assert portal.post(reverse("tracking:my_difficult"), tap).status_code == 302
            # A second tap on the same record adds nothing to send.
            assert portal.post(reverse("tracking:my_difficult"), tap).status_code == 302
            wait_until(lambda: len(inbox.messages) == 2, seconds=WAIT, what="two safety emails")
            wait_until(every_email_sent, seconds=WAIT, what="both emails marked sent")
        finally:
            consumer.stop()

    signal = SafetySignal.objects.get(client=world.client_record)
    # Still two once every email is marked sent: nothing came after.
    assert sorted(message["To"] for message in inbox.messages) == [
        "alex@example.org",
        "casey@example.org",
    ], consumer.output()
    reader = {"alex@example.org": "clinician", "casey@example.org": "clinic_admin"}
    assert len(set(inbox.message_ids())) == 2
    assert list(OutboxEmail.objects.values_list("kind", flat=True)) == [EmailKind.SAFETY] * 2
    for message in inbox.messages:
        assert message["Subject"] == "A message from Riverside Counseling"
        text = message.get_content()
        assert "S.R." in text
        for detail in (WORDS, "burden", "Sam", "RC-001", "entry", "contact", "difficult"):
            assert detail not in text and detail not in message["Subject"]
        (link,) = [url for url in Inbox.links(message) if "/safety/" in url]
        assert urlsplit(link).path == reverse("clinic:safety_signal", kwargs={"pk": signal.pk})
        # Each recipient opens the flag from their own email.
        assert world.browser(reader[message["To"]]).get(urlsplit(link).path).status_code == 200
