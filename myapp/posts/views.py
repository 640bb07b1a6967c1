"""Posts pages. Each view that writes commits where you can see it."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..forms import EmptyForm
from ..listing import parse_list_args
from ..models import Post
from ..transactions import commit, lock_post, lock_users
from . import bp
from .forms import EditPostForm, NewPostForm, to_user_id
from .queries import DEFAULT_SORT, SORTS, author_choices, post_page, user_exists


def with_authors(form):
    """Fill the author select; None (too many users) makes the template ask for an id."""
    choices = author_choices(current_app.config["AUTHOR_SELECT_LIMIT"])
    form.user_id.choices = choices or []
    form.list_authors = choices is not None
    return form


@bp.get("/posts")
def index():
    """List, search, sort and page through posts, optionally one user's."""
    args = parse_list_args(request.args, SORTS, DEFAULT_SORT)
    user_id = to_user_id(request.args.get("user"))
    return render_template("posts/index.html", page=post_page(args, user_id), args=args, user_id=user_id)


@bp.route("/posts/new", methods=["GET", "POST"])
def create():
    """Add a post; ?user=<id> preselects the author."""
    form = with_authors(NewPostForm())
    from_user = to_user_id(request.args.get("user"))
    if not form.is_submitted():
        form.user_id.data = from_user
    if not form.validate_on_submit():
        # Opened from a user's page (?user=, kept in the form's action): Cancel goes back there.
        back = url_for("users.show", user_id=from_user) if from_user and user_exists(from_user) else None
        status = 422 if form.is_submitted() else 200
        return render_template("posts/create.html", form=form, from_user=from_user, back=back), status
    if form.user_id.data not in lock_users(form.user_id.data):  # deleted since the check
        return _author_gone(form, "posts/create.html")
    post = Post(title=form.title.data, body=form.body.data, user_id=form.user_id.data)
    db.session.add(post)
    try:
        commit()
    except IntegrityError:
        return _author_gone(form, "posts/create.html")
    flash("Post was added.", "success")
    return redirect(url_for("posts.show", post_id=post.id), 303)


@bp.get("/posts/<id:post_id>")
def show(post_id):
    """One post."""
    return render_template("posts/show.html", post=db.get_or_404(Post, post_id))


@bp.route("/posts/<id:post_id>/edit", methods=["GET", "POST"])
def edit(post_id):
    """Edit a post; an edit made from an older version is refused with 409."""
    post = db.get_or_404(Post, post_id)
    form = with_authors(EditPostForm(obj=post))
    if not form.validate_on_submit():
        return render_template("posts/edit.html", form=form, post=post), 422 if form.is_submitted() else 200
    post, users = lock_post(post_id, form.user_id.data)  # the lock order: myapp/transactions.py
    if post is None:
        abort(404)
    if form.user_id.data not in users:  # deleted since the check
        return _author_gone(form, "posts/edit.html", post=post)
    if form.is_stale(post):
        return _conflict(form, post)
    post.title, post.body, post.user_id = form.title.data, form.body.data, form.user_id.data
    try:
        commit()
    except IntegrityError:
        return _author_gone(form, "posts/edit.html", post=db.session.get(Post, post_id) or abort(404))
    except StaleDataError:  # changed between our read and our write (possible on PostgreSQL)
        db.session.rollback()
        return _conflict(form, db.session.get(Post, post_id) or abort(404))
    flash("Post was saved.", "success")
    return redirect(url_for("posts.show", post_id=post.id), 303)


@bp.route("/posts/<id:post_id>/delete", methods=["GET", "POST"])
def delete(post_id):
    """Confirm, then delete a post."""
    post = db.get_or_404(Post, post_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        return render_template("posts/delete.html", form=form, post=post)
    post = lock_post(post_id)[0] or abort(404)  # a racing delete that won makes this a 404
    user_id = post.user_id
    db.session.delete(post)
    commit()
    flash("Post was deleted.", "success")
    return redirect(url_for("users.show", user_id=user_id), 303)


def _conflict(form, current):
    """Someone saved a newer version: show theirs, keep ours, and let the person decide."""
    form.version.data = str(current.version)
    return render_template("posts/edit.html", form=form, post=current, conflict=current), 409


def _author_gone(form, template, **context):
    """The author was deleted between our check and our commit: the foreign key refused the post."""
    db.session.rollback()
    form.user_id.errors = [*form.user_id.errors, "Choose an existing user."]
    return render_template(template, form=with_authors(form), **context), 422
