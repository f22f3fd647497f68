"""Existing rows made to satisfy clinic.validation before its constraints are added (0004).

- Client intake dates before 1900 or more than a year after the record was created: set to
  the day the record was created (clinic time), never after its discharge date. Discharge
  dates before 1900 follow the intake date. Dates of birth before 1900 or after the day the
  record was created: cleared (unknown). Each fixed record gets an audit event naming the
  fields (actor: none).
- Programme start and end dates before 1900: cleared.
- Client codes, tag and programme names, login names: Unicode-normalised (NFC; login names
  NFKC), trimmed, invisible and text-direction characters removed. A changed client code gets
  an audit event. If two rows would become equal, the migration stops and changes nothing
  (clinic.repairs.RepairConflict names them): rename one, then migrate again.
"""

import datetime as dt

from django.db import migrations

from clinic.repairs import local_day, normalise_column, plausible_day, report

INTAKE_AHEAD = dt.timedelta(days=365)


def forwards(apps, schema_editor):
    Client = apps.get_model("clinic", "Client")
    Programme = apps.get_model("clinic", "Programme")
    Tag = apps.get_model("clinic", "Tag")
    User = apps.get_model("clinic", "User")
    AuditEvent = apps.get_model("clinic", "AuditEvent")

    fixed_dates = 0
    events = []
    for client in Client.objects.select_related("organisation").order_by("pk"):
        created = local_day(client.created_at, client.organisation.time_zone)
        changed = {}
        if not plausible_day(client.intake_date, created + INTAKE_AHEAD):
            intake = created
            if client.discharge_date and plausible_day(client.discharge_date, dt.date.max):
                intake = min(intake, client.discharge_date)
            changed["intake_date"] = intake
        intake = changed.get("intake_date", client.intake_date)
        if client.discharge_date is not None and client.discharge_date < intake:
            changed["discharge_date"] = intake
        if not plausible_day(client.date_of_birth, created):
            changed["date_of_birth"] = None
        if changed:
            Client.objects.filter(pk=client.pk).update(**changed)
            events.append(AuditEvent(organisation_id=client.organisation_id, client_id=client.pk,
                                     action="update", subject="client", fields=sorted(changed)))
            fixed_dates += 1
    report("client record(s) with an implausible date", fixed_dates,
           "intake set to the day the record was created, date of birth cleared")

    programmes = 0
    for field in ("starts_on", "ends_on"):
        programmes += Programme.objects.filter(**{f"{field}__lt": dt.date(1900, 1, 1)}).update(
            **{field: None}
        )
    report("programme date(s) before 1900", programmes, "cleared")

    codes = normalise_column(Client, "code", scope="organisation_id", label="client code")
    by_pk = dict(Client.objects.filter(pk__in=[pk for pk, _, _ in codes]).values_list(
        "pk", "organisation_id"))
    events += [
        AuditEvent(organisation_id=by_pk[pk], client_id=pk, action="update", subject="client",
                   fields=["code"])
        for pk, _, _ in codes
    ]
    report("client code(s)", len(codes), "normalised (NFC, trimmed, invisible characters removed)")
    AuditEvent.objects.bulk_create(events)
    for model, label in ((Tag, "tag name"), (Programme, "programme name")):
        names = normalise_column(model, "name", scope="organisation_id", label=label,
                                 collapse=True)
        report(f"{label}(s)", len(names), "normalised")
    logins = normalise_column(User, "username", scope=None, label="login name", form="NFKC")
    report("login name(s)", len(logins), "normalised (NFKC)")


class Migration(migrations.Migration):
    dependencies = [("clinic", "0003_user_session")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
