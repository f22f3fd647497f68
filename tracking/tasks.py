"""Background tasks of tracking: the reminders clients chose (run by `manage.py run_huey`)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tracking.services import reminders_enqueue_due


@db_periodic_task(crontab(minute="*/5"))
def queue_due_reminders() -> None:
    """Every five minutes: queue the reminders that fell due since (each occurrence once)."""
    reminders_enqueue_due()
