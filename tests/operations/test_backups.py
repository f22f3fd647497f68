"""deploy/backup and deploy/restore-check against a real PostgreSQL server (the suite's own
test database): a dump with its manifest, restored into a scratch database with 0 differences,
and a restore that differs from its manifest is reported by table."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import make_client, make_organisation, make_user

BACKUPS = settings.BASE_DIR / "deploy" / "backups.py"

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="backups are PostgreSQL dumps (run the suite with a PostgreSQL DATABASE_URL)",
)


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(BACKUPS), *args, "--database-url", database_url()],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


# serialized_rollback, as every transactional test here: a plain flush would re-create the content
# types under new ids on PostgreSQL, and the next test that restores the serialized rows would
# then collide with them (and the data migrations' rows would be gone).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_backup_restores_with_every_table_equal_to_its_manifest(tmp_path):
    clinic = make_organisation("Backup Clinic")
    make_client(clinic, make_user(clinic, username="backup-clinician"), code="BK-1")
    scratch = f"{connection.settings_dict['NAME']}_restore"

    backup = run("backup", "--folder", str(tmp_path), "--keep", "1")
    assert backup.returncode == 0, backup.stderr
    (dump,) = tmp_path.glob("selfkind-*.dump")
    manifest = json.loads(dump.with_suffix(".manifest.json").read_text())["tables"]
    assert manifest["clinic_client"]["rows"] == 1
    assert oct(dump.stat().st_mode)[-3:] == "600"

    check = run("restore-check", "--folder", str(tmp_path), "--scratch", scratch)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "0 differences in row counts or checksums" in check.stdout
    assert "every projection matches its raw rows" in check.stdout

    # A manifest that no longer matches what was dumped is reported, naming the table.
    manifest["clinic_client"]["checksum"] = "12345"
    path = dump.with_suffix(".manifest.json")
    path.write_text(json.dumps({"tables": manifest}))
    differs = run("restore-check", "--folder", str(tmp_path), "--scratch", scratch)
    assert differs.returncode == 1
    assert "1 differences" in differs.stdout
    assert "clinic_client: source" in differs.stdout


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_backups_keep_the_newest_dumps_only(tmp_path):
    for _ in range(3):
        assert run("backup", "--folder", str(tmp_path), "--keep", "2").returncode == 0
    assert len(list(tmp_path.glob("selfkind-*.dump"))) == 2
    assert len(list(tmp_path.glob("selfkind-*.manifest.json"))) == 2


def test_restore_check_refuses_to_restore_over_its_source(tmp_path):
    name = connection.settings_dict["NAME"]
    (tmp_path / "selfkind-20260101T000000Z.dump").write_bytes(b"")
    (tmp_path / "selfkind-20260101T000000Z.manifest.json").write_text('{"tables": {}}')
    refused = run("restore-check", "--folder", str(tmp_path), "--scratch", name)
    assert refused.returncode == 2
    assert "cannot be the source" in refused.stderr
