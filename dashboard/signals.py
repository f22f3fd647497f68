"""Keep ClientSummary honest: any change to a client's record, assessments or logs marks its
summary stale in the same transaction, and the next dashboard read rebuilds it."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from assessments.models import Administration, Score
from clinic.models import Client
from clinic.signals import client_data_changed
from dashboard.services import summaries_mark_stale
from tracking.models import InnerCriticEntry, PracticeSession


@receiver(post_save, sender=Client, dispatch_uid="dashboard_client_saved")
def client_saved(sender, instance: Client, **kwargs) -> None:
    summaries_mark_stale([instance.pk])


@receiver(post_save, sender=Administration, dispatch_uid="dashboard_administration_saved")
@receiver(post_delete, sender=Administration, dispatch_uid="dashboard_administration_deleted")
@receiver(post_save, sender=InnerCriticEntry, dispatch_uid="dashboard_entry_saved")
@receiver(post_delete, sender=InnerCriticEntry, dispatch_uid="dashboard_entry_deleted")
@receiver(post_save, sender=PracticeSession, dispatch_uid="dashboard_practice_saved")
@receiver(post_delete, sender=PracticeSession, dispatch_uid="dashboard_practice_deleted")
def client_row_changed(sender, instance, **kwargs) -> None:
    summaries_mark_stale([instance.client_id])


@receiver(post_save, sender=Score, dispatch_uid="dashboard_score_saved")
@receiver(post_delete, sender=Score, dispatch_uid="dashboard_score_deleted")
def score_changed(sender, instance: Score, **kwargs) -> None:
    summaries_mark_stale(
        Administration.objects.filter(pk=instance.administration_id).values_list(
            "client_id", flat=True
        )
    )


@receiver(client_data_changed, dispatch_uid="dashboard_bulk_change")
def bulk_change(sender, client_ids, **kwargs) -> None:
    summaries_mark_stale(client_ids)
