"""/api/users: list, create, read, update and delete users as JSON."""

from flask import request, url_for
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..auth.admins import lock_with_admins
from ..auth.permissions import may_edit_user, may_manage_users, require, shows_emails
from ..errors import ApiError
from ..extensions import db
from ..listing import parse_list_args
from ..models import User
from ..transactions import commit, lock_users
from ..users.forms import TAKEN
from ..users.queries import DEFAULT_SORT, email_taken, sorts_for, taken_field, user_page, username_taken
from . import bp
from .bodies import USER_FIELDS, clean, json_body, read_version
from .responses import no_content, not_found, stale
from .serialize import page_json, user_json, user_row_json


def taken(fields):
    return ApiError(409, "taken", "That username or email is already in use.", {f: TAKEN[f] for f in fields})


def check_free(values, user_id=None):
    """409 naming each of the username and email that another user has."""
    fields = [
        name
        for name, is_taken in (("username", username_taken), ("email", email_taken))
        if name in values and is_taken(values[name], user_id)
    ]
    if fields:
        raise taken(fields)


def commit_user(values, user_id=None):
    """Commit; when a unique index refuses the row, a 409 naming every taken field.

    The indexes decide, not a check beforehand: checking first would cost two queries while
    holding the write lock on every save, for the rare one that collides (and a racing request
    could still take the name between check and write). After a refusal the checks run, so the
    answer names both fields when both are taken.
    """
    try:
        commit()
    except IntegrityError as error:
        db.session.rollback()
        field = taken_field(error)
        if field is None:
            raise
        check_free(values, user_id)
        raise taken([field]) from None  # the other row went away meanwhile: still refused


def create_user():
    """Add the user the JSON body describes (shared with the article's POST /users); admins only."""
    require(may_manage_users(), "Only admins add users.")
    values = clean(json_body(), USER_FIELDS)
    user = User(**values)
    db.session.add(user)
    commit_user(values)
    return user


@bp.get("/api/users")
def list_users():
    """A page of users; the same page, per_page, q and sort as the HTML list."""
    emails = shows_emails()
    args = parse_list_args(request.args, sorts_for(emails), DEFAULT_SORT)
    return page_json(user_page(args, emails=emails), user_row_json)


@bp.post("/api/users")
def create_user_view():
    """Add a user: 201 with the user and its Location."""
    user = create_user()
    return user_json(user), 201, {"Location": url_for("api.get_user", user_id=user.id)}


@bp.get("/api/users/<id:user_id>")
def get_user(user_id):
    """One user."""
    return user_json(db.session.get(User, user_id) or not_found("user"))


@bp.patch("/api/users/<id:user_id>")
def update_user(user_id):
    """Change some of a user's fields (admins; members their own); a stale version is a 409."""
    require(may_edit_user(user_id), "Members change only their own username and email.")
    data = json_body()
    user = lock_users(user_id).get(user_id) or not_found("user")
    values = clean(data, USER_FIELDS, partial=True, extra=("version",))
    version = read_version(data)
    if version is not None and version != user.version:
        raise stale(user.version)
    for name, value in values.items():
        setattr(user, name, value)
    try:
        commit_user(values, user.id)
    except StaleDataError:  # changed between our read and our write (possible on PostgreSQL)
        db.session.rollback()
        raise stale(None) from None
    return user_json(user)


@bp.delete("/api/users/<id:user_id>")
def delete_user(user_id):
    """Delete a user and their posts (admins); one already gone (a racing DELETE won) is a 404."""
    require(may_manage_users(), "Only admins delete users.")
    user, others = lock_with_admins(user_id, delete=True)
    if user is None:
        not_found("user")
    if user.role == "admin" and not others:
        raise ApiError(409, "last_admin", "This is the last admin and cannot be deleted.")
    db.session.delete(user)
    commit()
    return no_content()
