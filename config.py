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

    # Who may read: "signed-in" (default: every page but /login, /healthz and static files needs
    # an account) or "public" (anonymous visitors read everything except email addresses).
    READ_ACCESS = os.environ.get("READ_ACCESS", "signed-in")

    # Argon2id parameters (argon2-cffi's defaults, RFC 9106's low-memory choice). A hash made with
    # other parameters is re-hashed at the account's next sign-in.
    ARGON2_TIME_COST = int(os.environ.get("ARGON2_TIME_COST", 3))
    ARGON2_MEMORY_COST_KIB = int(os.environ.get("ARGON2_MEMORY_COST_KIB", 65536))
    ARGON2_PARALLELISM = int(os.environ.get("ARGON2_PARALLELISM", 4))

    # Brute force: this many failed sign-ins within the window lock out the account typed, or the
    # client address, until the window has passed (myapp/auth/throttle.py).
    SIGN_IN_WINDOW_SECONDS = 15 * 60
    SIGN_IN_ACCOUNT_LIMIT = 5
    SIGN_IN_ADDRESS_LIMIT = 50

    # Observability (myapp/observability): requests slower than this log their SQL statements'
    # timings; 0 logs them for every request.
    SLOW_REQUEST_MS = float(os.environ.get("SLOW_REQUEST_MS", 500))
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

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

    # Deployment hardening, applied by myapp/security.py. The hosts are not given to Flask's own
    # TRUSTED_HOSTS, whose check cannot match "[::1]"; unset means localhost, 127.0.0.1, [::1].
    @property
    def TRUSTED_HOSTS_SETTING(self):  # noqa: N802
        return os.environ.get("TRUSTED_HOSTS")

    @property
    def HTTPS(self):  # noqa: N802 - 1: Secure cookies and HSTS
        return os.environ.get("HTTPS", "").strip().lower() in ("1", "true", "yes", "on")

    @property
    def PROXY_COUNT(self):  # noqa: N802 - how many reverse proxies' X-Forwarded-* to believe
        return int(os.environ.get("PROXY_COUNT") or 0)

    @property
    def PAGE_CACHE_BYTES(self):  # noqa: N802
        # Rendered pages kept by each worker process (myapp/conditional/), least recently used out
        # first; 0 keeps none (ETags and 304s still work).
        return int(os.environ.get("PAGE_CACHE_BYTES", 16 * 1024 * 1024))

    @property
    def SNAPSHOT_MAX_AGE(self):  # noqa: N802
        # Snapshot mode: seconds browsers and shared caches may reuse a page without asking again
        # (Cache-Control: public, max-age); its data cannot change while the instance runs.
        return int(os.environ.get("SNAPSHOT_MAX_AGE", 60))

    @property
    def METRICS_TOKEN(self):  # noqa: N802
        # /metrics answers only `Authorization: Bearer <this>`; unset, it answers 404 (off).
        return os.environ.get("METRICS_TOKEN") or None


class ProductionConfig(Config):
    """The default: what `gunicorn wsgi:app` gets with no APP_CONFIG."""

    MIN_SECRET_KEY_LENGTH = 32  # refuse to start with a guessable SECRET_KEY


class DevelopmentConfig(Config):
    DEBUG = True


class SnapshotConfig(ProductionConfig):
    """A read-only copy of the SQLite file held in memory by each worker (myapp/snapshot.py)."""

    READ_ONLY = True


class TestingConfig(Config):
    TESTING = True
    # Cheap hashes: the suite makes hundreds of accounts. Production keeps the defaults above.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST_KIB = 1024
    ARGON2_PARALLELISM = 1
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
