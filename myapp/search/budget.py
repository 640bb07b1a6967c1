"""Bounds on the walk of a sort index that a common search term's page takes (match.py), and the
planner settings of the plan that replaces it when the bound is reached.

SQLite: a deadline, checked by a progress handler every few thousand virtual machine steps.
PostgreSQL: a statement_timeout for the walk, and for the replacement plan no index scans, so that
the planner reads the matches through the trigram index (a bitmap) and sorts the page out of them
instead of walking the sort index again; that plan has a timeout of its own, as a dense term's walk
can run past its budget on a loaded machine, and sorting its million matches would take seconds.
Settings are made with SET LOCAL inside a savepoint, so an interrupted statement leaves the
request's transaction as it was, and they end with the block.
"""

import time
from contextlib import contextmanager

from ..extensions import db

QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement ended by statement_timeout
CHECK_STEPS = 2_000  # SQLite: VM steps between two looks at the clock


def interrupted(error):
    """True when error (an OperationalError) is a walk ended by its budget, on either database."""
    orig = error.orig
    if getattr(orig, "sqlstate", None) == QUERY_CANCELED:
        return True
    return "interrupted" in str(orig)  # sqlite3: "interrupted", from the progress handler


@contextmanager
def time_budget(ms):
    """Interrupt an SQLite statement still running ms milliseconds from now (a read: the
    transaction stays as it was). The handler runs every CHECK_STEPS steps, some 20-50 us apart."""
    sqlite = db.session.connection().connection.driver_connection
    deadline = time.perf_counter() + ms / 1000
    sqlite.set_progress_handler(lambda: time.perf_counter() > deadline, CHECK_STEPS)
    try:
        yield
    finally:
        sqlite.set_progress_handler(None, CHECK_STEPS)


@contextmanager
def local_settings(**settings):
    """PostgreSQL settings for the statements inside the block only.

    SET LOCAL inside a savepoint: an error in the block (a statement_timeout) rolls the savepoint
    back and the settings with it; after success the released savepoint would keep them to the
    end of the transaction, so the values from before are put back.
    """
    session = db.session
    with session.begin_nested():
        connection = session.connection()
        row = connection.exec_driver_sql(*_set_local(settings, read=True)).one()
        before = dict(zip(settings, row[: len(settings)], strict=True))
        yield
        # Put back inside the savepoint: its release keeps what was set in it.
        connection.exec_driver_sql(*_set_local(before))


def _set_local(settings, read=False):
    """SQL and parameters that SET LOCAL each setting; read=True: returning the values from before
    (a MATERIALIZED CTE is read before the settings change: one round trip for both)."""
    names = list(settings)
    params = {f"n{i}": name for i, name in enumerate(names)} | {
        f"v{i}": str(settings[name]) for i, name in enumerate(names)
    }
    sets = ", ".join(f"set_config(%(n{i})s, %(v{i})s, true)" for i in range(len(names)))
    if not read:
        return f"SELECT {sets}", params
    reads = ", ".join(f"current_setting(%(n{i})s) AS b{i}" for i in range(len(names)))
    columns = ", ".join(f"b{i}" for i in range(len(names)))
    return f"WITH before AS MATERIALIZED (SELECT {reads}) SELECT {columns}, {sets} FROM before", params


def walk_budget(ms):
    """Cancel a PostgreSQL walk of a sort index that runs longer than ms milliseconds.

    Without parallel workers: a walk reads the index in order and stops at its page, and the
    planner, which cannot tell how soon, planned two workers whose start alone took 10-20 ms
    of a 3 ms walk (/posts?q=gardening) and so of its budget.
    """
    # At least 1 ms: a statement_timeout of 0 is none at all.
    return local_settings(statement_timeout=f"{max(1, round(ms))}ms", max_parallel_workers_per_gather=0)


def index_plan(ms):
    """PostgreSQL plans without (plain or index-only) index scans, cancelled after ms milliseconds:
    a search's matches come from a bitmap of the trigram index and are sorted, however the page
    is sorted. Its time grows with the number of matches (some 100 ms for 100,000)."""
    return local_settings(enable_indexscan="off", enable_indexonlyscan="off", statement_timeout=f"{ms}ms")
