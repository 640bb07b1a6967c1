"""How a view ends its write transaction."""

from .extensions import db


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
