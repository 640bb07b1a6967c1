"""Is a SQLite file exactly what this code's migrations make, with values of the right types and
kept counts that match the rows? Used by `flask restore` (on the backup) and `flask check-db`.

The expected schema is not a hand-kept list: it is read from a scratch database that the
migrations build in a temporary folder, once per process.
"""

import functools
import re
import sqlite3
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
# SQLite's own bookkeeping: AUTOINCREMENT counters and the planner's statistics (ANALYZE).
INTERNAL = {"sqlite_sequence", "sqlite_stat1", "sqlite_stat2", "sqlite_stat3", "sqlite_stat4"}
# How the app (SQLAlchemy's SQLite DateTime) writes a timestamp: 2026-01-31 12:34:56.789012.
TIMESTAMP_GLOB = (
    "-".join(["[0-9]" * 4, "[0-9]" * 2, "[0-9]" * 2]) + " " + ":".join(["[0-9]" * 2] * 3) + "." + "[0-9]" * 6
)
# Columns whose values have a lower bound the schema cannot say: counts and row versions.
MINIMUMS = {
    ("users", "post_count"): 0,
    ("users", "version"): 1,
    ("posts", "version"): 1,
    ("row_counts", "n"): 0,
    ("data_versions", "generation"): 0,
}


def normalized(sql):
    return re.sub(r"\s+", " ", sql or "").strip()


def read_schema(conn):
    """{(type, name): (table, normalized SQL)} of everything in sqlite_master but SQLite's own."""
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")
    return {(kind, name): (table, normalized(sql)) for kind, name, table, sql in rows if name not in INTERNAL}


def columns(conn, table):
    """{name: (declared type, not null, default, primary key position)} of a table."""
    rows = conn.execute(f'PRAGMA table_xinfo("{table}")')
    return {
        name: (kind.upper(), notnull, default, pk) for _cid, name, kind, notnull, default, pk, _hidden in rows
    }


class Expected:
    """What the migrations make: schema, columns per table, the migration stamp, the kept counts."""

    def __init__(self, conn):
        self.schema = read_schema(conn)
        self.tables = [name for (kind, name) in self.schema if kind == "table"]
        self.columns = {table: columns(conn, table) for table in self.tables}
        self.revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        self.counted = {name for (name,) in conn.execute("SELECT name FROM row_counts")}


@functools.cache
def expected():
    """Migrate an empty scratch database (in a temporary folder) and read what it holds."""
    import flask_migrate

    from config import TestingConfig

    from .. import create_app
    from ..extensions import db

    with tempfile.TemporaryDirectory(prefix="schema-check-") as folder:
        path = Path(folder) / "scratch.db"
        settings = {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SECRET_KEY": "scratch",
            "READ_ONLY": False,
        }
        scratch = create_app(type("ScratchConfig", (TestingConfig,), settings))
        with scratch.app_context():
            flask_migrate.upgrade(directory=str(PROJECT_ROOT / "migrations"), x_arg=["quiet=1"])
            db.engine.dispose()
        conn = sqlite3.connect(path)
        try:
            return Expected(conn)
        finally:
            conn.close()


def schema_differences(conn):
    """How conn's schema differs from the migrations' one, as lines; empty when it is the same."""
    want, found = expected(), []
    have = read_schema(conn)
    for kind, name in sorted(want.schema.keys() - have.keys(), key=tables_first):
        found.append(f"{kind} {name} is missing")
    for kind, name in sorted(have.keys() - want.schema.keys(), key=tables_first):
        found.append(f"{kind} {name} on {have[kind, name][0]} is not made by this app's migrations")
    for key in sorted(want.schema.keys() & have.keys()):
        if want.schema[key] != have[key]:
            found.append(f"{key[0]} {key[1]} differs from the migrations'{column_differences(conn, key)}")
    if not found:
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        if revision != [(want.revision,)]:
            stamp = ", ".join(r for (r,) in revision) or "none"
            found.append(f"it is stamped at migration {stamp}, this code's schema is {want.revision}")
    return found


def tables_first(key):
    return key[0] != "table", key


def column_differences(conn, key):
    kind, table = key
    if kind != "table":
        return ""
    want, have = expected().columns[table], columns(conn, table)
    notes = [f"lacks {name}" for name in want if name not in have]
    notes += [f"has an extra column {name}" for name in have if name not in want]
    notes += [
        f"{name} is {have[name][0] or 'untyped'}, not {want[name][0]}"
        for name in want
        if name in have and have[name][0] != want[name][0]
    ]
    return f": {', '.join(notes)}" if notes else " (constraints or defaults)"


def value_rule(column, declared):
    """An SQL condition that holds for a value of this declared type, written the app's way."""
    quoted = f'"{column}"'
    if "INT" in declared:
        return f"typeof({quoted}) = 'integer'"
    if "DATETIME" in declared or "TIMESTAMP" in declared:
        return (
            f"typeof({quoted}) = 'text' AND {quoted} GLOB '{TIMESTAMP_GLOB}' "
            # '+0 days' rolls Feb 31 over; the fraction stays out (SQLite rounds .9999995 up a second).
            f"AND datetime(substr({quoted}, 1, 19), '+0 days') = substr({quoted}, 1, 19)"
        )
    if "CHAR" in declared or "TEXT" in declared or "CLOB" in declared:
        return f"typeof({quoted}) = 'text'"
    return None


def value_problems(conn):
    """Values of the wrong type (ids, timestamps, text) or below their bound; one scan per table."""
    found = []
    for table, table_columns in expected().columns.items():
        checks = []
        for column, (declared, notnull, _default, _pk) in table_columns.items():
            rule = value_rule(column, declared)
            if rule is not None:
                if not notnull:
                    rule = f'"{column}" IS NULL OR ({rule})'
                checks.append((column, f"wrong type or form ({declared.lower()})", rule))
            if (table, column) in MINIMUMS:
                checks.append(
                    (column, f"below {MINIMUMS[table, column]}", f'"{column}" >= {MINIMUMS[table, column]}')
                )
        if not checks:
            continue
        # CASE, not NOT(rule): a rule that comes out NULL (datetime() of a bad date) is a failure.
        sums = ", ".join(f"coalesce(sum(CASE WHEN {rule} THEN 0 ELSE 1 END), 0)" for _c, _w, rule in checks)
        bad = conn.execute(f'SELECT {sums} FROM "{table}"').fetchone()
        for (column, what, _rule), n in zip(checks, bad, strict=True):
            if n:
                found.append(f"{table}.{column} has {n} value{'s' * (n != 1)} of {what}")
    return found


def count_problems(conn):
    """Where row_counts or users.post_count disagree with the rows themselves."""
    found = []
    kept = dict(conn.execute("SELECT name, n FROM row_counts"))
    for name in sorted(expected().counted | kept.keys()):
        if name not in expected().counted:
            found.append(f"row_counts has an unknown entry {name!r}")
            continue
        actual = conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
        if kept.get(name) != actual:
            found.append(f"row_counts says {kept.get(name)} {name}, the table has {actual}")
    wrong = conn.execute(
        "SELECT count(*) FROM users WHERE post_count != (SELECT count(*) FROM posts WHERE user_id = users.id)"
    ).fetchone()[0]
    if wrong:
        found.append(f"{wrong} user{'s' * (wrong != 1)} with a post_count that is not their number of posts")
    return found


def problems(conn):
    """Everything wrong with the file for this app; values are looked at only on the right schema."""
    return schema_differences(conn) or (value_problems(conn) + count_problems(conn))
