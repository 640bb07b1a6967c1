"""How a view ends its write transaction, in what order it takes its locks, and what a lost race costs.

THE LOCK ORDER (PostgreSQL; every write path follows it, so no two transactions wait on each other
in a circle):

  1. the users rows the write involves, lowest id first, with lock_users() below, before anything
     else is locked: the author of a new post, both authors of a moved post, the author of a
     deleted post, the user edited or deleted;
  2. then the posts rows (the post edited or deleted, or a deleted user's posts);
  3. then the kept counts: users.post_count of users already locked in step 1, and last the
     row_counts shards (myapp/counters.py), one per table, users' before posts';
  4. last of all, at commit, the writer's data_versions shard (myapp/data_version.py), which the
     engine's commit hook adds to just before COMMIT: held for one statement, never waited on
     while holding anything that another writer's step 4 needs.

Without it, a user delete (user row, then the cascade to posts) and a post delete (post row, then
the user's post_count) lock the same two rows in opposite orders and deadlock; so do a post create
(foreign-key share lock on the author, then counts) and a user delete, and two opposite post moves.
On SQLite the FOR UPDATE clauses are not rendered: BEGIN IMMEDIATE already serialises writers.

What can still abort a transaction (a deadlock with a path outside the app, a serialization
failure, a row changed under a stale read) is retried here, the whole view, a bounded number of
times: retry_transactions() wraps every view function once, in create_app. Only then does the
client get 409 (a JSON error or a page), never a 500.
"""

import functools
import random
import time

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError

from .extensions import db
from .models import Post, User

ATTEMPTS = 4  # the first try and three retries
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure


class RetryTransaction(Exception):
    """Raised inside a write when what it locked turned out not to be what it needs: run it again."""


class TransactionConflict(Exception):
    """The database kept aborting this write (deadlock, serialization): answered 409."""


def commit():
    """Commit the session's changes and keep the values of the objects it holds.

    Views commit, then answer from the row they wrote: its id for the redirect, its fields for the
    JSON. With SQLAlchemy's default expire-on-commit that answer reloads the row in a new
    transaction, and in a request that writes, a new transaction begins IMMEDIATE: the write lock
    taken a second time just to read back what was written. The session ends with the request, so
    the values kept cannot go stale across requests. (Not a global setting: a CLI command or test
    that reads, commits and reads again in one session must see fresh rows.)
    """
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def lock_users(*user_ids, delete=False):
    """Step 1 of the lock order: lock these users' rows, lowest id first; {id: User} of those that exist.

    FOR NO KEY UPDATE (what an UPDATE of post_count takes anyway) for writes that keep the user,
    FOR UPDATE for a delete. The rows are read afresh (the identity map is refreshed), so a caller
    checks versions and counts against what is locked, not what it read before.
    """
    ids = sorted({user_id for user_id in user_ids if user_id is not None})
    if not ids:
        return {}
    stmt = (
        select(User)
        .where(User.id.in_(ids))
        .order_by(User.id)
        .with_for_update(key_share=not delete)
        .execution_options(populate_existing=True)
    )
    return {user.id: user for user in db.session.scalars(stmt)}


def lock_post(post_id, *also_user_ids):
    """Steps 1 and 2 for a write to a post: its author's row (and also_user_ids), then the post.

    (post, users) with post None when it is gone. The author is read before the lock, so when the
    post moved to someone else meanwhile the locks are not the right ones: RetryTransaction.
    """
    current = db.session.get(Post, post_id)
    if current is None:
        return None, {}
    users = lock_users(current.user_id, *also_user_ids)
    # A select, not session.get(with_for_update=...), which would raise StaleDataError when the
    # post changed since the read above instead of refreshing it.
    locked = select(Post).where(Post.id == post_id).with_for_update()
    post = db.session.scalars(locked.execution_options(populate_existing=True)).first()
    if post is not None and post.user_id not in users:
        raise RetryTransaction(f"post {post_id} changed author while we locked")
    return post, users


def sqlstate(error):
    return getattr(getattr(error, "orig", None), "sqlstate", None)


def is_retryable(error):
    if isinstance(error, (RetryTransaction, StaleDataError)):
        return True
    return isinstance(error, DBAPIError) and sqlstate(error) in RETRYABLE_SQLSTATES


def retry_transaction(view):
    """Run the view again, from a clean session, when the database aborted its transaction.

    A view writes nothing outside its transaction before it commits (flash messages and redirects
    come after), so running it again is safe. A StaleDataError (the row changed or went away
    between our read and our write) is retried too: the next run reads afresh and answers 404 or
    409 as it would have if it had come second.
    """

    @functools.wraps(view)
    def run(*args, **kwargs):
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return view(*args, **kwargs)
            except (DBAPIError, StaleDataError, RetryTransaction) as error:
                if not is_retryable(error):
                    raise
                db.session.rollback()
                current_app.logger.warning(
                    "transaction aborted (attempt %d of %d): %s", attempt, ATTEMPTS, error
                )
                if attempt == ATTEMPTS:
                    raise TransactionConflict(str(error)) from error
                time.sleep(random.uniform(0, 0.02 * attempt))  # let the other side finish first
        raise AssertionError("unreachable")

    return run


def retry_transactions(app):
    """Wrap every view of the app (call after the blueprints are registered)."""
    for endpoint, view in app.view_functions.items():
        app.view_functions[endpoint] = retry_transaction(view)
