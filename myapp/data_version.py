"""The data version: a value that every committed write changes, kept in the writing transaction.

ETags and the page cache (myapp/conditional/) are derived from it, so it must change with every
commit that can change a page, on every path: forms, the API, history undo, sign-in, the CLI.
Not PRAGMA data_version (it is per connection) and not a PostgreSQL sequence (nextval is not rolled
back, and is not ordered with the commit that uses it).

The version is "<epoch>.<sum of the shards' generations>" (the data_versions table,
myapp/models/versions.py). How writes change it: this module watches the app's engine, not the
ORM session. Every INSERT, UPDATE or DELETE a connection sends marks it; when that connection
commits, one more statement, the last before COMMIT, adds 1 to a shard's generation. Watching the
engine rather than the session catches the writes that bypass the ORM (the history writer's and the
counters' Core statements, `flask seed`'s executemany, the token bookkeeping) without each having
to remember; a transaction that only read commits nothing more. A trigger per table would catch
writes from outside the app too, but would take the shard's row lock at the transaction's first
write and hold it to the end; here it is taken last, just before COMMIT (step 4 of the lock order
in myapp/transactions.py), so a writer holds it for one statement.

On PostgreSQL a writer adds to its own shard (by process and thread, as myapp/counters.py does), so
writers on several app servers do not all queue on one row; a read sums at most SHARDS tiny rows.
Since every shard only grows, the sum grows with every commit and never comes back to a value it
had. `flask restore` puts an older sum back, so restore (and seed, and every migration run) also
gives the data a new random epoch (new_epoch): the version after it differs from every version
served before. Writes made outside the app (psql, pg_restore) do not change it: run
`flask invalidate-caches` after them.
"""

import os
import secrets
import sqlite3
import threading
from time import perf_counter

from sqlalchemy import event, func, insert, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .counters import SHARDS
from .database import is_memory_database
from .extensions import db
from .models import DataVersion
from .observability.requestlog import record_statement

versions = DataVersion.__table__
# On a connection's info: it sent a write since its transaction began.
WROTE = "data_version_wrote"
# Execution option: Connection.execution_options(data_version=False) makes its commits leave the
# version alone (the migrations, which run before the table exists, set a new epoch at the end).
OPTION = "data_version"
WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE")
READ = select(func.max(versions.c.epoch), func.sum(versions.c.generation))
READ_SQLITE = str(READ.compile(dialect=sqlite.dialect()))
INSERTS = {"postgresql": pg_insert, "sqlite": sqlite_insert}


def new_epoch_value():
    return secrets.token_hex(8)


def shard(connection):
    """This writer's shard: 0 on SQLite (one writer at a time anyway); by process and thread on
    PostgreSQL."""
    if connection.dialect.name != "postgresql":
        return 0
    return hash((os.getpid(), threading.get_ident())) % SHARDS


def bump_statement(connection):
    """Add 1 to this writer's shard, creating it if need be (an upsert: a missing row must never
    leave the version unchanged)."""
    stmt = INSERTS[connection.dialect.name](versions).values(shard=shard(connection), generation=1, epoch="")
    return stmt.on_conflict_do_update(
        index_elements=[versions.c.shard], set_={"generation": versions.c.generation + 1}
    )


def read(connection):
    """The current version as a string, in one query."""
    epoch, generation = connection.execute(READ).one()
    return f"{epoch or ''}.{generation or 0}"


def current():
    """The version, read in the request's own transaction (db.session)."""
    return read(db.session.connection())


class Reader:
    """Reads the version for a request before its own transaction begins: on a SQLite file, on a
    plain sqlite3 connection of the thread's own, kept open (about 20 µs, against some 150 µs for
    the ORM session's checkout, BEGIN and ROLLBACK, which a page from the cache does not need).

    Read before the page's queries, never after them, so the page is as new as its version or
    newer (a page kept under a version never shows older data than that version has). PostgreSQL
    and in-memory databases read in the request's transaction (current()).
    """

    def __init__(self, engine, busy_timeout_ms):
        self.engine = engine
        url = engine.url
        sqlite_file = url.get_backend_name() == "sqlite" and not is_memory_database(url)
        self.path = url.database if sqlite_file and not url.query.get("uri") else None
        self.busy_timeout_ms = int(busy_timeout_ms)
        self.local = threading.local()

    def read(self):
        if self.path is None:
            return current()
        connection = getattr(self.local, "connection", None)
        if connection is None or self.local.pid != os.getpid():  # never a parent's, after a fork
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            connection.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
            self.local.connection, self.local.pid = connection, os.getpid()
        started = perf_counter()
        epoch, generation = connection.execute(READ_SQLITE).fetchone()
        record_statement(READ_SQLITE, perf_counter() - started)  # in the request's db time
        return f"{epoch or ''}.{generation or 0}"

    def read_outside_request(self):
        """read() without an app context (myapp/conditional/fast_path.py): PostgreSQL and
        in-memory databases on a connection of the engine's own, in a transaction of its own."""
        if self.path is not None:
            return self.read()
        with self.engine.connect() as connection:
            return read(connection)


def new_epoch(connection):
    """Give every shard a new random epoch (in the caller's transaction): no version made before
    this can come back, whatever sum the shards hold afterwards."""
    epoch = new_epoch_value()
    if not connection.execute(update(versions).values(epoch=epoch)).rowcount:
        connection.execute(insert(versions).values(shard=0, generation=0, epoch=epoch))
    return epoch


# Engine events: listened to on the app's own engine only (track_writes).


def _forget(conn):
    # An invalidated connection (the database dropped it) has no info to clear, and asking for it
    # would try to reconnect in the middle of the rollback.
    if not conn.invalidated:
        conn.info.pop(WROTE, None)


def _note_write(conn, _cursor, statement, _parameters, context, _executemany):
    if WROTE in conn.info:
        return
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        conn.info[WROTE] = True  # Core and ORM writes, PostgreSQL's data-modifying WITH included
    elif statement.lstrip()[:7].upper().startswith(WRITE_VERBS):
        conn.info[WROTE] = True  # SQL sent as text (flask seed's executemany on SQLite)


def _bump_on_commit(conn):
    if not conn.info.pop(WROTE, False) or conn.get_execution_options().get(OPTION) is False:
        return
    conn.execute(bump_statement(conn))
    conn.info.pop(WROTE, None)


def _start_table(_table, connection, **_kw):
    """A table made by create_all (the tests) starts like the migration's: shard 0, a random epoch."""
    connection.execute(versions.insert().values(shard=0, generation=0, epoch=new_epoch_value()))


event.listen(versions, "after_create", _start_table)


def track_writes(app):
    """Make every commit on the app's engine that wrote change the data version."""
    with app.app_context():
        engine = db.engine
    event.listen(engine, "begin", _forget)
    event.listen(engine, "rollback", _forget)
    event.listen(engine, "after_cursor_execute", _note_write)
    event.listen(engine, "commit", _bump_on_commit)
