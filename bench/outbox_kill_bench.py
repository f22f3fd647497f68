"""Outbox delivery through a real consumer: throughput, and random SIGKILLs mid-batch.

    .venv/bin/python bench/outbox_kill_bench.py [--emails 1000] [--rounds 5] [--kills 3]

Everything runs on this machine, on loopback: a fresh SQLite database and queue file in a
temporary folder (migrated first, about 15 s), a real SMTP server (aiosmtpd) in this process
that counts what it accepts by Message-ID, and `manage.py run_huey --workers 2` as a separate
process, as in production.

1. Throughput: queue --emails emails in one transaction, start a consumer, time until the
   server has them all.
2. Kills: per round, queue --emails emails, start a consumer and SIGKILL it --kills times at
   random moments while it sends (restarting it each time), then let it finish; then two rounds
   the same with SIGINT, the graceful stop that systemd (KillSignal=SIGINT) and serve send.
   Counted: emails never received (must be 0), copies received (same Message-ID twice: only
   possible when a kill falls between the server's "250" and the row's mark), and rows found
   'sending' at each kill (in flight). Each kill comes at a random moment (0-2 s) after the
   consumer's first delivery, unrelated to any one message.

Prints one table; docs/deployment.md keeps the latest figures.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LEASE_SECONDS = 2


class Counting:
    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.ids[message["Message-ID"]] += 1
        return "250 2.0.0 Ok: queued"

    def received(self) -> int:
        with self.lock:
            return sum(self.ids.values())

    def distinct(self) -> int:
        with self.lock:
            return len(self.ids)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def queue_invitations(
    batch: str, count: int, link: str = "http://127.0.0.1:8000/t/invite/x/", organisation=None
) -> list[str]:
    """Queue `count` invitation emails in one transaction (Django set up); their keys."""
    from django.db import transaction

    from clinic.models import EmailKind
    from clinic.outbox import email_enqueue

    keys = [f"{batch}:{n}" for n in range(count)]
    with transaction.atomic():
        for key in keys:
            email_enqueue(
                key=key,
                kind=EmailKind.INVITATION,
                to="someone@example.org",
                template="invitation",
                context={"link": link, "valid_days": 7},
                organisation=organisation,
            )
    return keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    options = parser.parse_args()
    rng = random.Random(options.seed)

    workdir = Path(tempfile.mkdtemp(prefix="selfkind-outbox-bench-"))
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SELFKIND_ENV": "development",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "HUEY_SQLITE_FILE": str(workdir / "queue.sqlite3"),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_USE_TLS": "false",
        "SELFKIND_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    env.pop("REDIS_URL", None)
    os.environ.update(env)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)

    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from aiosmtpd.controller import Controller

    from clinic.mail import message_id
    from clinic.models import EmailStatus, OutboxEmail

    inbox = Counting()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    log = (workdir / "consumer.log").open("a")

    def start_consumer() -> subprocess.Popen:
        return subprocess.Popen(
            [*manage, "run_huey", "--workers", "2"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def queue(batch: str) -> list[str]:
        return queue_invitations(batch, options.emails)

    def wait_for(condition, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                raise SystemExit(f"gave up after {seconds} s; see {workdir / 'consumer.log'}")
            time.sleep(0.02)

    def stop(consumer: subprocess.Popen) -> None:
        os.killpg(consumer.pid, signal.SIGINT)
        consumer.wait(timeout=60)

    rows = []
    # 1. Throughput
    consumer = start_consumer()
    wait_for(lambda: "Huey consumer started" in (workdir / "consumer.log").read_text(), 60)
    before = inbox.received()
    started = time.monotonic()
    queue("throughput")
    wait_for(lambda: inbox.received() - before >= options.emails, 600)
    elapsed = time.monotonic() - started
    stop(consumer)
    rows.append(
        f"| throughput, 2 worker threads | {options.emails} | {options.emails / elapsed:.0f} "
        f"emails/s ({elapsed:.1f} s) | | |"
    )

    # 2. Random kills (SIGKILL), then random graceful stops (SIGINT, as systemd and serve send)
    total_missing = total_copies = total_in_flight = 0
    plan = [("SIGKILL", signal.SIGKILL)] * options.rounds + [("SIGINT", signal.SIGINT)] * 2
    for round_number, (stop_name, stop_signal) in enumerate(plan):
        keys = queue(f"kill{round_number}")
        expected = {message_id(key) for key in keys}
        in_flight_keys: set[str] = set()
        consumer = start_consumer()
        for _ in range(options.kills):
            # Once this consumer is sending, kill it at a moment unrelated to any one message.
            received = inbox.received()
            wait_for(lambda r=received: inbox.received() > r, 600)
            time.sleep(rng.uniform(0, 2))
            os.killpg(consumer.pid, stop_signal)
            consumer.wait(timeout=120)
            in_flight_keys.update(
                OutboxEmail.objects.filter(key__in=keys, status=EmailStatus.SENDING).values_list(
                    "key", flat=True
                )
            )
            consumer = start_consumer()
        wait_for(
            lambda k=keys: (
                not OutboxEmail.objects.filter(key__in=k).exclude(status=EmailStatus.SENT).exists()
            ),
            600,
        )
        stop(consumer)
        in_flight = len(in_flight_keys)
        missing = sum(1 for i in expected if not inbox.ids.get(i))
        copies = sum(inbox.ids[i] - 1 for i in expected if inbox.ids.get(i))
        if stop_signal == signal.SIGKILL:
            total_missing += missing
            total_copies += copies
            total_in_flight += in_flight
        rows.append(
            f"| round {round_number + 1}: {options.kills} {stop_name}s mid-batch "
            f"| {options.emails} | "
            f"{len(expected) - missing} received once or more | {in_flight} in flight at the "
            f"kills | {missing} missing, {copies} copies |"
        )
    controller.stop()
    print("| run | emails | result | | lost / duplicated |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print(row)
    print(
        f"\nSIGKILL rounds: {options.rounds * options.emails} emails, {total_in_flight} in flight "
        f"at {options.rounds * options.kills} kills, {total_missing} missing, {total_copies} copies"
    )


if __name__ == "__main__":
    main()
