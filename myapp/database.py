"""SQLite connection settings and transaction mode (with the app's own wait for the write lock),
attached to the app's own engine; the PostgreSQL engine options and encoding check beside them.

Nothing SQLite-specific runs for PostgreSQL: the listeners are added only when the engine is
SQLite, and only to this app's engine (a global listener on Engine would send PRAGMAs to every
database). PostgreSQL gets its pool and per-connection timeouts from postgresql_engine_options(),
and a connection to a database that is not UTF8 is refused (require_utf8).
"""

import random
import sqlite3
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from .extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Set by CLI commands that write; requests decide by their HTTP method instead.
_cli_writes: ContextVar[bool] = ContextVar("cli_writes", default=False)


@contextmanager
def write_intent():
    """Make transactions begun inside this block take the write lock at BEGIN (for CLI commands)."""
    token = _cli_writes.set(True)
    try:
        yield
    finally:
        _cli_writes.reset(token)


def wants_write_lock():
    """A request that may write (POST, PATCH, ...) locks at BEGIN; reads stay deferred."""
    if _cli_writes.get():
        return True
    return has_request_context() and request.method not in SAFE_METHODS


def is_memory_database(url):
    database = url.database or ""
    return database in ("", ":memory:") or "mode=memory" in database or url.query.get("mode") == "memory"


def configure_engine(app):
    """Before the engine is made: PostgreSQL's pool and timeouts, unless the config sets its own."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql" and not app.config.get("SQLALCHEMY_ENGINE_OPTIONS"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = postgresql_engine_options(app.config)


def postgresql_engine_options(config):
    """Pool and per-connection settings for PostgreSQL (the README's "connection budget").

    Each sync gunicorn worker serves one request at a time, so it needs one connection, plus one
    of overflow; instances × WEB_CONCURRENCY × (pool size + overflow) must stay under the server's
    max_connections. The timeouts end a stuck lock wait or statement well before gunicorn's worker
    timeout kills the worker, and a transaction left idle (a crashed client of the pool) after a
    minute. pool_pre_ping tests each connection as it leaves the pool, so after the database
    restarts or drops the app's connections, the next request reconnects instead of failing.
    """
    settings = {
        "statement_timeout": int(config["DB_STATEMENT_TIMEOUT_MS"]),
        "lock_timeout": int(config["DB_LOCK_TIMEOUT_MS"]),
        "idle_in_transaction_session_timeout": int(config["DB_IDLE_IN_TRANSACTION_TIMEOUT_MS"]),
        # No JIT compilation: it pays off for long analytic queries, and this app runs short ones
        # whose cost estimate can still pass jit_above_cost (an export's cursor over 3M posts
        # spent 120 ms compiling before its first row; 6 ms without).
        "jit": "off",
    }
    return {
        "pool_pre_ping": True,
        "pool_size": int(config["DB_POOL_SIZE"]),
        "max_overflow": int(config["DB_MAX_OVERFLOW"]),
        "pool_timeout": int(config["DB_POOL_TIMEOUT"]),
        "connect_args": {
            "connect_timeout": int(config["DB_CONNECT_TIMEOUT"]),
            "options": " ".join(f"-c {name}={value}" for name, value in settings.items()),
        },
    }


def end_session(_error=None):
    """Teardown: end the request's session here, where a dropped connection cannot escape.

    Flask-SQLAlchemy's own teardown rolls back too, but outside every error handler: a ROLLBACK on
    a connection the database has closed would reach gunicorn as a bare HTML 500 after the app
    had answered. Nothing is left to roll back on a dead connection, so invalidate it and go on.
    A request that never used the session (a page from the cache) has none to end: none is made.
    """
    if not db.session.registry.has():
        return
    try:
        db.session.close()
    except DBAPIError:
        db.session().invalidate()


def init_database(app):
    """Attach SQLite settings to the app's engine; a no-op for any other database."""
    # Registered after Flask-SQLAlchemy's teardown, so it runs before it (teardowns run in reverse).
    app.teardown_appcontext(end_session)
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "postgresql":
        # First of all: SQLAlchemy's own first-connection setup already fails, cryptically, on a
        # SQL_ASCII database (its text arrives as bytes).
        event.listen(engine, "first_connect", require_utf8, insert=True)
        event.listen(engine, "connect", require_utf8)
    if engine.dialect.name != "sqlite":
        return
    pragmas = sqlite_pragmas(app.config, memory=is_memory_database(engine.url))
    event.listen(engine, "connect", ConnectionSettings(pragmas))
    event.listen(engine, "begin", TransactionBegin(int(app.config["SQLITE_BUSY_TIMEOUT_MS"])))


def require_utf8(dbapi_connection, _connection_record):
    """Refuse a PostgreSQL database whose encoding is not UTF8, at its first connection.

    Search and exports rely on it: ILIKE is lower(text) LIKE lower(pattern) only in a multibyte
    encoding (myapp/search/match.py walks with the latter), and the CSV formula guard reads a code
    point with ascii() (myapp/sql_csv.py). The server reports its encoding when the connection
    opens, so this costs no query.
    """
    encoding = dbapi_connection.info.parameter_status("server_encoding")
    if encoding != "UTF8":
        raise RuntimeError(
            f"the PostgreSQL database's encoding is {encoding}; this app needs UTF8 "
            "(CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE template0)"
        )


def sqlite_pragmas(config, memory):
    synchronous = str(config["SQLITE_SYNCHRONOUS"]).upper()
    if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"SQLITE_SYNCHRONOUS must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")
    pragmas = [
        ("busy_timeout", int(config["SQLITE_BUSY_TIMEOUT_MS"])),
        ("foreign_keys", "ON"),
        ("synchronous", synchronous),
        ("cache_size", int(config["SQLITE_CACHE_SIZE"])),
        ("temp_store", "MEMORY"),
        ("mmap_size", int(config["SQLITE_MMAP_SIZE"])),
    ]
    if not memory:
        pragmas.insert(0, ("journal_mode", "WAL"))  # readers and one writer at once; file databases only
    return pragmas


class ConnectionSettings:
    """The engine's connect listener: applies the PRAGMAs to each new SQLite connection."""

    def __init__(self, pragmas):
        self.pragmas = pragmas

    def __call__(self, dbapi_connection, _connection_record):
        configure_connection(dbapi_connection, self.pragmas)


def configure_connection(dbapi_connection, pragmas):
    # Take BEGIN away from pysqlite: its legacy mode begins lazily and deferred, so a transaction
    # that reads and then writes cannot upgrade its lock and fails with "database is locked"
    # without ever calling the busy handler. TransactionBegin below emits BEGIN instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for name, value in pragmas:
            cursor.execute(f"PRAGMA {name} = {value}")
    finally:
        cursor.close()


class TransactionBegin:
    """The engine's begin listener (SQLite): BEGIN for reads, BEGIN IMMEDIATE for writes.

    IMMEDIATE takes the write lock now, so concurrent writers queue instead of failing; deferred
    reads never wait for each other in WAL mode. The wait for the lock is ours, not SQLite's
    busy_timeout: SQLite naps 1, 2, 5, 10 ... 25, 50 and then 100 ms between tries, so with more
    writers than one a waiter sleeps through many hand-overs of a lock held 2-3 ms, and POST
    /api/users from 16 threads had a p99 of 0.5-1.4 s. Here the tries are made with no SQLite
    wait, after naps growing from 0.1 to 0.3 ms (with jitter, so that waiters do not wake together),
    until busy_timeout has passed. One thread of a process tries at a time; its other writers wait
    on a lock of the process, which wakes them at once and leaves the GIL to the thread writing.
    """

    def __init__(self, busy_timeout_ms):
        self.busy_timeout_ms = busy_timeout_ms
        self.trying = threading.Lock()

    def __call__(self, connection):
        if not wants_write_lock():
            connection.exec_driver_sql("BEGIN")
            return
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        # The PRAGMAs straight to the driver: bookkeeping, not the request's statements.
        sqlite = connection.connection.dbapi_connection
        sqlite.execute("PRAGMA busy_timeout = 0")
        try:
            if not self.trying.acquire(timeout=self.busy_timeout_ms / 1000):
                deadline = time.monotonic()  # one last try, whose "database is locked" goes up
                begin_immediate(connection, deadline)
                return
            try:
                begin_immediate(connection, deadline)
            finally:
                self.trying.release()
        finally:
            sqlite.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")


# Short: the lock stays free for the rest of a nap after its holder commits (naps of up to 1 ms
# cost 14% of the writers' throughput at 16 threads; of up to 0.3 ms, none measurable).
FIRST_NAP, LONGEST_NAP = 0.0001, 0.0003  # seconds
SQLITE_BUSY = 5


def begin_immediate(connection, deadline):
    """BEGIN IMMEDIATE, tried again after short naps while another connection writes, until the
    deadline (time.monotonic()); then its "database is locked" error goes up (the app: 503).

    The first try goes through SQLAlchemy, as every statement does (so the statement shows in the
    request's log and tests). The tries while waiting go straight to the driver: a failed try
    through SQLAlchemy builds and wraps an exception, and there may be hundreds a second.
    """
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        return
    except OperationalError as error:
        if getattr(error.orig, "sqlite_errorcode", None) != SQLITE_BUSY or time.monotonic() >= deadline:
            raise
    sqlite = connection.connection.dbapi_connection
    nap = FIRST_NAP
    while True:
        time.sleep(nap * random.uniform(0.5, 1.5))
        nap = min(nap * 2, LONGEST_NAP)
        if time.monotonic() >= deadline:
            break
        try:
            sqlite.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != SQLITE_BUSY:
                break
    connection.exec_driver_sql("BEGIN IMMEDIATE")  # the last try: its error goes up
