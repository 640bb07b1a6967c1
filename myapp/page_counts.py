"""Rows per prefix of a list's sort key: a typed ?page=N without counting past the rows before it.

OFFSET walks every index entry it skips (half of 3M posts for a middle page: 65 ms on SQLite,
180 ms on PostgreSQL). Instead, for the unfiltered lists in their default sort order (users by
username, posts by date, either direction), page_counts holds how many rows have each prefix of the
sort key's text, at a few prefix lengths: a trie of counts. The page's first row is found by
walking down it from the root, reading the children of one prefix at a time (tens of small rows)
and skipping whole children by their counts, then counting (OFFSET) inside the deepest prefix only.
Exact, because a prefix of the key sorts as the key does (code point order: SQLite's BINARY; on
PostgreSQL the users list is served this way only under a C collation, see covers()).

  users: lower(username), prefixes of 1 to 8 characters
  posts: created_at as UTC text 'YYYY-MM-DD HH:MM:SS', to the year, month, day and hour

The counts change in the transaction that changes the rows, like myapp/counters.py and from the
same ORM events (a user added, renamed or deleted with their posts; a post added or deleted; history
undo goes through the ORM too). `flask seed` adds each batch's counts itself, grouped; `flask
restore` and the migration count everything again (rebuild).

PostgreSQL: a writer adds to rows of its own shard (by process and thread, as the row counts do), so
the writers of new posts, which all touch this hour's prefixes, do not queue on one row; a read
sums the shards of each child. Prefixes whose count falls to 0 stay (they cost a row, not a wrong
answer). Lock order (myapp/transactions.py, step 3): after the users rows, before the row counts'
shards (these listeners are registered first; counters.py calls user_deleted first); a write takes
its rows in (list, level, prefix) order.

A page's walk takes several statements: on PostgreSQL (READ COMMITTED) a write committed between
two of them can shift that one page by the rows it added or removed, as a total read before an
OFFSET could; every request after the write sees it whole.
"""

import os
import threading
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, func, inspect, literal, select, text, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from . import counters  # a module: counters imports this one too
from .extensions import db
from .models import PageCount, Post, User

page_counts = PageCount.__table__
users = User.__table__
posts = Post.__table__
INSERTS = {"postgresql": pg_insert, "sqlite": sqlite_insert}
TIME_TEXT = "YYYY-MM-DD HH24:MI:SS"  # PostgreSQL's to_char of the text SQLite stores (to the second)
# A prefix of the time's text at each level below the month, as strptime reads it, and its span.
TIME_SPANS = {
    10: ("%Y-%m-%d", timedelta(days=1)),
    13: ("%Y-%m-%d %H", timedelta(hours=1)),
    16: ("%Y-%m-%d %H:%M", timedelta(minutes=1)),
    19: ("%Y-%m-%d %H:%M:%S", timedelta(seconds=1)),
}
_COLLATION_IS_C = weakref.WeakKeyDictionary()  # {engine: bool}
C_COLLATIONS = {"c", "posix", "c.utf-8", "c.utf8", "ucs_basic"}


@dataclass(frozen=True)
class Trie:
    name: str  # page_counts.list
    sort: str  # the ?sort= name it serves, ascending or descending
    lengths: tuple  # prefix lengths, shortest first

    def prefixes(self, key):
        """(level, parent, prefix) of a key's text at every level."""
        shorter = (0, *self.lengths)
        return [(n, key[:m], key[:n]) for m, n in zip(shorter, self.lengths, strict=False)]


USERS = Trie("users", "username", (1, 2, 3, 4, 5, 6, 7, 8))
# To the hour: the deepest prefix holds an hour of posts (180 in the seeded data; an OFFSET over
# 10,000 is about a millisecond), and the table one row per hour, not per minute with posts.
POSTS = Trie("posts", "created", (4, 7, 10, 13))


def user_key(dialect, column):
    return func.lower(column)


def post_key(dialect, column):
    """created_at as text, to the second; SQLite stores exactly this text (and microseconds)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), TIME_TEXT)
    return func.substr(column, 1, 19)


def shard(connection):
    if connection.dialect.name != "postgresql":
        return 0
    return hash((os.getpid(), threading.get_ident())) % counters.SHARDS


# Writes: every change of users or posts adds to the counts in its own transaction.


COLUMNS = ("list", "level", "parent", "prefix", "shard", "n")
KEY = ("list", "level", "prefix", "shard")


def adding(stmt):
    """stmt (an INSERT of page_counts rows) adding to the rows that exist already."""
    return stmt.on_conflict_do_update(index_elements=KEY, set_={"n": page_counts.c.n + stmt.excluded.n})


def upsert_rows(connection, rows):
    """Add rows of (list, level, parent, prefix, shard, n), in lock order."""
    # One row's statement, executed for each (executemany): SQLAlchemy caches its compiled form,
    # where a multi-row VALUES was compiled again on every write (1.3 ms).
    values = [dict(zip(COLUMNS, row, strict=True)) for row in sorted(rows)]
    connection.execute(adding(INSERTS[connection.dialect.name](page_counts)), values)


def add_key(connection, trie, key, delta):
    """Count one row (delta 1) or uncount it (-1) under every prefix of its key's text."""
    if key is None:
        return
    writer = shard(connection)
    rows = [(trie.name, level, parent, prefix, writer, delta) for level, parent, prefix in trie.prefixes(key)]
    upsert_rows(connection, rows)


def username_key(connection, username):
    """lower(username) as the database computes it (the index's own function, not Python's)."""
    return connection.scalar(select(user_key(connection.dialect.name, literal(username))))


def created_key(created_at):
    """The text of a post's created_at (aware: UTCDateTime refuses naive ones) as post_key
    computes it from the stored value."""
    t = created_at.astimezone(UTC)
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}:{t.second:02d}"


def grouped(trie, source, key, delta_sign=1, writer=0):
    """The page_counts rows of the rows in source (a FROM clause; key: their sort key's text)."""
    selects = []
    previous = 0
    for length in trie.lengths:
        parent = func.substr(key, 1, previous) if previous else literal("")
        prefix = func.substr(key, 1, length)
        selects.append(
            select(
                literal(trie.name).label("list"),
                literal(length).label("level"),
                parent.label("parent"),
                prefix.label("prefix"),
                literal(writer).label("shard"),
                (func.count() * delta_sign).label("n"),
            )
            .select_from(source)
            .where(key.is_not(None))
            .group_by(parent, prefix)
        )
        previous = length
    return union_all(*selects).subquery()


def add_grouped(connection, trie, source, key, delta_sign=1, writer=None):
    """Add the counts of many rows at once."""
    rows = grouped(trie, source, key, delta_sign, shard(connection) if writer is None else writer)
    # In lock order, as upsert_rows does (a WHERE: SQLite's INSERT ... SELECT ... ON CONFLICT needs one).
    ordered = select(rows).where(literal(True)).order_by(rows.c.list, rows.c.level, rows.c.prefix)
    connection.execute(adding(INSERTS[connection.dialect.name](page_counts).from_select(COLUMNS, ordered)))


def users_added(connection, where, delta_sign=1, writer=None):
    """Count (or with -1 uncount) the users that where selects."""
    source = users.select().where(where).subquery()
    key = user_key(connection.dialect.name, source.c.username)
    add_grouped(connection, USERS, source, key, delta_sign, writer)


def posts_added(connection, where, delta_sign=1, writer=None):
    """Count (or with -1 uncount) the posts that where selects."""
    source = posts.select().where(where).subquery()
    key = post_key(connection.dialect.name, source.c.created_at)
    add_grouped(connection, POSTS, source, key, delta_sign, writer)


def rebuild(connection):
    """Count every row again (the migration, flask restore): the counts then match the tables."""
    connection.execute(page_counts.delete())
    users_added(connection, literal(True), writer=0)
    posts_added(connection, literal(True), writer=0)


def kept_sums(connection):
    """{(list, level, prefix): n} of every nonzero count, summed over shards."""
    names = (page_counts.c.list, page_counts.c.level, page_counts.c.prefix)
    kept_rows = connection.execute(select(*names, func.sum(page_counts.c.n)).group_by(*names))
    return {tuple(row[:3]): row[3] for row in kept_rows if row[3]}


def mismatches(connection, limit=20):
    """Where the kept counts (summed over shards) differ from the rows' (flask check-db)."""
    kept = kept_sums(connection)
    dialect = connection.dialect.name
    actual = {}
    for trie, table, key in ((USERS, users, user_key), (POSTS, posts, post_key)):
        source = table.select().subquery()
        column = source.c.username if trie is USERS else source.c.created_at
        rows = grouped(trie, source, key(dialect, column))
        actual |= {(row.list, row.level, row.prefix): row.n for row in connection.execute(select(rows))}
    wrong = sorted(key for key in kept.keys() | actual.keys() if kept.get(key, 0) != actual.get(key, 0))
    return [
        f"page_counts says {kept.get(key, 0)} {key[0]} start with {key[2]!r}, there are {actual.get(key, 0)}"
        for key in wrong[:limit]
    ]


# Reads: the ids of a typed page.


def covers(trie, sort):
    """True when this trie serves ?sort= (either direction) on this database."""
    if sort.removeprefix("-") != trie.sort:
        return False
    if trie is USERS and db.session.get_bind().dialect.name == "postgresql":
        return _c_collation()
    return True


def _c_collation():
    """lower(username)'s index sorts in code point order only under a C collation (PostgreSQL):
    under a language's collation a prefix does not sort as the names that start with it. Asked
    once per engine (to_jsonb: datlocprovider, ICU or libc, exists from PostgreSQL 15 on)."""
    engine = db.session.get_bind()
    known = _COLLATION_IS_C.get(engine)
    if known is None:
        stmt = text(
            "SELECT datcollate, to_jsonb(d) ->> 'datlocprovider' FROM pg_database AS d"
            " WHERE datname = current_database()"
        )
        collation, provider = db.session.execute(stmt).one()
        known = _COLLATION_IS_C[engine] = provider in (None, "c") and collation.lower() in C_COLLATIONS
    return known


def children(trie, level, parent):
    stmt = (
        select(page_counts.c.prefix, func.sum(page_counts.c.n))
        .where(page_counts.c.list == trie.name, page_counts.c.level == level, page_counts.c.parent == parent)
        .group_by(page_counts.c.prefix)
    )
    # Sorted here, in code point order, whatever the database's collation.
    return sorted(db.session.execute(stmt).all())


def locate(trie, offset, descending):
    """(prefix, rows before the page inside it) of the deepest prefix holding row offset, or None
    past the last row."""
    parent, left = "", offset
    for level in trie.lengths:
        rows = children(trie, level, parent)
        for prefix, n in reversed(rows) if descending else rows:
            if left < n:
                parent = prefix
                break
            left -= n
        else:
            return None
    return parent, left


def page_ids(trie, stmt, id_column, order, args):
    """A SELECT of the ids on a typed page (stmt: the list's rows, order: its ORDER BY), None past
    the last row, or False when this page cannot be found this way (the caller uses OFFSET)."""
    descending = args.sort.startswith("-")
    found = locate(trie, args.offset, descending)
    if found is None:
        return None
    prefix, left = found
    bound = _bound(trie, prefix, descending)
    if bound is None:
        return False
    return stmt.with_only_columns(id_column).where(bound).order_by(*order).limit(args.per_page).offset(left)


def _bound(trie, prefix, descending):
    """Where the rows of prefix begin, in the list's order: the page counts on from there."""
    if trie is USERS:
        key = func.lower(User.username)
        if not descending:
            return key >= prefix
        if len(prefix) < trie.lengths[-1]:
            return key <= prefix  # shorter than the level: the prefix is the whole key
        if ord(prefix[-1]) >= 0x10FFFF:
            return None
        return key < prefix[:-1] + chr(ord(prefix[-1]) + 1)
    start, end = _time_span(prefix)
    return Post.created_at < end if descending else Post.created_at >= start


def _time_span(prefix):
    """[start, end) of the times whose text starts with prefix ('2024', '2024-05', ... seconds)."""
    if len(prefix) == 4:
        year = int(prefix)
        return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    if len(prefix) == 7:
        year, month = int(prefix[:4]), int(prefix[5:7])
        start = datetime(year, month, 1, tzinfo=UTC)
        return start, datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    fmt, step = TIME_SPANS[len(prefix)]
    start = datetime.strptime(prefix, fmt).replace(tzinfo=UTC)
    return start, start + step


# The ORM's writes (forms, the API, history undo). A user's deletion is counted by
# myapp/counters.py, which deletes their posts itself once the user row is locked.


def row_key(connection, key, where):
    """The sort key's text of the row where selects, as the database computes it."""
    return connection.scalar(select(key).where(where))


def user_row_added(connection, user_id, delta):
    key = row_key(connection, user_key(connection.dialect.name, users.c.username), users.c.id == user_id)
    add_key(connection, USERS, key, delta)


@event.listens_for(User, "after_insert")
def _user_added(_mapper, connection, user):
    user_row_added(connection, user.id, 1)


@event.listens_for(User, "after_update")
def _user_renamed(_mapper, connection, user):
    history = inspect(user).attrs.username.history
    if history.deleted and history.added:
        add_key(connection, USERS, username_key(connection, history.deleted[0]), -1)
        user_row_added(connection, user.id, 1)


def user_deleted(connection, user_id):
    """Uncount a user and their posts: the user row is locked, and the posts not yet deleted."""
    user_row_added(connection, user_id, -1)
    posts_added(connection, posts.c.user_id == user_id, -1)


@event.listens_for(Post, "after_insert")
def _post_added(_mapper, connection, post):
    # The time the INSERT sent (a Python-side default), as text in the form post_key reads it
    # back; one upsert, no SELECT.
    add_key(connection, POSTS, created_key(post.created_at), 1)


@event.listens_for(Post, "before_delete")
def _post_deleted(_mapper, connection, post):
    # Before the DELETE, from the row itself. A delete that finds the row gone (a race) fails its
    # version check and rolls this back with it.
    key = row_key(connection, post_key(connection.dialect.name, posts.c.created_at), posts.c.id == post.id)
    add_key(connection, POSTS, key, -1)
