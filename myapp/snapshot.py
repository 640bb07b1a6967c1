"""Read-only snapshot mode (APP_CONFIG=snapshot): each process serves a copy of the SQLite file
held in a named shared in-memory database, and every route that writes answers 403.

The copy is made per process on its first connection (gunicorn's post_fork asks for one at once,
so a worker is ready before it serves), never in a parent before a fork: an SQLite handle, and a
shared in-memory database with it, must not cross a fork.
"""

import os
import secrets
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from flask import abort, request
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from .database import SAFE_METHODS, is_memory_database

WRITE_VIEWS = frozenset({"create", "edit", "delete"})
READ_ONLY_MESSAGE = (
    "This site serves a read-only snapshot of its database: adding, editing and deleting are turned off."
)


class MemorySnapshot:
    """The in-memory copy of one SQLite file, made once per process and kept alive by a connection."""

    def __init__(self, source):
        self.source = source
        self.name = f"snapshot-{secrets.token_hex(4)}"
        self.lock = threading.Lock()
        self.pid = None
        self.keeper = None  # the connection that keeps the shared in-memory database alive
        self.taken_at = None

    def uri(self):
        # The pid in the name keeps a process from ever opening a copy made by its parent.
        return f"file:{self.name}-{os.getpid()}?mode=memory&cache=shared"

    def connect(self):
        """SQLAlchemy's creator: a connection to this process's copy, made first if need be."""
        self.load()
        conn = sqlite3.connect(self.uri(), uri=True, check_same_thread=False)
        conn.execute("PRAGMA query_only = ON")  # a write that slipped past the 403 still fails
        return conn

    def load(self):
        if self.pid == os.getpid():
            return
        with self.lock:
            if self.pid == os.getpid():
                return
            keeper = sqlite3.connect(self.uri(), uri=True, check_same_thread=False)
            source = sqlite3.connect(f"file:{quote(self.source)}?mode=ro", uri=True, timeout=30)
            try:
                source.backup(keeper)  # one step, one read transaction: a consistent copy
            finally:
                source.close()
            self.keeper, self.pid, self.taken_at = keeper, os.getpid(), datetime.now(UTC)


def init_app(app):
    """Serve app from an in-memory copy of its SQLite file, and refuse every write."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or is_memory_database(url):
        raise ValueError("APP_CONFIG=snapshot serves a copy of a SQLite file: set DATABASE_URL to one")
    # Flask-SQLAlchemy reads a relative SQLite path inside the instance folder; so does this.
    source = Path(app.instance_path, url.database).resolve()
    snapshot = MemorySnapshot(str(source))
    app.extensions["snapshot"] = snapshot
    # mode=memory in the URL marks it as memory for myapp/database.py (no WAL pragma); the creator
    # makes the real connections. QueuePool and check_same_thread=False because SQLAlchemy would
    # otherwise pick SingletonThreadPool for a memory URL, which fails across threads.
    app.config["SQLALCHEMY_DATABASE_URI"] = (
        f"sqlite:///file:{snapshot.name}?mode=memory&cache=shared&uri=true"
    )
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
        "creator": snapshot.connect,
        "poolclass": QueuePool,
    }
    # Registered before CSRFProtect's hook, so a write gets this 403 rather than a CSRF 400.
    app.before_request(refuse_writes)


def refuse_writes():
    """403 for every method that writes and for the pages of forms that would."""
    view = (request.endpoint or "").rsplit(".", 1)[-1]
    if request.method not in SAFE_METHODS or view in WRITE_VIEWS:
        abort(403, description=READ_ONLY_MESSAGE)


def take_snapshot_now(app):
    """Make this process's copy now (gunicorn's post_fork); a note for the log, empty if not snapshot."""
    snapshot = app.extensions.get("snapshot")
    if snapshot is None:
        return ""
    from .extensions import db

    with db.engine.connect():
        pass
    return f"; snapshot of {snapshot.source} taken at {snapshot.taken_at.isoformat(timespec='seconds')}"


def snapshot_info(app):
    """What /healthz reports about the mode."""
    snapshot = app.extensions.get("snapshot")
    if snapshot is None:
        return {"mode": "read-write"}
    taken = snapshot.taken_at.isoformat(timespec="seconds") if snapshot.taken_at else None
    return {"mode": "snapshot", "snapshot_taken_at": taken}
