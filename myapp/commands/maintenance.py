"""flask vacuum, flask check-db and flask invalidate-caches: compact the SQLite file; check integrity
and the kept counts; give the data a new version after changes made outside the app."""

import time

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from .. import data_version, page_counts
from ..counters import totals
from ..database import is_memory_database, write_intent
from ..extensions import db
from ..models import Post, User
from . import schema_check
from .sqlite_files import connect, database_file, human_size, problems


@click.command("vacuum")
@with_appcontext
def vacuum():
    """Rebuild the SQLite file to reclaim free pages, and refresh the planner's statistics."""
    path = database_file("vacuum")
    if not path.exists():
        raise click.ClickException(f"there is no database at {path} yet (run flask db upgrade).")
    started = time.monotonic()
    conn = connect(path)
    try:
        # Fold the WAL into the file first and last, so that both sizes printed are the real ones.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        before = path.stat().st_size
        # VACUUM takes the write lock (waiting for writers like any of them); readers go on in WAL.
        conn.execute("VACUUM")
        conn.execute("PRAGMA optimize")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    after = path.stat().st_size
    click.echo(
        f"Vacuumed {path}: {human_size(before)} → {human_size(after)} in {time.monotonic() - started:.1f} s."
    )


@click.command("check-db")
@with_appcontext
def check_db():
    """Run integrity and foreign-key checks (SQLite) and check the kept counts (any database)."""
    checks = []
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as connection:
            dbapi_connection = connection.connection.dbapi_connection
            found = problems(dbapi_connection)
            # An in-memory database is a test's, made by create_all rather than the migrations.
            memory = is_memory_database(db.engine.url)
            schema = [] if memory else schema_check.schema_differences(dbapi_connection)
            values = [] if memory or schema else schema_check.value_problems(dbapi_connection)
        checks.append(("integrity_check and foreign_key_check", found))
        if not memory:
            checks.append(("schema is what the migrations make", schema))
            checks.append(("values have the right types", values))
    count_problems = count_mismatches()
    checks.append(("kept counts match the rows", count_problems))
    failed = False
    for name, found in checks:
        click.echo(f"{name}: {'ok' if not found else 'FAILED'}")
        for line in found[:20]:
            click.echo(f"  {line}")
        failed = failed or bool(found)
    db.session.rollback()
    if failed:
        hint = " `flask recount` sets the kept counts from the rows." if count_problems else ""
        raise click.ClickException("the database failed a check (details above)." + hint)
    click.echo("The database is sound.")


def count_mismatches():
    """Where row_counts, users.post_count or page_counts disagree with the rows themselves
    (myapp/counters.py, myapp/page_counts.py)."""
    found = []
    kept = totals()  # the sum of each table's shards
    for name, model in (("users", User), ("posts", Post)):
        actual = db.session.scalar(select(func.count()).select_from(model))
        if kept[name] != actual:
            found.append(f"row_counts says {kept[name]} {name}, the table has {actual}")
    per_user = select(Post.user_id, func.count().label("n")).group_by(Post.user_id).subquery()
    wrong = db.session.execute(
        select(User.id, User.post_count, func.coalesce(per_user.c.n, 0))
        .outerjoin(per_user, per_user.c.user_id == User.id)
        .where(User.post_count != func.coalesce(per_user.c.n, 0))
        .limit(20)
    ).all()
    found += [f"user {uid} has post_count {kept_n}, but {n} posts" for uid, kept_n, n in wrong]
    return found + page_counts.mismatches(db.session.connection())


@click.command("invalidate-caches")
@with_appcontext
def invalidate_caches():
    """Give the data a new version: no ETag or cached page made before matches any more.

    The app changes the version with every write it makes (myapp/data_version.py); run this after
    changing the database another way: pg_restore, SQL typed in psql or sqlite3.
    """
    with write_intent(), db.engine.begin() as connection:
        data_version.new_epoch(connection)
        version = data_version.read(connection)
    click.echo(f"The data version is now {version}; pages cached before it will be made afresh.")
