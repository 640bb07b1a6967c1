"""flask backup DEST: an online, consistent copy of the live SQLite database, checked."""

import os
import sqlite3
import time
from pathlib import Path

import click
from flask.cli import with_appcontext

from .sqlite_files import connect, copy_into_file, counts, database_file, human_size


@click.command("backup")
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace DEST if it exists.")
@with_appcontext
def backup(dest, force):
    """Copy the live database to DEST while the app keeps serving, then integrity-check the copy."""
    source_path = database_file("backup")
    # Never follow a symbolic link at DEST, dangling or not: it could point anywhere the operator
    # (often root) can write. The copy then replaces DEST by rename, which does not follow one
    # either, so a link put there meanwhile is replaced, not written through.
    dest = Path(os.path.abspath(dest))
    if dest.is_symlink():
        raise click.ClickException(f"{dest} is a symbolic link; give the path of a file, not of a link.")
    if dest.resolve() == source_path:
        raise click.ClickException("DEST is the live database itself; choose another file.")
    if dest.exists() and not force:
        raise click.ClickException(f"{dest} exists; add --force to replace it.")
    if not dest.parent.is_dir():
        raise click.ClickException(f"{dest.parent} is not a directory.")
    if not source_path.exists():
        raise click.ClickException(f"there is no database at {source_path} yet (run flask db upgrade).")
    started = time.monotonic()
    try:
        source = connect(source_path, read_only=True)
        try:
            found = copy_into_file(source, dest)
        finally:
            source.close()
    except sqlite3.Error as error:
        raise click.ClickException(f"the backup failed ({error}); nothing was written to {dest}.") from None
    if found:
        raise click.ClickException(
            "the copy failed PRAGMA integrity_check, so it was not kept: " + "; ".join(found[:5])
        )
    check = connect(dest, read_only=True)
    try:
        what = counts(check)
    finally:
        check.close()
    click.echo(
        f"Backed up {source_path} to {dest} ({human_size(dest.stat().st_size)}, {what}) "
        f"in {time.monotonic() - started:.1f} s; integrity_check: ok."
    )
