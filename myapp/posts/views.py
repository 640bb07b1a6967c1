"""Posts pages. Each view that writes commits where you can see it."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..auth.permissions import may_add_posts, may_change_post, may_choose_author, require
from ..extensions import db
from ..forms import EmptyForm
from ..listing import parse_list_args
from ..models import Post
from ..transactions import commit, lock_post, lock_users
from . import bp
from .forms import EditPostForm, NewPostForm, to_user_id
from .queries import DEFAULT_SORT, SORTS, author_choices, post_page, user_exists


def with_authors(form):
    """Fill the author select for admins; None (too many users) makes the author a typed field.

    Members write as themselves: their form has no author field at all.
    """
    if not may_choose_author():
        del form.user_id
        return form
    choices = author_choices(current_app.config["AUTHOR_SELECT_LIMIT"])
    form.user_id.choices = choices or []
    form.list_authors = choices is not None
    if not form.list_authors:
        form.user_id.description = "The author's username, or their id (the number in their page's address)."
    return form


@bp.get("/posts")
def index():
    """List, search, sort and page through posts, optionally one user's."""
    args = parse_list_args(request.args, SORTS, DEFAULT_SORT)
    user_id = to_user_id(request.args.get("user"))
    return render_template("posts/index.html", page=post_page(args, user_id), args=args, user_id=user_id)


@bp.route("/posts/new", methods=["GET", "POST"])
def create():
    """Add a post: members as themselves, admins for anyone (?user=<id> preselects the author)."""
    require(may_add_posts())
    form = with_authors(NewPostForm())
    from_user = to_user_id(request.args.get("user"))
    if form.user_id and not form.is_submitted():
        form.user_id.data = from_user
    if not form.validate_on_submit():
        # Opened from a user's page (?user=, kept in the form's action): Cancel goes back there.
        back = url_for("users.show", user_id=from_user) if from_user and user_exists(from_user) else None
        status = 422 if form.is_submitted() else 200
        return render_template("posts/create.html", form=form, from_user=from_user, back=back), status
    author_id = chosen_author(form)
    if author_id not in lock_users(author_id):  # deleted since the check
        return _author_gone(form, "posts/create.html")
    post = Post(title=form.title.data, body=form.body.data, user_id=author_id)
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
    """Edit a post (its author, or an admin); an edit made from an older version is refused with 409."""
    post = db.get_or_404(Post, post_id)
    require(may_change_post(post))
    form = with_authors(EditPostForm(obj=post))
    if not form.validate_on_submit():
        return render_template("posts/edit.html", form=form, post=post), 422 if form.is_submitted() else 200
    new_author = form.user_id.data if form.user_id else None
    post, users = lock_post(post_id, new_author)  # the lock order: myapp/transactions.py
    if post is None:
        abort(404)
    require(may_change_post(post))  # as locked: it may have moved to someone else meanwhile
    if new_author is not None and new_author not in users:  # deleted since the check
        return _author_gone(form, "posts/edit.html", post=post)
    if form.is_stale(post):
        return _conflict(form, post)
    post.title, post.body = form.title.data, form.body.data
    if form.user_id:
        post.user_id = form.user_id.data
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
    """Confirm, then delete a post (its author, or an admin)."""
    post = db.get_or_404(Post, post_id)
    require(may_change_post(post))
    form = EmptyForm()
    if not form.validate_on_submit():
        return render_template("posts/delete.html", form=form, post=post)
    post = lock_post(post_id)[0] or abort(404)  # a racing delete that won makes this a 404
    require(may_change_post(post))  # as locked: it may have moved to someone else meanwhile
    user_id = post.user_id
    db.session.delete(post)
    commit()
    flash("Post was deleted.", "success")
    return redirect(url_for("users.show", user_id=user_id), 303)


def chosen_author(form):
    """The author of a new post: the one an admin chose, else the member writing it."""
    return form.user_id.data if form.user_id else current_user.id


def _conflict(form, current):
    """Someone saved a newer version: show theirs, keep ours, and let the person decide."""
    form.version.data = str(current.version)
    return render_template("posts/edit.html", form=form, post=current, conflict=current), 409


def _author_gone(form, template, **context):
    """The author was deleted between our check and our commit: the foreign key refused the post."""
    db.session.rollback()
    if not form.user_id:  # a member writing as themselves, whose account was deleted meanwhile
        abort(409, description="Your account was deleted meanwhile; nothing was saved.")
    form.user_id.errors = [*form.user_id.errors, "Choose an existing user."]
    return render_template(template, form=with_authors(form), **context), 422
