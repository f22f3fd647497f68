"""Keep ClientSummary honest: any change to a client's record, assessments or logs marks its
summary stale in the same transaction, and the next dashboard read rebuilds it. Changes to who
may see a client, or to what every cached page of a clinic shows, also count the clinic's
dashboard version up (see dashboard.services.summaries_mark_stale)."""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from assessments.models import Administration, ReliableChangeSetting, Score
from assessments.reliable_change import MIN_BASELINE_CLIENTS
from clinic.models import CareTeamMember, Client, Organisation, Programme, Role, User
from clinic.signals import client_data_changed
from dashboard.services import dashboard_version_bump, summaries_mark_stale
from tracking.models import InnerCriticEntry, JournalEntry, PracticeSession, TriggerCategory


def _clinic_stale(organisation_id: int) -> None:
    summaries_mark_stale(
        Client.objects.filter(organisation_id=organisation_id).values_list("pk", flat=True),
        scope_changed=True,
    )


@receiver(post_save, sender=Client, dispatch_uid="dashboard_client_saved")
@receiver(post_save, sender=CareTeamMember, dispatch_uid="dashboard_care_team_saved")
@receiver(post_delete, sender=CareTeamMember, dispatch_uid="dashboard_care_team_deleted")
def client_scope_changed(sender, instance, **kwargs) -> None:
    summaries_mark_stale(
        [instance.pk if sender is Client else instance.client_id], scope_changed=True
    )


@receiver(post_save, sender=Administration, dispatch_uid="dashboard_administration_saved")
@receiver(post_delete, sender=Administration, dispatch_uid="dashboard_administration_deleted")
@receiver(post_save, sender=InnerCriticEntry, dispatch_uid="dashboard_entry_saved")
@receiver(post_delete, sender=InnerCriticEntry, dispatch_uid="dashboard_entry_deleted")
@receiver(post_save, sender=PracticeSession, dispatch_uid="dashboard_practice_saved")
@receiver(post_delete, sender=PracticeSession, dispatch_uid="dashboard_practice_deleted")
@receiver(post_save, sender=JournalEntry, dispatch_uid="dashboard_journal_saved")
@receiver(post_delete, sender=JournalEntry, dispatch_uid="dashboard_journal_deleted")
def client_row_changed(sender, instance, **kwargs) -> None:
    summaries_mark_stale([instance.client_id])


@receiver(post_save, sender=Score, dispatch_uid="dashboard_score_saved")
@receiver(post_delete, sender=Score, dispatch_uid="dashboard_score_deleted")
def score_changed(sender, instance: Score, created: bool = False, **kwargs) -> None:
    administration = (
        Administration.objects.filter(pk=instance.administration_id)
        .values("client_id", "organisation_id", "instrument_code")
        .first()
    )
    if administration is None:
        return
    summaries_mark_stale([administration["client_id"]])
    if created and administration["instrument_code"] == "scs":
        # The 30th client's baseline makes the clinic's own SD available: every client's
        # reliable-change verdict changes from "not enough data". (Smaller drifts of that SD
        # as baselines arrive are picked up by the nightly refresh_dashboard.)
        baselines = (
            Administration.objects.scored()
            .filter(organisation_id=administration["organisation_id"], instrument_code="scs")
            .values("client_id")
            .distinct()
            .count()
        )
        if baselines == MIN_BASELINE_CLIENTS:
            _clinic_stale(administration["organisation_id"])


@receiver(client_data_changed, dispatch_uid="dashboard_bulk_change")
def bulk_change(sender, client_ids, scope_changed: bool = False, **kwargs) -> None:
    summaries_mark_stale(client_ids, scope_changed=scope_changed)


@receiver(m2m_changed, sender=Client.programmes.through, dispatch_uid="dashboard_membership")
def membership_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:  # client.programmes changed
        summaries_mark_stale([instance.pk], scope_changed=True)
    elif pk_set:  # programme.clients changed
        summaries_mark_stale(pk_set, scope_changed=True)
    else:  # programme.clients.clear(): the members are gone already; count the clinic up
        dashboard_version_bump([instance.organisation_id])


@receiver(post_save, sender=ReliableChangeSetting, dispatch_uid="dashboard_sd_saved")
@receiver(post_delete, sender=ReliableChangeSetting, dispatch_uid="dashboard_sd_deleted")
def reference_sd_changed(sender, instance, **kwargs) -> None:
    """Reliable-change verdicts of the whole clinic follow its reference SDs."""
    _clinic_stale(instance.organisation_id)


@receiver(post_save, sender=Organisation, dispatch_uid="dashboard_organisation_saved")
def organisation_saved(sender, instance: Organisation, created: bool = False, **kwargs) -> None:
    """A new time zone moves every clinic-local day the summaries hold."""
    if not created:
        _clinic_stale(instance.pk)


@receiver(post_save, sender=Programme, dispatch_uid="dashboard_programme_saved")
@receiver(post_delete, sender=Programme, dispatch_uid="dashboard_programme_deleted")
@receiver(post_save, sender=TriggerCategory, dispatch_uid="dashboard_trigger_saved")
@receiver(post_save, sender=User, dispatch_uid="dashboard_user_saved")
def clinic_shown_on_dashboards(sender, instance, update_fields=None, **kwargs) -> None:
    """Programme names and dates, trigger names, staff names: shown on cached fragments (a
    login, which only sets last_login, changes nothing shown)."""
    if instance.organisation_id is None or update_fields == frozenset({"last_login"}):
        return
    if sender is User and instance.role == Role.CLIENT:
        return
    dashboard_version_bump([instance.organisation_id])
