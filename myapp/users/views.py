"""Users pages. Each view that writes commits where you can see it."""

from flask import abort, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..auth.admins import lock_with_admins
from ..auth.passwords import hash_password
from ..auth.permissions import may_manage_users, require, shows_emails
from ..auth.views import start_session
from ..extensions import db
from ..forms import EmptyForm
from ..listing import parse_list_args, prefers_json
from ..models import User
from ..transactions import commit, lock_users
from . import bp
from .forms import EditUserForm, NewUserForm, add_taken_error
from .queries import DEFAULT_SORT, latest_posts, sorts_for, user_page

LATEST_POSTS = 20


def get_user_or_404(user_id):
    return db.get_or_404(User, user_id)


@bp.get("/")
@bp.get("/users")
def index():
    """List, search, sort and page through users."""
    emails = shows_emails()
    args = parse_list_args(request.args, sorts_for(emails), DEFAULT_SORT)
    page = user_page(args, emails=emails)
    # The article's JSON call: a client that prefers JSON gets the page as [{id, username, email}].
    if prefers_json():
        response = jsonify([article_user(u, emails) for u in page.items])
    else:
        response = make_response(render_template("users/index.html", page=page, args=args))
    response.vary.add("Accept")  # caches must keep the HTML and the JSON apart
    return response


def article_user(row, emails):
    item = {"id": row.id, "username": row.username, "email": row.email}
    if not emails:
        del item["email"]
    return item


# The rule registered first is the one url_for builds; decorators apply bottom-up, so /users/new
# goes last here and links point to it. /add is the article's address for the same form.
@bp.route("/add", methods=["GET", "POST"])
@bp.route("/users/new", methods=["GET", "POST"])
def create():
    """Add a user (admins), with a role and optionally a password."""
    require(may_manage_users())
    form = NewUserForm()
    if not form.validate_on_submit():
        return render_template("users/create.html", form=form), 422 if form.is_submitted() else 200
    user = User(username=form.username.data, email=form.email.data, role=form.role.data)
    if form.password.data:
        user.password_hash = hash_password(form.password.data)
    db.session.add(user)
    try:
        commit()
    except IntegrityError as error:
        return _taken(error, form, "users/create.html")
    flash(f"User {user.username} was added.", "success")
    return redirect(url_for("users.show", user_id=user.id), 303)


@bp.get("/users/<id:user_id>")
def show(user_id):
    """A user and their latest posts, newest first."""
    user = get_user_or_404(user_id)
    return render_template("users/show.html", user=user, posts=latest_posts(user.id, LATEST_POSTS))


@bp.route("/users/<id:user_id>/edit", methods=["GET", "POST"])
def edit(user_id):
    """Edit a user (admins); an edit made from an older version is refused with 409."""
    require(may_manage_users())
    user = get_user_or_404(user_id)
    form = EditUserForm(obj=user, user_id=user.id)
    if not form.validate_on_submit():
        return render_template("users/edit.html", form=form, user=user), 422 if form.is_submitted() else 200
    # Locked and read afresh (the lock order: myapp/transactions.py), with every admin when an
    # admin may be demoted, for the last-admin rule.
    demoting = user.role == "admin" and form.role.data != "admin"
    user, others = lock_with_admins(user_id) if demoting else (lock_users(user_id).get(user_id), True)
    if user is None:
        abort(404)
    if form.is_stale(user):
        return _conflict(form, user)
    if user.role == "admin" and form.role.data != "admin" and not others:
        form.role.errors = ["This is the last admin; make someone else an admin first."]
        return render_template("users/edit.html", form=form, user=user), 422
    user.username, user.email, user.role = form.username.data, form.email.data, form.role.data
    if form.password.data:
        user.password_hash = hash_password(form.password.data)  # signs out the user's sessions
    try:
        commit()
    except IntegrityError as error:
        return _taken(error, form, "users/edit.html", user=user)
    except StaleDataError:  # changed between our read and our write (possible on PostgreSQL)
        db.session.rollback()
        return _conflict(form, db.session.get(User, user_id) or abort(404))
    if form.password.data and user.id == current_user.id:
        start_session(user)  # an admin who set their own password stays signed in here
    flash(f"User {user.username} was saved.", "success")
    return redirect(url_for("users.show", user_id=user.id), 303)


@bp.route("/users/<id:user_id>/delete", methods=["GET", "POST"])
def delete(user_id):
    """Confirm, then delete a user and their posts (admins)."""
    require(may_manage_users())
    user = get_user_or_404(user_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        return render_template("users/delete.html", form=form, user=user)
    # Locked and read afresh: a racing delete that won makes this a 404, and post_count is exact.
    user, others = lock_with_admins(user_id, delete=True)
    if user is None:
        abort(404)
    if user.role == "admin" and not others:
        db.session.rollback()
        message = "This is the last admin and cannot be deleted; make someone else an admin first."
        return render_template("users/delete.html", form=form, user=user, refused=message), 409
    username, posts = user.username, user.post_count
    db.session.delete(user)
    commit()
    if posts:
        flash(f"User {username} and their {posts} post{'s' if posts != 1 else ''} were deleted.", "success")
    else:
        flash(f"User {username} was deleted.", "success")
    return redirect(url_for("users.index"), 303)


def _taken(error, form, template, **context):
    """The unique index caught a name that a racing request took after our check: a field error."""
    db.session.rollback()
    if not add_taken_error(form, error):
        raise error
    return render_template(template, form=form, **context), 422


def _conflict(form, current):
    """Someone saved a newer version: show theirs, keep ours, and let the person decide."""
    form.version.data = str(current.version)
    return render_template("users/edit.html", form=form, user=current, conflict=current), 409
