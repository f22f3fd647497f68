"""Background tasks of assessments: scheduled questionnaires (run by `manage.py run_huey`)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from assessments.services import invitations_send_due

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
def send_due_questionnaires() -> None:
    """Every minute: invite the clients whose questionnaire fell due, and send the reminders
    owed (each invitation and each reminder once, however many consumers run this)."""
    run = invitations_send_due()
    if run.invited or run.not_delivered or run.reminded:
        logger.info(
            "scheduled questionnaires: %s emailed, %s not delivered, %s reminders",
            run.invited,
            run.not_delivered,
            run.reminded,
        )
