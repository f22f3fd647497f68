"""Background tasks of the ground floor: sending the outbox, and the daily list of records
kept past their clinic's retention period.

Run by `manage.py run_huey` (found there by name: every app's tasks.py). Tests run them
immediately, in process (tests/conftest.py).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, on_startup
from huey.exceptions import RetryTask

from clinic.models import Organisation
from clinic.outbox import outbox_send, outbox_sweep
from clinic.records import records_past_retention
from clinic.services import notify_records_past_retention


@db_task()
def send_outbox_email(email_id: int) -> None:
    """Send one outbox row. After a transient failure the row says when to try again, and this
    task is scheduled for then; the sweep is the safety net if that schedule is lost."""
    retry_in = outbox_send(email_id)
    if retry_in is not None:
        raise RetryTask(delay=retry_in)


@db_task()
def sweep_outbox(follow_leases: bool = False) -> None:
    """Send rows no task is sending. `follow_leases`: also come back once the leases held now
    have run out (after a restart, rows a dead consumer was sending are due then)."""
    sweep = outbox_sweep()
    if follow_leases and sweep.last_lease is not None:
        wait = (sweep.last_lease - timezone.now()).total_seconds()
        sweep_outbox.schedule(delay=max(wait, 0) + 1)


@db_periodic_task(crontab(minute="*"))
def sweep_outbox_every_minute() -> None:
    outbox_sweep()


@on_startup()
def recover_outbox() -> None:
    """A consumer that starts picks up what a stopped one left behind, without waiting for the
    minute's sweep (each worker thread runs this; extra sweeps are harmless)."""
    sweep_outbox(follow_leases=True)


@db_periodic_task(crontab(hour="6", minute="15"))
def records_past_retention_daily() -> None:
    """Tell each clinic's admins how many discharged records wait for their confirmation to be
    erased (the same listing as `manage.py records_past_retention`). Nothing is erased here."""
    for clinic in Organisation.objects.exclude(retention_months=None):
        due = records_past_retention(clinic)
        if due:
            with transaction.atomic():
                notify_records_past_retention(clinic, count=len(due))
