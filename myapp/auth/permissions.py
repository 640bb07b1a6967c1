"""Who may do what: the one place that says it (SPEC §11). Views and templates ask these
questions; nothing else looks at roles.

In snapshot mode (READ_ONLY) nobody may write and everybody reads as an anonymous visitor.
"""

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user

from ..errors import ApiError, machine_request

BEARER = {"WWW-Authenticate": 'Bearer realm="api"'}


def _writable():
    return not current_app.config["READ_ONLY"]


def signed_in():
    return current_user.is_authenticated


def is_admin():
    return signed_in() and current_user.role == "admin"


def reads_public():
    """Anonymous visitors may read (READ_ACCESS=public, and always in snapshot mode)."""
    return current_app.config["READ_ACCESS"] == "public" or current_app.config["READ_ONLY"]


def may_read():
    return reads_public() or signed_in()


def shows_emails():
    """Email addresses are for signed-in people only, whatever READ_ACCESS says."""
    return signed_in()


def may_manage_users():
    """Add, edit and delete any user; set roles and passwords."""
    return _writable() and is_admin()


def may_edit_user(user_id):
    """Change a user's username and email: admins any, a member their own (API PATCH, /account)."""
    return _writable() and (is_admin() or (signed_in() and current_user.id == user_id))


def may_add_posts():
    return _writable() and signed_in()


def may_write_as(author_id):
    """Add or own a post by this author: admins for anyone, members as themselves."""
    return _writable() and (is_admin() or (signed_in() and current_user.id == author_id))


def may_change_post(post):
    """Edit or delete this post (a row or anything with user_id)."""
    return may_write_as(post.user_id)


def may_choose_author():
    return _writable() and is_admin()


def may_use_account():
    """/account and /account/tokens: any signed-in person, never in snapshot mode."""
    return _writable() and signed_in()


def may_see_history(owner_id):
    """A row's history: admins any, members their own account's and posts'. Anonymous readers see
    none (sign in first), except in snapshot mode, where everybody reads and no email is shown."""
    if current_app.config["READ_ONLY"]:
        return True
    return is_admin() or (signed_in() and current_user.id == owner_id)


def may_see_activity():
    """/activity, every change by everyone: admins (and snapshot-mode readers, without emails)."""
    return current_app.config["READ_ONLY"] or is_admin()


def may_restore():
    """Undo a delete from its history entry: admins, never in snapshot mode."""
    return _writable() and is_admin()


def require(allowed, message="You are not allowed to do that."):
    """Go on when allowed; else send an anonymous visitor to sign in (401 for the API) and
    refuse a signed-in one (403)."""
    if allowed:
        return
    if not signed_in():
        refuse_anonymous()
    if machine_request():
        raise ApiError(403, "forbidden", message)
    abort(403, description=message)


def refuse_anonymous(message="Sign in first."):
    if machine_request():
        raise ApiError(401, "unauthorized", message, headers=BEARER)
    abort(redirect(url_for("auth.login", next=current_path()), 303))


def current_path():
    return request.full_path.rstrip("?") if request.query_string else request.path
