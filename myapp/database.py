"""SQLite connection settings and transaction mode, attached to the app's own engine.

Nothing here runs for PostgreSQL: the listeners are added only when the engine is SQLite, and only
to this app's engine (a global listener on Engine would send PRAGMAs to every database).
"""

from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context, request
from sqlalchemy import event

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


def init_database(app):
    """Attach SQLite settings to the app's engine; a no-op for any other database."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    pragmas = sqlite_pragmas(app.config, memory=is_memory_database(engine.url))
    event.listen(engine, "connect", ConnectionSettings(pragmas))
    event.listen(engine, "begin", begin_transaction)


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
    # without ever calling the busy handler. begin_transaction() below emits BEGIN instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for name, value in pragmas:
            cursor.execute(f"PRAGMA {name} = {value}")
    finally:
        cursor.close()


def begin_transaction(connection):
    # IMMEDIATE takes the write lock now and waits up to busy_timeout for it, so concurrent
    # writers queue instead of failing; deferred reads never wait for each other in WAL mode.
    connection.exec_driver_sql("BEGIN IMMEDIATE" if wants_write_lock() else "BEGIN")
