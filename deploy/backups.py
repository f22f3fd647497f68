"""PostgreSQL backups that are proven to restore (run through deploy/backup and
deploy/restore-check; docs/operations.md says when and how).

backup: one `pg_dump --format=custom` of DATABASE_URL into the backup folder, taken in an
    exported snapshot, and beside it a manifest of every table's row count and checksum
    computed in that same snapshot: the source's figures at the dump's moment, however busy the
    database is meanwhile. Files are written under a temporary name and renamed when complete,
    readable by the owner only. Then the folder keeps the newest --keep dumps (default 14) and
    deletes older ones with their manifests.

restore-check: restores the newest dump (or --dump FILE) into a scratch database with
    pg_restore, computes the same counts and checksums there, compares them with the manifest
    (0 differences required), then runs `manage.py refresh_dashboard` against the restored copy
    (every projection against its raw rows; exit 1 on a difference), and drops the scratch
    database (--keep-scratch leaves it). Exit status 0 only when all of that passed.

A table's checksum is the sum over its rows of the first 64 bits of md5(row as text), read
with the time zone UTC: independent of row order and of physical layout, changed by any
difference in any value. Tables are those of the public schema.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "selfkind-"
SUFFIX = ".dump"


def tables(conn) -> list[str]:
    return [
        name
        for (name,) in conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
    ]


def figures(conn) -> dict[str, dict[str, str | int]]:
    """Row count and checksum of every table, as this connection's transaction sees them."""
    conn.execute("SET TIME ZONE 'UTC'")
    conn.execute("SET extra_float_digits = 3")
    out = {}
    for table in tables(conn):
        query = sql.SQL(
            "SELECT count(*), coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint), 0)"
            " FROM {} AS t"
        ).format(sql.Identifier(table))
        count, checksum = conn.execute(query).fetchone()
        out[table] = {"rows": count, "checksum": str(checksum)}
    return out


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def dumps(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{PREFIX}*{SUFFIX}"))


def backup(options) -> int:
    folder = Path(options.folder)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    while True:  # one dump per second at most: never overwrite one
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        target = folder / f"{PREFIX}{stamp}{SUFFIX}"
        if not target.exists():
            break
        time.sleep(0.2)
    partial = target.with_suffix(".partial")
    # One snapshot for the dump and the manifest: the transaction that exported it stays open
    # until pg_dump has finished.
    with psycopg.connect(options.database_url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        (snapshot,) = conn.execute("SELECT pg_export_snapshot()").fetchone()
        manifest = figures(conn)
        old_umask = os.umask(0o077)
        try:
            subprocess.run(
                [
                    "pg_dump",
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    "--no-owner",
                    f"--file={partial}",
                    f"--dbname={options.database_url}",
                ],
                check=True,
            )
            manifest_path = target.with_suffix(".manifest.json")
            manifest_path.write_text(
                json.dumps(
                    {
                        "database": database_name(options.database_url),
                        "taken_at": stamp,
                        "tables": manifest,
                    },
                    indent=1,
                    sort_keys=True,
                )
                + "\n"
            )
        finally:
            os.umask(old_umask)
        conn.rollback()
    partial.rename(target)
    rows = sum(t["rows"] for t in manifest.values())
    print(
        f"backup: {target} ({target.stat().st_size / 1e6:.1f} MB, {len(manifest)} tables, "
        f"{rows} rows)"
    )
    for old in dumps(folder)[: -options.keep]:
        old.unlink()
        old.with_suffix(".manifest.json").unlink(missing_ok=True)
        print(f"backup: removed {old.name} (keeping the newest {options.keep})")
    return 0


def restore_check(options) -> int:
    folder = Path(options.folder)
    dump = Path(options.dump) if options.dump else (dumps(folder) or [None])[-1]
    if dump is None or not dump.is_file():
        print(f"restore-check: no dump in {folder}", file=sys.stderr)
        return 2
    manifest_path = dump.with_suffix(".manifest.json")
    if not manifest_path.is_file():
        print(f"restore-check: {manifest_path} is missing", file=sys.stderr)
        return 2
    manifest = json.loads(manifest_path.read_text())["tables"]
    scratch = options.scratch
    if scratch == database_name(options.database_url):
        print("restore-check: the scratch database cannot be the source", file=sys.stderr)
        return 2
    scratch_url = with_database(options.database_url, scratch)
    server_url = with_database(options.database_url, "postgres")
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={scratch_url}", str(dump)],
            check=True,
        )
        with psycopg.connect(scratch_url) as conn:
            restored = figures(conn)
        differences = []
        for table in sorted(manifest.keys() | restored.keys()):
            source, copy = manifest.get(table), restored.get(table)
            if source != copy:
                differences.append(f"  {table}: source {source}, restored {copy}")
        rows = sum(t["rows"] for t in restored.values())
        print(
            f"restore-check: {dump.name} restored into {scratch}: {len(restored)} tables, "
            f"{rows} rows, {len(differences)} differences in row counts or checksums"
        )
        if differences:
            print("\n".join(differences))
            return 1
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SELFKIND_"))}
        env.update(SELFKIND_ENV="development", DATABASE_URL=scratch_url, REDIS_URL="")
        check = subprocess.run(
            [sys.executable, "manage.py", "refresh_dashboard"], cwd=ROOT, env=env, check=False
        )
        print(
            "restore-check: refresh_dashboard on the restored copy: "
            + ("every projection matches its raw rows" if check.returncode == 0 else "FAILED")
        )
        return check.returncode
    finally:
        if not options.keep_scratch:
            with psycopg.connect(server_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(scratch)
                    )
                )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["backup", "restore-check"])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="the database to back up, or whose server gets the scratch copy "
        "(default: DATABASE_URL)",
    )
    parser.add_argument(
        "--folder",
        default=os.environ.get("SELFKIND_BACKUP_DIR", str(ROOT / "var" / "backups")),
        help="where dumps live (default: SELFKIND_BACKUP_DIR, else var/backups)",
    )
    parser.add_argument("--keep", type=int, default=14, help="dumps kept (backup)")
    parser.add_argument("--dump", help="restore this dump instead of the newest")
    parser.add_argument("--scratch", default="selfkind_restore_check")
    parser.add_argument("--keep-scratch", action="store_true")
    options = parser.parse_args()
    if not options.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("a PostgreSQL DATABASE_URL (or --database-url) is needed")
    if options.keep < 1:
        parser.error("--keep must be at least 1")
    if options.command == "backup":
        return backup(options)
    return restore_check(options)


if __name__ == "__main__":
    sys.exit(main())
