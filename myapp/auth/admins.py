"""The last-admin rule: someone must always be able to manage the site."""

from sqlalchemy import select

from ..extensions import db
from ..models import User


def other_admin_exists(user_id):
    """Whether an admin other than user_id exists.

    Every admin row is locked (in id order, on PostgreSQL; SQLite's BEGIN IMMEDIATE already
    serialises writers), so that two admins demoting or deleting each other at the same moment
    cannot both succeed and leave none.
    """
    admins = db.session.scalars(
        select(User.id).where(User.role == "admin").order_by(User.id).with_for_update()
    ).all()
    return any(admin_id != user_id for admin_id in admins)
