"""Configuration classes. Values that come from the environment are read when the app is made."""

import os
import secrets
from pathlib import Path


class Config:
    """Settings shared by every environment; production-safe defaults."""

    TESTING = False
    DEBUG = False
    # Flask-WTF: tokens do not expire with the page; the session cookie bounds them.
    WTF_CSRF_TIME_LIMIT = None
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 1024 * 1024))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"

    # SQLite connection settings, applied by myapp/database.py to each new connection.
    SQLITE_SYNCHRONOUS = os.environ.get("SQLITE_SYNCHRONOUS", "NORMAL")  # FULL survives power loss
    SQLITE_BUSY_TIMEOUT_MS = 5000
    SQLITE_CACHE_SIZE = int(os.environ.get("SQLITE_CACHE_SIZE", -64_000))  # negative = KiB: 64 MiB
    SQLITE_MMAP_SIZE = int(os.environ.get("SQLITE_MMAP_SIZE", 256 * 1024 * 1024))

    # PostgreSQL pool and timeouts, applied by myapp/database.py (README: the connection budget).
    # A sync worker serves one request at a time: one connection each, plus one of overflow.
    DB_POOL_SIZE = int(os.environ.get("DB_POOL_SIZE", 1))
    DB_MAX_OVERFLOW = int(os.environ.get("DB_MAX_OVERFLOW", 1))
    DB_POOL_TIMEOUT = int(os.environ.get("DB_POOL_TIMEOUT", 10))  # seconds to wait for a free one
    DB_CONNECT_TIMEOUT = int(os.environ.get("DB_CONNECT_TIMEOUT", 5))  # seconds
    DB_STATEMENT_TIMEOUT_MS = int(os.environ.get("DB_STATEMENT_TIMEOUT_MS", 15_000))  # < gunicorn's 30 s
    DB_LOCK_TIMEOUT_MS = int(os.environ.get("DB_LOCK_TIMEOUT_MS", 5_000))
    DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = int(os.environ.get("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", 60_000))

    # True in snapshot mode: every write answers 403 and the pages hide their controls.
    READ_ONLY = False

    PER_PAGE = 20
    MAX_PER_PAGE = 100
    # Above this many users the post form asks for an author id instead of listing everyone.
    AUTHOR_SELECT_LIMIT = 500

    @property
    def SQLALCHEMY_DATABASE_URI(self):  # noqa: N802 - Flask reads upper-case names
        # None means: a SQLite file app.db in the instance folder (filled in by create_app).
        return os.environ.get("DATABASE_URL") or None

    @property
    def SECRET_KEY(self):  # noqa: N802
        return os.environ.get("SECRET_KEY") or None


class ProductionConfig(Config):
    """The default: what `gunicorn wsgi:app` gets with no APP_CONFIG."""


class DevelopmentConfig(Config):
    DEBUG = True


class SnapshotConfig(ProductionConfig):
    """A read-only copy of the SQLite file held in memory by each worker (myapp/snapshot.py)."""

    READ_ONLY = True


class TestingConfig(Config):
    TESTING = True
    # No key in the code, even here: tests get one from their own temporary instance folder.

    @property
    def SQLALCHEMY_DATABASE_URI(self):  # noqa: N802
        # sqlite:// is one in-memory database shared by every thread (Flask-SQLAlchemy gives it a
        # StaticPool); TEST_DATABASE_URL runs the same suite on PostgreSQL.
        return os.environ.get("TEST_DATABASE_URL") or "sqlite://"


CONFIGS = {
    "production": ProductionConfig,
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "snapshot": SnapshotConfig,
}


def config_class(name):
    """The config class for a name such as 'testing'; unknown names are an error, not a default."""
    try:
        return CONFIGS[name.strip().lower()]
    except KeyError:
        raise ValueError(f"APP_CONFIG must be one of {', '.join(CONFIGS)}, not {name!r}") from None


def instance_secret_key(instance_path):
    """Read the instance folder's secret_key file, creating it (mode 0600) on first start."""
    path = Path(instance_path) / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        key = secrets.token_hex(32)
        f.write(key)
    return key
