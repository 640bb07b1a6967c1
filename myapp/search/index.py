"""The search index's DDL, in one place for the migration, the tests' create_all and `flask seed`.

SQLite: an FTS5 table with the trigram tokenizer per searched table, "external content" (it keeps
only the index; the text stays in users/posts, read through content_rowid = id), kept in step by
AFTER INSERT/UPDATE/DELETE triggers. PostgreSQL: the pg_trgm extension, and GIN trigram indexes
declared on the models (myapp/models/content.py) for the planner to use with ILIKE.

A trap for later migrations: a SQLite batch rebuild of users or posts (op.batch_alter_table,
recreate) drops the table's triggers without a word, and the index then silently goes stale. Any
such migration must end with create_triggers(op.get_bind(), "users") (or "posts") and, if rows
changed meanwhile, rebuild(). migrations/env.py says so too.

These definitions are what migration 0005 made: changing them means a new migration.
"""

from contextlib import contextmanager

from sqlalchemy import event

from ..models import Post, User

# searched table -> (FTS table, its columns); the FTS columns have the names of the table's.
FTS_TABLES = {"users": ("users_fts", ("username", "email")), "posts": ("posts_fts", ("title",))}
# What FTS5 makes beside each table to hold the index ("external content": no _content table).
SHADOW_SUFFIXES = ("_data", "_idx", "_docsize", "_config", "_content")


def fts_table_names():
    """Every table the FTS index consists of, shadow tables included (env.py leaves them alone)."""
    names = set()
    for fts, _columns in FTS_TABLES.values():
        names.add(fts)
        names.update(fts + suffix for suffix in SHADOW_SUFFIXES)
    return names


def create_table_sql(table):
    fts, columns = FTS_TABLES[table]
    return (
        f"CREATE VIRTUAL TABLE {fts} USING fts5({', '.join(columns)}, "
        f"content='{table}', content_rowid='id', tokenize='trigram')"
    )


def trigger_sql(table):
    """The three triggers that keep table's FTS index in step with its rows, by name."""
    fts, columns = FTS_TABLES[table]
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    add = f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new});"
    # External content: the index forgets a row by being told its old values.
    remove = f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old});"
    # After an update only of the searched text (or the id): a new post updates its author's
    # post_count, and that must not rewrite the author's index entry.
    events = {
        "insert": ("INSERT", add),
        "delete": ("DELETE", remove),
        "update": (f"UPDATE OF id, {names}", remove + " " + add),
    }
    return {
        f"{fts}_after_{event}": f"CREATE TRIGGER {fts}_after_{event} AFTER {when} ON {table} BEGIN {body} END"
        for event, (when, body) in events.items()
    }


def create_triggers(connection, table):
    """(Re)create table's index triggers; call it after any batch rebuild of users or posts."""
    for name, sql in trigger_sql(table).items():
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        connection.exec_driver_sql(sql)


def drop_triggers(connection, table):
    for name in trigger_sql(table):
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


def rebuild(connection, table):
    """Re-read every row of table into its index (after a bulk load without the triggers)."""
    fts, _columns = FTS_TABLES[table]
    connection.exec_driver_sql(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


@contextmanager
def bulk_insert(connection, tables):
    """Rows inserted inside this block (in the caller's transaction) are indexed in one statement per
    table at its end, instead of one trigger call per row: `flask seed` runs 3-4x faster so.

    The triggers are dropped and made again inside the same transaction, which holds SQLite's
    write lock, so no other connection ever writes while they are missing. New rows are the ones
    whose id is above the highest before the block (ids only grow: AUTOINCREMENT).
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    highest = {
        t: connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {t}").scalar() for t in tables
    }
    for t in tables:
        drop_triggers(connection, t)
    yield
    for t in tables:
        fts, columns = FTS_TABLES[t]
        names = ", ".join(columns)
        connection.exec_driver_sql(
            f"INSERT INTO {fts}(rowid, {names}) SELECT id, {names} FROM {t} WHERE id > ?", (highest[t],)
        )
        create_triggers(connection, t)


def create_index(connection, table):
    """The FTS table, filled from the rows already there, and its triggers (SQLite)."""
    connection.exec_driver_sql(create_table_sql(table))
    rebuild(connection, table)
    create_triggers(connection, table)


def drop_index(connection, table):
    drop_triggers(connection, table)
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS_TABLES[table][0]}")


# PostgreSQL: (index, table, column), declared on the models too (myapp/models/content.py).
TRIGRAM_INDEXES = [
    ("ix_users_username_trgm", "users", "username"),
    ("ix_users_email_trgm", "users", "email"),
    ("ix_posts_title_trgm", "posts", "title"),
]


def flush_trigram_pending(connection):
    """Move the GIN indexes' pending lists into the indexes proper (PostgreSQL, after a bulk load).

    GIN's fastupdate keeps new entries in a pending list (up to 4 MB) that every search reads in
    full, until autovacuum merges it: at a million rows that tripled the time of a rare term's
    search (30 ms against 8 ms). Writes stay cheap; a bulk loader flushes the list at its end.
    """
    for name, _table, _column in TRIGRAM_INDEXES:
        connection.exec_driver_sql(f"SELECT gin_clean_pending_list('{name}'::regclass)")


def create_trigram_extension(connection):
    """pg_trgm, for the GIN trigram indexes (a trusted extension: the database owner may add it)."""
    connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")


# The tests' create_all builds the same index as the migration: one definition.
@event.listens_for(User.__table__, "before_create")
@event.listens_for(Post.__table__, "before_create")
def _before_create(table, connection, **_kw):
    if connection.dialect.name == "postgresql":
        create_trigram_extension(connection)


@event.listens_for(User.__table__, "after_create")
@event.listens_for(Post.__table__, "after_create")
def _after_create(table, connection, **_kw):
    if connection.dialect.name == "sqlite":
        create_index(connection, table.name)


@event.listens_for(User.__table__, "before_drop")
@event.listens_for(Post.__table__, "before_drop")
def _before_drop(table, connection, **_kw):
    if connection.dialect.name == "sqlite":
        drop_index(connection, table.name)
