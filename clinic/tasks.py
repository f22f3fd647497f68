"""Background tasks of the ground floor: the daily list of records kept past their clinic's
retention period, and the outbox's sender and sweeps (defined beside the outbox, in
clinic.outbox, which enqueues them; imported here so that the consumer finds them).

Run by `manage.py run_huey` (found there by name: every app's tasks.py). Tests run them
immediately, in process (tests/conftest.py).
"""

from __future__ import annotations

from django.db import transaction
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from clinic.models import Organisation
from clinic.outbox import (  # noqa: F401  (registered with the queue on import)
    recover_outbox,
    send_outbox_email,
    sweep_outbox,
    sweep_outbox_every_minute,
)
from clinic.records import records_past_retention
from clinic.services import notify_records_past_retention


@db_periodic_task(crontab(hour="6", minute="15"))
def records_past_retention_daily() -> None:
    """Tell each clinic's admins how many discharged records wait for their confirmation to be
    erased (the same listing as `manage.py records_past_retention`). Nothing is erased here."""
    for clinic in Organisation.objects.exclude(retention_months=None):
        due = records_past_retention(clinic)
        if due:
            with transaction.atomic():
                notify_records_past_retention(clinic, count=len(due))
