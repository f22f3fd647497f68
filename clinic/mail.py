"""Handing one message to the mail server and reading its answer.

Django's email framework does the sending (any EMAIL_BACKEND works: SMTP in production, a file
under var/mail/ in development, memory in tests). `SMTPBackend` is Django's own SMTP backend
that also keeps the server's reply to the message (e.g. "250 2.0.0 Ok: queued as 4ZQ1"), so the
outbox can record what the server said. Nothing here touches the database.
"""

from __future__ import annotations

import contextlib
import hashlib
import smtplib
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends import smtp
from django.core.mail.backends.base import BaseEmailBackend

REPLY_LIMIT = 300


class _KeepsDataReply:
    """An smtplib connection that remembers the server's reply to the message (DATA)."""

    last_reply: tuple[int, bytes] | None = None

    def data(self, msg):
        reply = super().data(msg)
        self.last_reply = reply
        return reply


class _SMTP(_KeepsDataReply, smtplib.SMTP):
    pass


class _SMTPSSL(_KeepsDataReply, smtplib.SMTP_SSL):
    pass


class SMTPBackend(smtp.EmailBackend):
    """Django's SMTP backend; after each message `last_reply` holds the server's answer."""

    last_reply: tuple[int, bytes] | None = None

    @property
    def connection_class(self):
        return _SMTPSSL if self.use_ssl else _SMTP

    def _send(self, email_message):
        self.last_reply = None
        sent = super()._send(email_message)
        self.last_reply = getattr(self.connection, "last_reply", None)
        return sent


@dataclass(frozen=True)
class Delivery:
    """What happened to one message. `transient`: worth trying again later."""

    accepted: bool
    code: int | None
    reply: str
    transient: bool = False


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(reply.split())[:REPLY_LIMIT]


@contextlib.contextmanager
def mail_connection() -> Iterator[BaseEmailBackend]:
    """A connection of the configured backend, closed (SMTP: QUIT) when the block ends."""
    connection = get_connection(fail_silently=False)
    try:
        yield connection
    finally:
        with contextlib.suppress(Exception):
            connection.close()


def deliver(message: EmailMessage, connection: BaseEmailBackend) -> Delivery:
    """Send one message over `connection` (left open) and say what the server answered.

    The connection stays open so that the caller can record an acceptance before the QUIT
    exchange, keeping the moment between the server's acceptance and our record short.
    A 5xx answer about the recipient or the message is final; a 4xx answer, a lost connection
    or a problem on our side (login, sender address) is transient: the outbox tries again.
    """
    try:
        connection.open()
        connection.send_messages([message])
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()))
        return Delivery(False, code, _text(reply), transient=code < 500)
    except smtplib.SMTPResponseException as error:
        # Refused data is about the message; a refused login or sender is our configuration.
        final = isinstance(error, smtplib.SMTPDataError) and error.smtp_code >= 500
        return Delivery(False, error.smtp_code, _text(error.smtp_error), transient=not final)
    except OSError as error:  # smtplib's other errors and lost connections
        return Delivery(False, None, _text(f"{type(error).__name__}: {error}"), transient=True)
    reply = getattr(connection, "last_reply", None)
    if reply is None:  # file, console and memory backends have no server to answer
        return Delivery(True, None, "")
    return Delivery(True, reply[0], _text(reply[1]))


def message_id(key: str) -> str:
    """A stable Message-ID for an outbox key: a message sent twice (a consumer died between the
    server's acceptance and our record of it) carries the same id both times, so receiving
    servers and mail clients can recognise the copy. The key itself is not revealed."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "localhost"
    return f"<{digest}@{domain}>"
