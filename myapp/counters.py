"""Exact counts kept in the transaction that changes them: rows per table and posts per user.

Every ORM insert, delete or author change of a post, and every insert or delete of a user, adjusts
the counts in the same flush, so they commit or roll back with the change itself. Bulk loaders
that bypass the ORM (flask seed) adjust them themselves, in their own transaction.

Row totals are sharded on PostgreSQL: a table's total is the sum of the row_counts rows named
"posts", "posts:1" ... "posts:15". A worker adds to its own shard (picked by process and thread),
so writers on several app servers do not all queue on one row lock until they commit; a read sums
at most 2 × SHARDS tiny rows. Shards appear on first use (an upsert), so no migration is needed.
SQLite has one writer at a time anyway and keeps one row per table.

Lock order (myapp/transactions.py): the shards are the last locks a write takes. Writes lock the
users rows they involve first, so the statement that adds to an author's post_count and to the
posts shard (one statement on PostgreSQL) can only wait for the shard; a transaction touches one
shard per table, users' before posts', so two shards are never taken in opposite orders.
"""

import os
import threading

from sqlalchemy import delete, event, func, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from . import page_counts
from .extensions import db
from .models import Post, RowCount, User

TABLES = ("users", "posts")
SHARDS = 16  # on PostgreSQL; about the number of workers that write at once, or more
row_counts = RowCount.__table__
users = User.__table__
posts = Post.__table__


def totals():
    """{'users': n, 'posts': n} in one query: the sum of each table's shards."""
    counts = dict.fromkeys(TABLES, 0)
    for name, n in db.session.execute(select(RowCount.name, RowCount.n)).all():
        table = name.partition(":")[0]
        if table in counts:
            counts[table] += n
    return counts


def total(name):
    return totals()[name]


def shard_name(connection, name):
    """This worker's shard of a table's total; on SQLite the one row."""
    if connection.dialect.name != "postgresql":
        return name
    shard = hash((os.getpid(), threading.get_ident())) % SHARDS
    return f"{name}:{shard}" if shard else name


def shard_upsert(connection, deltas):
    """INSERT ... ON CONFLICT DO UPDATE adding {table: delta} to this worker's shards (PostgreSQL),
    in the order of TABLES: users' shard before posts'."""
    rows = [{"name": shard_name(connection, name), "n": deltas[name]} for name in TABLES if deltas.get(name)]
    upsert = pg_insert(row_counts).values(rows)
    return upsert.on_conflict_do_update(
        index_elements=[row_counts.c.name], set_={"n": row_counts.c.n + upsert.excluded.n}
    )


def add_to_total(connection, name, delta, shard=True):
    """Add delta to a table's total (to this worker's shard of it on PostgreSQL)."""
    if not delta:
        return
    if shard and connection.dialect.name == "postgresql":
        connection.execute(shard_upsert(connection, {name: delta}))
    else:
        connection.execute(
            update(row_counts).where(row_counts.c.name == name).values(n=row_counts.c.n + delta)
        )


def post_count_update(user_id, delta):
    # updated_at is set to itself so that its onupdate default does not fire: a new post
    # does not change the user.
    return (
        update(users)
        .where(users.c.id == user_id)
        .values(post_count=users.c.post_count + delta, updated_at=users.c.updated_at)
    )


def add_to_post_count(connection, user_id, delta):
    connection.execute(post_count_update(user_id, delta))


def post_added_or_removed(connection, user_id, delta):
    """The author's post_count and the posts total; one statement on PostgreSQL (a data-modifying
    WITH), as the counts are the part of a post create that the upper bound has not. The author's
    row is locked already (lock order, step 1), so the statement can only wait for the shard."""
    if connection.dialect.name != "postgresql":
        add_to_post_count(connection, user_id, delta)
        add_to_total(connection, "posts", delta)
        return
    bump = post_count_update(user_id, delta).cte("post_count")
    connection.execute(shard_upsert(connection, {"posts": delta}).add_cte(bump))


@event.listens_for(RowCount.__table__, "after_create")
def _start_counts(_table, connection, **_kw):
    connection.execute(row_counts.insert(), [{"name": name, "n": 0} for name in TABLES])


@event.listens_for(User, "after_insert")
def _user_added(_mapper, connection, _user):
    add_to_total(connection, "users", 1)


@event.listens_for(User, "before_delete")
def _user_deleted(_mapper, connection, user):
    # Delete the posts here rather than leave them to ON DELETE CASCADE, and count what this
    # DELETE removed: a count(*) taken before the cascade can miss a post added meanwhile. The
    # user row is locked first (FOR UPDATE: no post can be added for them or moved to them until
    # we commit), so these are all their posts; the cascade finds none left.
    connection.execute(select(users.c.id).where(users.c.id == user.id).with_for_update())
    page_counts.user_deleted(connection, user.id)
    removed = connection.execute(delete(posts).where(posts.c.user_id == user.id)).rowcount
    if connection.dialect.name == "postgresql":
        connection.execute(shard_upsert(connection, {"users": -1, "posts": -removed}))
    else:
        add_to_total(connection, "users", -1)
        add_to_total(connection, "posts", -removed)


@event.listens_for(Post, "after_insert")
def _post_added(_mapper, connection, post):
    post_added_or_removed(connection, post.user_id, 1)


@event.listens_for(Post, "after_delete")
def _post_deleted(_mapper, connection, post):
    post_added_or_removed(connection, post.user_id, -1)


@event.listens_for(Post, "after_update")
def _post_moved(_mapper, connection, post):
    history = inspect(post).attrs.user_id.history
    if history.deleted and history.added:
        # Lowest id first, as every write locks users (myapp/transactions.py).
        for user_id, delta in sorted([(history.deleted[0], -1), (history.added[0], 1)]):
            add_to_post_count(connection, user_id, delta)


def recount(connection):
    """Set every kept count here from the rows (flask recount): each table's total, into one row
    (its shards deleted), and users.post_count where it differs. Returns what was wrong, as lines.

    The caller holds the tables still (LOCK TABLE on PostgreSQL, the write lock on SQLite), so no
    writer adds to a shard between the count and the write."""
    fixed = []
    kept = dict.fromkeys(TABLES, 0)
    for name, n in connection.execute(select(row_counts.c.name, row_counts.c.n)).all():
        kept[name.partition(":")[0]] = kept.get(name.partition(":")[0], 0) + n
    for name, table in (("users", users), ("posts", posts)):
        actual = connection.scalar(select(func.count()).select_from(table))
        if kept[name] != actual:
            fixed.append(f"row_counts: {kept[name]} {name} → {actual}")
        shards = (row_counts.c.name == name) | row_counts.c.name.like(f"{name}:%")
        connection.execute(delete(row_counts).where(shards))
        connection.execute(row_counts.insert().values(name=name, n=actual))
    counted = select(func.count()).where(posts.c.user_id == users.c.id).scalar_subquery()
    wrong = connection.execute(
        update(users)
        .where(users.c.post_count != counted)
        .values(post_count=counted, updated_at=users.c.updated_at)  # a recount changes no user
    ).rowcount
    if wrong:
        fixed.append(f"users.post_count: {wrong} users had the wrong number")
    return fixed
