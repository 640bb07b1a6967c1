"""flask recount: set the kept counts from the rows again, after writes made outside the app."""

import time

import click
from flask.cli import with_appcontext

from .. import counters, page_counts
from ..data_version import new_epoch
from ..database import write_intent
from ..extensions import db


@click.command("recount")
@with_appcontext
def recount():
    """Count rows, posts per user and page counts again from the tables (what check-db compares).

    The app keeps these counts in the transaction of each write it makes; SQL typed in psql or
    sqlite3 does not, and `flask check-db` then reports the difference. Writers wait while this
    runs (a few seconds at a million rows); readers do not.
    """
    started = time.monotonic()
    with write_intent(), db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # SHARE: no row of either table changes until the counts are written (readers go on).
            # Users first, then posts: the order every writer locks them in (myapp/transactions.py).
            connection.exec_driver_sql("LOCK TABLE users, posts IN SHARE MODE")
        fixed = counters.recount(connection)
        before = page_counts.kept_sums(connection)
        page_counts.rebuild(connection)
        after = page_counts.kept_sums(connection)
        wrong = sum(before.get(key) != after.get(key) for key in before.keys() | after.keys())
        if wrong:
            fixed.append(f"page_counts: {wrong} prefixes had the wrong number")
        # Counts show on pages (totals, "page 3 of 40"): pages cached before are made afresh.
        new_epoch(connection)
    seconds = time.monotonic() - started
    for line in fixed:
        click.echo(f"  {line}")
    click.echo(
        f"Recounted in {seconds:.1f} s: "
        + ("the kept counts were already right." if not fixed else "the kept counts now match the rows.")
    )
