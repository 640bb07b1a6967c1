"""The two scratch databases of bench/million.py: made, looked into and dropped here.

Only what the bench needs to read without the app: the kept counts and a user's id by name.
"""

import shutil
import sqlite3

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

COUNTS = "SELECT name, n FROM row_counts"  # sharded on PostgreSQL: users, users:1, ... (myapp/counters.py)
USER_ID = "SELECT id FROM users WHERE lower(username) = lower(:name)"


def totals(rows):
    counts = {"users": 0, "posts": 0}
    for name, n in rows:
        table = name.partition(":")[0]
        if table in counts:
            counts[table] += n
    return counts["users"], counts["posts"]


class ScratchDatabase:
    """What both databases answer the same way, through their own query() and exists()."""

    def seeded_users(self):
        if not self.exists():
            return 0
        try:
            return self.totals()[0]
        except Exception:  # no tables yet: not seeded
            return 0

    def totals(self):
        return totals(self.query(COUNTS))

    def user_id(self, name):
        rows = self.query(USER_ID, name=name)
        return rows[0][0] if rows else None


class SqliteDatabase(ScratchDatabase):
    kind = "sqlite"

    def __init__(self, folder):
        self.folder = folder
        self.path = folder / "app.db"
        self.url = f"sqlite:///{self.path}"

    def describe(self):
        return str(self.path)

    def query(self, sql, **params):
        conn = sqlite3.connect(self.path)
        try:
            return conn.execute(sql.replace(":name", "?"), tuple(params.values())).fetchall()
        finally:
            conn.close()

    def exists(self):
        return self.path.exists()

    def server_version(self):
        return f"SQLite {sqlite3.sqlite_version}"

    def recreate(self):
        self.drop()
        self.folder.mkdir(parents=True)

    def drop(self):
        shutil.rmtree(self.folder, ignore_errors=True)


class PostgresDatabase(ScratchDatabase):
    """The database named in url, made and dropped through the server's `postgres` database."""

    kind = "postgresql"

    def __init__(self, url):
        self.url = url
        self.name = make_url(url).database
        admin_url = make_url(url).set(database="postgres")
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")

    def describe(self):
        return f"database {self.name} on {make_url(self.url).host}"

    def exists(self):
        with self.admin.connect() as conn:
            return (
                conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": self.name})
                is not None
            )

    def query(self, sql, **params):
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return conn.execute(text(sql), params).all()
        finally:
            engine.dispose()

    def server_version(self):
        return "PostgreSQL " + self.query("SHOW server_version")[0][0].split()[0]

    def recreate(self):
        self.drop()
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{self.name}"')

    def drop(self):
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin.dispose()
