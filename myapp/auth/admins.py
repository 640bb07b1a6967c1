"""The last-admin rule: someone must always be able to manage the site."""

from sqlalchemy import select

from ..extensions import db
from ..models import User
from ..transactions import lock_users


def lock_with_admins(user_id, delete=False):
    """Lock the user and every admin, lowest id first (the lock order of myapp/transactions.py):
    (the user, or None when gone; whether an admin other than them exists).

    Every admin row is locked, so that two admins demoting or deleting each other at the same
    moment cannot both succeed and leave none (SQLite's BEGIN IMMEDIATE already serialises them).
    The rows are read afresh under the lock: an admin demoted meanwhile no longer counts.
    """
    admins = db.session.scalars(select(User.id).where(User.role == "admin")).all()
    locked = lock_users(user_id, *admins, delete=delete)
    others = any(user.role == "admin" for uid, user in locked.items() if uid != user_id)
    return locked.get(user_id), others
