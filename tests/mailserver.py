"""A real SMTP server for tests: aiosmtpd listening on loopback, in the test's own process.

It records every message it accepts (parsed, with its headers), and can be told to refuse
recipients with a given reply, or to hold every message from the N-th on without answering
(so a test can stop the sender while it waits for the server's answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://\S+")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse_recipients_with: str | None = None  # e.g. "550 5.1.1 No such mailbox"
        self.hold_from: int | None = None  # hold the n-th accepted message (1-based) and later
        self.holding = 0
        self.release = threading.Event()
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_recipients_with:
            return self.refuse_recipients_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            hold = self.hold_from is not None and len(self.messages) + 1 >= self.hold_from
            if hold:
                self.holding += 1
        if hold:
            while not self.release.is_set():
                await asyncio.sleep(0.01)
            return "451 4.3.0 Not accepted: the test stopped the sender meanwhile"
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)
            number = len(self.messages)
        return f"250 2.0.0 Ok: queued as TEST{number}"

    def message_ids(self) -> list[str]:
        with self._lock:
            return [message["Message-ID"] for message in self.messages]

    @staticmethod
    def links(message: EmailMessage) -> list[str]:
        return LINK.findall(message.get_content())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """A running server on a free loopback port: yields (inbox, port)."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        inbox.release.set()
        controller.stop()


def use_smtp(settings, port: int) -> None:
    """Point Django's email at the test server through Selfkind's SMTP backend."""
    settings.EMAIL_BACKEND = "clinic.mail.SMTPBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10


def wait_until(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    """Poll until `condition()` holds; fail naming `what` after `seconds` (a bound on waiting,
    not a measurement: nothing asserts how long it took)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {seconds} s")
        time.sleep(0.05)
