"""Undo a delete from its history entry: the same rows with the same ids, counted again.

The rows go back through the ORM, so myapp/counters.py counts them (row_counts, the user's
post_count) and the history writer records the flush as one restore. Checks come first for a clear
reason; the unique indexes and primary keys still decide when a racing request gets there first.
"""

from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import Post, User
from ..transactions import lock_users
from ..users.queries import email_taken, username_taken
from .writer import restoring


class Refused(Exception):
    """The restore cannot be done; str() says why, for the person who asked."""


def restore(entry):
    """Put back what entry deleted (not committed); returns the restored user or post."""
    if entry.action != "delete" or not entry.snapshot:
        raise Refused("Only a deletion can be undone.")
    restoring(db.session, entry.id)
    if entry.kind == "user":
        return _restore_user(entry.snapshot["user"], entry.snapshot.get("posts", []))
    return _restore_post(entry.snapshot["post"])


def _restore_user(row, posts):
    if db.session.get(User, row["id"]) is not None:
        raise Refused(f"User id {row['id']} is in use: this user has been restored already.")
    if username_taken(row["username"]):
        raise Refused(f"The username {row['username']} has been taken since the user was deleted.")
    if email_taken(row["email"]):
        raise Refused(f"The email address {row['email']} has been taken since the user was deleted.")
    _check_post_ids([post["id"] for post in posts])
    # No password: history never keeps a hash, so a restored account cannot sign in until an admin
    # sets one.
    user = User(id=row["id"], username=row["username"], email=row["email"], role=row["role"])
    user.created_at = datetime.fromisoformat(row["created_at"])
    db.session.add(user)
    db.session.add_all(_post(post) for post in posts)
    return user


def _restore_post(row):
    if row["user_id"] not in lock_users(row["user_id"]):  # the lock order: myapp/transactions.py
        raise Refused(f"The author (user {row['user_id']}) no longer exists: restore them first.")
    _check_post_ids([row["id"]])
    post = _post(row)
    db.session.add(post)
    return post


def _check_post_ids(ids):
    in_use = db.session.scalars(select(Post.id).where(Post.id.in_(ids))).all() if ids else []
    if in_use:
        listed = ", ".join(str(i) for i in sorted(in_use)[:10])
        raise Refused(f"Post id {listed} is in use: restored already?")


def _post(row):
    post = Post(id=row["id"], title=row["title"], body=row["body"], user_id=row["user_id"])
    post.created_at = datetime.fromisoformat(row["created_at"])
    return post
