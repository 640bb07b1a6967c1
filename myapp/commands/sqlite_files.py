"""The SQLite file behind the app, and the safe ways to copy and check one (used by the commands)."""

import os
import sqlite3
import tempfile
from pathlib import Path
from urllib.parse import quote

import click

from ..database import is_memory_database
from ..extensions import db

BUSY_TIMEOUT_S = 30  # a command waits this long for a writer to finish before giving up
SQLITE_HEADER = b"SQLite format 3\x00"

POSTGRES_HINT = {
    "backup": 'use pg_dump, e.g. pg_dump --format=custom --file=app.dump "$DATABASE_URL"',
    "restore": (
        'use pg_restore, e.g. pg_restore --clean --dbname="$DATABASE_URL" app.dump, '
        "then flask invalidate-caches (the restored data's version is an old one)"
    ),
    "vacuum": "PostgreSQL's autovacuum does this; run VACUUM (ANALYZE) in psql if you must",
}


def database_file(command):
    """The app's SQLite file; a clear error on PostgreSQL or an in-memory database."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(
            f"flask {command} is a SQLite tool and this app runs on {url.get_backend_name()}: "
            f"{POSTGRES_HINT[command]}."
        )
    if is_memory_database(url):
        raise click.ClickException(f"the database is in memory: there is no file for flask {command}.")
    path = url.database
    if url.query.get("uri"):
        path = path.removeprefix("file:")
    return Path(path).resolve()


def connect(path, read_only=False):
    """A plain sqlite3 connection that waits for locks instead of failing with "database is locked"."""
    mode = "ro" if read_only else "rw"
    conn = sqlite3.connect(
        f"file:{quote(str(path))}?mode={mode}", uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
    return conn


def problems(conn):
    """What integrity_check and foreign_key_check find, as lines; empty when the file is sound."""
    found = [row[0] for row in conn.execute("PRAGMA integrity_check") if row[0] != "ok"]
    for table, rowid, parent, _fk in conn.execute("PRAGMA foreign_key_check"):
        found.append(f"{table} row {rowid} points to a missing row in {parent}")
    return found


def copy_into_file(source, dest):
    """Copy an open database into a new file at dest, atomically: nothing appears at dest until the
    copy is complete, checked and on disk. Returns the problems integrity_check found (copy kept
    aside when there are any)."""
    dest = Path(dest)
    fd, partial = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
    os.close(fd)
    try:
        target = sqlite3.connect(partial, isolation_level=None)
        try:
            # pages=-1 copies everything in one step under one read transaction: in WAL mode that
            # is a consistent snapshot that never blocks the app's writers.
            source.backup(target, pages=-1)
            # A backup is one self-contained file, not a WAL database that needs its -wal beside it.
            target.execute("PRAGMA journal_mode = DELETE")
            found = problems(target)
        finally:
            target.close()
        if found:
            return found
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        os.replace(partial, dest)
        fsync_directory(dest.parent)
        return []
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def fsync_directory(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def counts(conn):
    """'12 users, 340 posts' for the messages, read from the file itself."""
    users = conn.execute("SELECT count(*) FROM users").fetchone()[0]
    posts = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
    return f"{users} user{'s' * (users != 1)}, {posts} post{'s' * (posts != 1)}"


def human_size(n):
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
