"""/api/users/<id>/history, /api/posts/<id>/history and /api/activity: the history as JSON."""

from flask import request

from ..auth.permissions import may_see_activity, may_see_history, require, shows_emails
from ..history.queries import DEFAULT_SORT, KINDS, SORTS, activity_filters, entry_page, of_row, row_owner
from ..listing import parse_list_args
from . import bp
from .serialize import page_json, timestamp


def entry_json(row):
    """An entry; email values are left out for those who may not see email addresses."""
    emails = shows_emails()
    changes = {
        field: {"old": old, "new": new}
        for field, (old, new) in (row.changes or {}).items()
        if emails or field != "email"
    }
    return {
        "id": row.id,
        "at": timestamp(row.at),
        "actor_id": row.actor_id,
        "actor_name": row.actor_name,
        "action": row.action,
        "kind": row.kind,
        "object_id": row.object_id,
        "changes": changes,
        "note": row.note,
        "restorable": bool(row.restorable),
    }


def row_history(kind, object_id):
    require(
        may_see_history(row_owner(kind, object_id)), "Members see the history of their own account and posts."
    )
    args = parse_list_args(request.args, SORTS, DEFAULT_SORT)
    return page_json(entry_page(args, *of_row(kind, object_id)), entry_json)


@bp.get("/api/users/<id:user_id>/history")
def user_history(user_id):
    """A user's history, newest first (also after the user was deleted)."""
    return row_history("user", user_id)


@bp.get("/api/posts/<id:post_id>/history")
def post_history(post_id):
    """A post's history, newest first (also after the post was deleted)."""
    return row_history("post", post_id)


@bp.get("/api/activity")
def activity():
    """Every change, newest first; ?account=<username or id>, ?kind=user|post|database (admins)."""
    require(may_see_activity(), "Only admins see all activity.")
    args = parse_list_args(request.args, SORTS, DEFAULT_SORT)
    kind = request.args.get("kind", "")
    filters = activity_filters(request.args.get("account", "").strip()[:80], kind if kind in KINDS else "")
    return page_json(entry_page(args, *filters), entry_json)
