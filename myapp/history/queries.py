"""The SQL behind the history pages and the API: a row's entries, and every entry (/activity)."""

from flask import abort
from sqlalchemy import func, select

from ..extensions import db
from ..listing import Page, page_rows
from ..models import HistoryEntry, Post, User

H = HistoryEntry
# Newest first: the id is the order of writing (ids are never reused).
SORT_COLUMNS = {"id": (H.id,)}
SORTS = {"-id"}
DEFAULT_SORT = "-id"
KINDS = ("user", "post", "database")
COLUMNS = (H.id, H.at, H.actor_id, H.actor_name, H.action, H.kind, H.object_id, H.owner_id, H.changes, H.note)


def entry_page(args, *where):
    """The page of entries matching where, newest first, with Previous/Next cursors like the lists."""
    stmt = select(*COLUMNS, H.snapshot.is_not(None).label("restorable")).where(*where)
    total = db.session.scalar(select(func.count()).select_from(H).where(*where))
    rows = page_rows(stmt, H.id, SORT_COLUMNS, args, _sort_key, exact_total=total)
    return Page(rows, args.page, args.per_page, total)


def _sort_key(columns, entry_id):
    return select(*columns).where(H.id == entry_id)


def of_row(kind, object_id):
    return (H.kind == kind, H.object_id == object_id)


def last_owner(kind, object_id):
    """Whose row this was by its newest entry (for a post that no longer exists), or None."""
    stmt = select(H.owner_id).where(*of_row(kind, object_id)).order_by(H.id.desc()).limit(1)
    return db.session.scalar(stmt)


def row_owner(kind, object_id):
    """Whose row this is (a user is their own), also after it was deleted; 404 if never seen."""
    if kind == "user":
        exists = db.session.get(User, object_id) is not None
        owner = object_id if exists or last_owner(kind, object_id) is not None else None
    else:
        post = db.session.get(Post, object_id)
        owner = post.user_id if post else last_owner(kind, object_id)
    if owner is None:
        abort(404)
    return owner


def activity_filters(account, kind):
    """WHERE clauses for /activity?account=<username or id>&kind=<user|post|database>."""
    where = []
    if kind in KINDS:
        where.append(H.kind == kind)
    if account:
        actor_id = int(account) if account.isdigit() and len(account) < 19 else None
        if actor_id is None:
            actor_id = db.session.scalar(select(User.id).where(func.lower(User.username) == account.lower()))
        # A deleted account, or "command line": by the name the entries kept.
        where.append(H.actor_id == actor_id if actor_id is not None else H.actor_name == account)
    return where


def visible_changes(changes, emails):
    """An entry's changes as [(field, old, new)], without email addresses for those who may not see them."""
    return [(field, old, new) for field, (old, new) in (changes or {}).items() if emails or field != "email"]
