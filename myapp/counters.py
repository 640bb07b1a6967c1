"""Exact counts kept in the transaction that changes them: rows per table and posts per user.

Every ORM insert, delete or author change of a post, and every insert or delete of a user, adjusts
the counts in the same flush, so they commit or roll back with the change itself. Bulk loaders
that bypass the ORM (flask seed) adjust them themselves, in their own transaction.
"""

from sqlalchemy import event, func, insert, inspect, select, update

from .extensions import db
from .models import Post, RowCount, User

TABLES = ("users", "posts")
row_counts = RowCount.__table__
users = User.__table__


def totals():
    """{'users': n, 'posts': n} in one query."""
    counts = dict(db.session.execute(select(RowCount.name, RowCount.n)).all())
    return {name: counts.get(name, 0) for name in TABLES}


def total(name):
    return db.session.scalar(select(RowCount.n).where(RowCount.name == name)) or 0


def add_to_total(connection, name, delta):
    connection.execute(update(row_counts).where(row_counts.c.name == name).values(n=row_counts.c.n + delta))


def add_to_post_count(connection, user_id, delta):
    # updated_at is set to itself so that its onupdate default does not fire: a new post
    # does not change the user.
    connection.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(post_count=users.c.post_count + delta, updated_at=users.c.updated_at)
    )


@event.listens_for(RowCount.__table__, "after_create")
def _start_counts(_table, connection, **_kw):
    connection.execute(insert(row_counts), [{"name": name, "n": 0} for name in TABLES])


@event.listens_for(User, "after_insert")
def _user_added(_mapper, connection, _user):
    add_to_total(connection, "users", 1)


@event.listens_for(User, "before_delete")
def _user_deleted(_mapper, connection, user):
    # Runs before the DELETE, so the posts the database is about to cascade are still countable.
    posts = connection.scalar(select(func.count()).select_from(Post).where(Post.user_id == user.id))
    add_to_total(connection, "users", -1)
    add_to_total(connection, "posts", -posts)


@event.listens_for(Post, "after_insert")
def _post_added(_mapper, connection, post):
    add_to_total(connection, "posts", 1)
    add_to_post_count(connection, post.user_id, 1)


@event.listens_for(Post, "after_delete")
def _post_deleted(_mapper, connection, post):
    add_to_total(connection, "posts", -1)
    add_to_post_count(connection, post.user_id, -1)


@event.listens_for(Post, "after_update")
def _post_moved(_mapper, connection, post):
    history = inspect(post).attrs.user_id.history
    if history.deleted and history.added:
        add_to_post_count(connection, history.deleted[0], -1)
        add_to_post_count(connection, history.added[0], 1)
