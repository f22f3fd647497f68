"""Keep ClientSummary honest: any change to a client's record, assessments or logs marks its
summary stale in the same transaction, and the next dashboard read rebuilds it."""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from assessments.models import Administration, ReliableChangeSetting, Score
from clinic.models import CareTeamMember, Client, Programme, Role, User
from clinic.signals import client_data_changed
from dashboard.services import dashboard_version_bump, summaries_mark_stale
from tracking.models import InnerCriticEntry, JournalEntry, PracticeSession


@receiver(post_save, sender=Client, dispatch_uid="dashboard_client_saved")
def client_saved(sender, instance: Client, **kwargs) -> None:
    summaries_mark_stale([instance.pk])


@receiver(post_save, sender=Administration, dispatch_uid="dashboard_administration_saved")
@receiver(post_delete, sender=Administration, dispatch_uid="dashboard_administration_deleted")
@receiver(post_save, sender=InnerCriticEntry, dispatch_uid="dashboard_entry_saved")
@receiver(post_delete, sender=InnerCriticEntry, dispatch_uid="dashboard_entry_deleted")
@receiver(post_save, sender=PracticeSession, dispatch_uid="dashboard_practice_saved")
@receiver(post_delete, sender=PracticeSession, dispatch_uid="dashboard_practice_deleted")
@receiver(post_save, sender=JournalEntry, dispatch_uid="dashboard_journal_saved")
@receiver(post_delete, sender=JournalEntry, dispatch_uid="dashboard_journal_deleted")
@receiver(post_save, sender=CareTeamMember, dispatch_uid="dashboard_care_team_saved")
@receiver(post_delete, sender=CareTeamMember, dispatch_uid="dashboard_care_team_deleted")
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


@receiver(m2m_changed, sender=Client.programmes.through, dispatch_uid="dashboard_membership")
def membership_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:  # client.programmes changed
        summaries_mark_stale([instance.pk])
    elif pk_set:  # programme.clients changed
        summaries_mark_stale(pk_set)
    else:  # programme.clients.clear(): the members are gone already; count the clinic up
        dashboard_version_bump([instance.organisation_id])


@receiver(post_save, sender=ReliableChangeSetting, dispatch_uid="dashboard_sd_saved")
@receiver(post_delete, sender=ReliableChangeSetting, dispatch_uid="dashboard_sd_deleted")
def reference_sd_changed(sender, instance, **kwargs) -> None:
    """Reliable-change verdicts of the whole clinic follow its reference SDs."""
    summaries_mark_stale(
        Client.objects.filter(organisation_id=instance.organisation_id).values_list("pk", flat=True)
    )


@receiver(post_save, sender=Programme, dispatch_uid="dashboard_programme_saved")
@receiver(post_delete, sender=Programme, dispatch_uid="dashboard_programme_deleted")
@receiver(post_save, sender=User, dispatch_uid="dashboard_user_saved")
def clinic_shown_on_dashboards(sender, instance, update_fields=None, **kwargs) -> None:
    """Programme names and dates, staff names: shown on cached dashboard fragments (a login,
    which only sets last_login, changes nothing shown)."""
    if instance.organisation_id is None or update_fields == frozenset({"last_login"}):
        return
    if sender is User and instance.role == Role.CLIENT:
        return
    dashboard_version_bump([instance.organisation_id])
