"""History pages: a user's or a post's changes, all activity (admins), and undoing a delete."""

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError

from ..auth.permissions import may_restore, may_see_activity, may_see_history, require, shows_emails
from ..extensions import db
from ..forms import EmptyForm
from ..listing import parse_list_args
from ..models import HistoryEntry, Post, User
from ..transactions import commit
from ..users.queries import taken_field
from . import bp, undo
from .queries import (
    DEFAULT_SORT,
    KINDS,
    SORTS,
    activity_filters,
    entry_page,
    of_row,
    row_owner,
    visible_changes,
)


@bp.app_template_filter("history_changes")
def history_changes(changes, emails):
    """[(field, old, new)] of an entry, without email addresses for those who may not see them."""
    return visible_changes(changes, emails)


def row_history(kind, object_id):
    """(list args, the page of the row's entries) after checking that the asker may see them."""
    require(
        may_see_history(row_owner(kind, object_id)),
        "You may see the history of your own account and posts only.",
    )
    args = parse_list_args(request.args, SORTS, DEFAULT_SORT)
    return args, entry_page(args, *of_row(kind, object_id))


@bp.get("/users/<id:user_id>/history")
def user_history(user_id):
    """A user's history, newest first (also after the user was deleted)."""
    return render_row_history("user", User, user_id)


@bp.get("/posts/<id:post_id>/history")
def post_history(post_id):
    """A post's history, newest first (also after the post was deleted)."""
    return render_row_history("post", Post, post_id)


def render_row_history(kind, model, object_id):
    args, page = row_history(kind, object_id)
    return render_template(
        "history/row.html",
        kind=kind,
        object_id=object_id,
        row=db.session.get(model, object_id),  # None once the row is deleted
        page=page,
        args=args,
        extra={f"{kind}_id": object_id},
        emails=shows_emails(),
    )


@bp.get("/activity")
def activity():
    """Every change, newest first, filtered by account and kind (admins)."""
    require(may_see_activity(), "Only admins see all activity.")
    args = parse_list_args(request.args, SORTS, DEFAULT_SORT)
    account = request.args.get("account", "").strip()[:80]
    kind = request.args.get("kind", "") if request.args.get("kind") in KINDS else ""
    page = entry_page(args, *activity_filters(account, kind))
    extra = {key: value for key, value in (("account", account), ("kind", kind)) if value}
    return render_template(
        "history/activity.html",
        page=page,
        args=args,
        extra=extra,
        account=account,
        kind=kind,
        kinds=KINDS,
        emails=shows_emails(),
        form=EmptyForm(),
    )


@bp.post("/activity/<id:entry_id>/restore")
def restore(entry_id):
    """Undo the delete an entry records: the user and their posts, or a post, with the same ids."""
    require(may_restore(), "Only admins restore deleted rows.")
    entry = db.get_or_404(HistoryEntry, entry_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        row = undo.restore(entry)
        commit()
    except undo.Refused as refused:
        return refuse(entry, str(refused))
    except IntegrityError as error:  # a racing request took a name or an id after the checks
        field = taken_field(error)
        return refuse(entry, f"The {field} has just been taken." if field else "An id is in use again.")
    if entry.kind == "user":
        posts = len(entry.snapshot.get("posts", []))
        flash(
            f"User {row.username} was restored with {posts} post{'' if posts == 1 else 's'}. They have "
            "no password (history never keeps one): set one with Edit before they can sign in.",
            "success",
        )
        return redirect(url_for("users.show", user_id=row.id), 303)
    flash("Post was restored.", "success")
    return redirect(url_for("posts.show", post_id=row.id), 303)


def refuse(entry, reason):
    db.session.rollback()
    return render_template("history/refused.html", entry=entry, reason=reason), 409
