"""`flask seed`: deterministic demo users and posts, inserted in batches with Core executemany."""

import sys
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import BigInteger, any_, bindparam, column, func, insert, select, table, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from .. import page_counts
from ..counters import add_to_total
from ..data_version import new_epoch
from ..database import write_intent
from ..extensions import db
from ..history.writer import record
from ..models import Post, User
from ..search import index as search_index

users = User.__table__
posts = Post.__table__

# Every value derives from the user's number n, so the same command gives the same rows:
# user n joined EPOCH + n minutes, and wrote post k (0-based) k + 1 hours later.
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
DOMAIN = "@example.com"
TOPICS = ("gardening", "bread", "chess", "rivers", "bicycles", "tea", "old maps", "jazz", "stars", "knots")
KINDS = ("Notes on", "A week of", "Questions about", "Why I like", "First steps in", "More on")
# Rows per transaction: big enough that commits are rare, small enough to hold in memory.
BATCH_ROWS = 80_000


def username(n):
    return f"user{n:06d}"


class Stamps:
    """Timestamps EPOCH + m minutes in the driver's form (what the UTCDateTime column would bind)."""

    def __init__(self, dialect):
        column_type = users.c.created_at.type.dialect_impl(dialect)
        self.process = column_type.bind_processor(dialect) or (lambda value: value)
        self.cache = {}

    def __getitem__(self, minute):
        value = self.cache.get(minute)
        if value is None:
            value = self.cache[minute] = self.process(EPOCH + timedelta(minutes=minute))
        return value

    def forget_before(self, minute):
        self.cache = {m: value for m, value in self.cache.items() if m >= minute}


USER_COLUMNS = ("id", "username", "email", "post_count", "version", "created_at", "updated_at")
POST_COLUMNS = ("user_id", "title", "body", "version", "created_at", "updated_at")
# The tables without column types: values go to the driver as given, already in its own form
# (timestamps are converted once per distinct minute, not twice per row). About 2x faster.
raw_users = table("users", *(column(name) for name in USER_COLUMNS))
raw_posts = table("posts", *(column(name) for name in POST_COLUMNS))


def user_rows(numbers, ids, posts_per_user, stamps):
    for n, user_id in zip(numbers, ids, strict=True):
        name = username(n)
        stamp = stamps[n]
        yield (user_id, name, f"{name}{DOMAIN}", posts_per_user, 1, stamp, stamp)


def post_rows(numbers, ids, posts_per_user, stamps):
    for n, user_id in zip(numbers, ids, strict=True):
        name = username(n)
        for k in range(posts_per_user):
            stamp = stamps[n + 60 * (k + 1)]
            title = f"{KINDS[(n + k) % len(KINDS)]} {TOPICS[(n * 7 + k) % len(TOPICS)]}, part {k + 1}"
            yield (user_id, title, f"Post {k + 1} of {name}, written for the demo data.", 1, stamp, stamp)


def insert_rows(connection, raw_table, columns, rows):
    """executemany of value tuples; on SQLite straight to the driver, which is 20% faster."""
    stmt = insert(raw_table)
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(str(stmt.compile(dialect=connection.dialect)), list(rows))
    else:
        connection.execute(stmt, [dict(zip(columns, row, strict=True)) for row in rows])


def highest_seeded_number(connection):
    """The highest n of any user named user<n> or mailed user<n>@example.com, real or seeded.

    Seeding continues after it, so a second run (or a person who took such a name) never
    collides. The digits are found in SQL, with leading zeros ignored.
    """
    highest = 0
    for key, suffix in ((func.lower(users.c.username), ""), (func.lower(users.c.email), DOMAIN)):
        local = func.substr(key, 1, func.length(key) - len(suffix)) if suffix else key
        digits = func.substr(local, 5)
        number = func.ltrim(digits, "0")
        stmt = select(number).where(key.like(f"user%{suffix}"), func.ltrim(digits, "0123456789") == "")
        if connection.dialect.name == "sqlite":
            # The same rows as a range of the lower() index ('user:' is just past 'user9'), which
            # SQLite reads from the index instead of scanning the table.
            stmt = stmt.where(key >= "user0", key < "user:")
        stmt = stmt.order_by(func.length(number).desc(), number.desc()).limit(1)
        highest = max(highest, int(connection.scalar(stmt) or 0))
    return highest


def reserve_ids(connection, table, count):
    """The ids the next `count` rows of table will take, reserved inside the open transaction."""
    if connection.dialect.name == "postgresql":
        # From the table's own sequence, so concurrent inserts by the app never collide with ours.
        sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name})
        stmt = text("SELECT nextval(CAST(:s AS regclass)) FROM generate_series(1, :n)")
        return list(connection.scalars(stmt, {"s": sequence, "n": count}))
    # SQLite: the transaction holds the write lock (BEGIN IMMEDIATE), so max(id) cannot move. Past
    # the AUTOINCREMENT counter too: the id of a deleted row is never handed out again.
    used = connection.scalar(text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table.name})
    start = max(connection.scalar(select(func.max(table.c.id))) or 0, used or 0) + 1
    return range(start, start + count)


def among(connection, column, ids):
    """column is one of the batch's ids. SQLite's are a range (reserve_ids); PostgreSQL's come from
    the sequence, shared with the app's inserts, so a range could hold someone else's rows."""
    if connection.dialect.name != "postgresql":
        return column.between(ids[0], ids[-1])
    return column == any_(bindparam("batch_ids", list(ids), type_=ARRAY(BigInteger)))


@contextmanager
def bulk_load_settings(connection):
    """Looser settings on this one connection for the load, put back afterwards."""
    if connection.dialect.name != "sqlite":
        yield
        return
    cache_size = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    # A 512 MiB page cache keeps the indexes being filled in memory.
    connection.exec_driver_sql("PRAGMA cache_size = -512000")
    connection.commit()  # end the transaction the PRAGMAs began; each batch begins its own
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(cache_size)}")
        connection.commit()


def insert_batch(connection, first, count, posts_per_user, stamps):
    """Insert users first..first+count-1 and their posts, and update the counts, in one transaction."""
    numbers = range(first, first + count)
    stamps.forget_before(first)
    with write_intent(), connection.begin():
        ids = reserve_ids(connection, users, count)
        # The search index gets the batch's rows in one statement per table (search/index.py).
        with search_index.bulk_insert(connection, ("users", "posts")):
            insert_rows(connection, raw_users, USER_COLUMNS, user_rows(numbers, ids, posts_per_user, stamps))
            if posts_per_user:
                insert_rows(
                    connection, raw_posts, POST_COLUMNS, post_rows(numbers, ids, posts_per_user, stamps)
                )
        # The batch's rows per sort-key prefix, grouped (the ORM events count one row at a time).
        # Shard 0 of both kinds of counts, page counts first: the order every writer takes them in.
        page_counts.users_added(connection, among(connection, users.c.id, ids), writer=0)
        page_counts.posts_added(connection, among(connection, posts.c.user_id, ids), writer=0)
        add_to_total(connection, "users", count, shard=False)
        add_to_total(connection, "posts", count * posts_per_user, shard=False)
        # One history entry for the batch, in its transaction (not one per row: SPEC §13).
        names = f"{username(first)} to {username(first + count - 1)}"
        record(connection, "seed", f"seeded {count} users ({names}) and {count * posts_per_user} posts")


def refresh_statistics(connection):
    """Give the query planner row statistics for the tables that just grew.

    Without them SQLite sorts every post for /posts?sort=author instead of walking the users
    index (175 ms against 4 ms a page at 300k posts). analysis_limit bounds the work on big tables.
    PostgreSQL's search indexes get their pending entries merged (search/index.py).
    PostgreSQL gets VACUUM too: it marks the new rows' pages all-visible, without which an
    index-only scan still visits the table for every row (a typed deep page of 2M posts read
    2M heap rows: 1.2 s, 0.35 s after VACUUM). Autovacuum would get there, later.
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA analysis_limit = 1000")
        connection.exec_driver_sql("ANALYZE")
        connection.exec_driver_sql("PRAGMA optimize")
        connection.commit()
    else:
        search_index.flush_trigram_pending(connection)
        connection.commit()
        # VACUUM cannot run inside a transaction block: this connection's next statement autocommits.
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            "VACUUM (ANALYZE) users, posts"
        )


def load(user_count, posts_per_user):
    """Insert the users and posts in batches, each its own transaction; return the first number."""
    with db.engine.connect() as connection, bulk_load_settings(connection):
        with write_intent(), connection.begin():
            first = highest_seeded_number(connection) + 1
            new_epoch(connection)  # every batch's commit changes the data version; so does the start
        stamps = Stamps(connection.dialect)
        batch = max(1, BATCH_ROWS // (1 + posts_per_user))
        # On stderr, so that the summary line on stdout stays clean for scripts.
        with click.progressbar(length=user_count, label="Seeding users", file=sys.stderr) as bar:
            for start in range(first, first + user_count, batch):
                count = min(batch, first + user_count - start)
                insert_batch(connection, start, count, posts_per_user, stamps)
                bar.update(count)
        refresh_statistics(connection)
    return first


@click.command("seed")
@click.option("--users", "user_count", type=click.IntRange(min=0), default=100, show_default=True)
@click.option("--posts-per-user", type=click.IntRange(min=0, max=1000), default=3, show_default=True)
@with_appcontext
def seed(user_count, posts_per_user):
    """Add N deterministic demo users with M posts each, numbered after any existing user<n>."""
    try:
        first = load(user_count, posts_per_user)
    except IntegrityError as error:
        # A user<n> name taken while we loaded: the batches before this one are kept.
        raise click.ClickException(f"a seeded user collided with an existing one: {error.orig}") from None
    except (OperationalError, ProgrammingError) as error:
        raise click.ClickException(f"{error.orig} (has `flask db upgrade` been run?)") from None
    last = first + user_count - 1
    if user_count:
        click.echo(
            f"Added {user_count} users ({username(first)} to {username(last)}) "
            f"and {user_count * posts_per_user} posts."
        )
    else:
        click.echo("Added no users (--users 0).")
