"""flask restore SRC: check a backup, keep the live database aside, then copy the backup in."""

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import page_counts
from ..data_version import new_epoch
from ..database import write_intent
from ..extensions import db
from ..history.writer import record
from . import schema_check
from .sqlite_files import SQLITE_HEADER, connect, copy_into_file, counts, database_file, problems


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore(src):
    """Replace the live database's contents with the backup SRC, keeping the old one beside it."""
    live_path = database_file("restore")
    src = src.resolve()
    if src == live_path:
        raise click.ClickException("SRC is the live database itself.")
    source = open_backup(src)
    try:
        what = counts(source)
        kept = keep_live_copy(live_path)
        # The backup API writes into the live file through SQLite's own locking (it waits for the
        # write lock like any writer), so workers that are running see the restored data on their
        # next query instead of holding on to a file that was swapped away under them.
        live = sqlite3.connect(live_path, timeout=60, isolation_level=None)
        try:
            source.backup(live, pages=-1)
            found = problems(live)
        except sqlite3.Error as error:
            before = f"the database as it was is kept at {kept}" if kept else "there was no database before"
            raise click.ClickException(f"copying {src} in failed ({error}); {before}.") from None
        finally:
            live.close()
    finally:
        source.close()
    if kept:
        click.echo(f"Kept the replaced database as {kept}.")
    if found:
        raise click.ClickException("the restored database fails its checks: " + "; ".join(found[:5]))
    with write_intent(), db.engine.begin() as connection:
        # The backup brought its own, older data version back: a new epoch makes the version
        # differ from every one served before, so no ETag or cached page outlives the restore.
        new_epoch(connection)
        # Counted again from the rows: a backup's counts are only as good as the file they came in.
        page_counts.rebuild(connection)
        record(connection, "restore", f"database restored from the backup {src.name} ({what})")
    click.echo(f"Restored {src} into {live_path} ({what}).")
    if current_app.config.get("READ_ONLY"):
        click.echo("Snapshot-mode instances must be restarted to serve the restored data.")
    else:
        click.echo(
            "No restart needed: running workers read the restored data from their next request "
            "(restart snapshot-mode instances, which serve a copy in memory)."
        )


def open_backup(src):
    """A read-only connection to src after checking it is a sound database of this app's schema."""
    with open(src, "rb") as f:
        if f.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise click.ClickException(f"{src} is not a SQLite database; the live database is untouched.")
    try:
        conn = connect(src, read_only=True)
        found = problems(conn)
    except sqlite3.DatabaseError as error:
        raise click.ClickException(
            f"{src} cannot be read ({error}); the live database is untouched."
        ) from None
    if not found:
        # The whole schema, the values' types and the kept counts (commands/schema_check.py).
        found = schema_check.problems(conn)
    if found:
        conn.close()
        raise click.ClickException(
            f"{src} is not a sound backup of this app, so the live database is untouched: "
            + "; ".join(found[:5])
        )
    return conn


def keep_live_copy(live_path):
    """Copy the live database beside itself before it is replaced; None when there is none yet."""
    if not live_path.exists():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = live_path.with_name(f"{live_path.name}.before-restore-{stamp}")
    live = connect(live_path, read_only=True)
    try:
        found = copy_into_file(live, kept)
    finally:
        live.close()
    if found:
        raise click.ClickException(
            "the live database fails integrity_check, so it could not be kept; nothing was restored: "
            + "; ".join(found[:5])
        )
    return kept
