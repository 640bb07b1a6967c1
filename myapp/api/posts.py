"""/api/posts: list, create, read, update and delete posts as JSON."""

from flask import request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..auth.permissions import may_add_posts, may_change_post, may_write_as, require
from ..errors import ApiError
from ..extensions import db
from ..listing import parse_list_args
from ..models import Post
from ..posts.forms import to_user_id
from ..posts.queries import DEFAULT_SORT, SORTS, post_page
from ..rules import Invalid
from ..transactions import commit, lock_post, lock_users
from . import bp
from .bodies import OWN_POST_FIELDS, POST_FIELDS, clean, json_body, positive_id, read_version
from .responses import no_content, not_found, stale
from .serialize import page_json, post_json, post_row_json


def save_post(post):
    """Write the post and answer with it; a racing delete of its author is the same 422 as the check.

    The answer is built inside the write transaction, after the flush gave the post its id:
    built after the commit, reading the author's name would open a second transaction, and in a
    write request that is a second BEGIN IMMEDIATE.
    """
    try:
        db.session.flush()
        answer = post_json(post)
        commit()
    except IntegrityError:
        db.session.rollback()
        raise_author_gone()
    return answer


def raise_author_gone():
    raise ApiError(
        422, "validation_failed", "Some fields are not valid.", {"user_id": "No user has this id."}
    )


@bp.get("/api/posts")
def list_posts():
    """A page of posts with authors; the same page, per_page, q, sort and user as the HTML list."""
    args = parse_list_args(request.args, SORTS, DEFAULT_SORT)
    return page_json(post_page(args, to_user_id(request.args.get("user"))), post_row_json)


@bp.post("/api/posts")
def create_post():
    """Add a post: 201 with the post and its Location. Members post as themselves."""
    require(may_add_posts())
    data = json_body()
    # No author given: the token's own account writes it.
    if "user_id" in data:
        values = clean(data, POST_FIELDS)
    else:
        values = {**clean(data, OWN_POST_FIELDS), "user_id": current_user.id}
    require(may_write_as(values["user_id"]), "Members post only as themselves.")
    author = lock_users(values["user_id"]).get(values["user_id"])
    if author is None:  # deleted since the check
        raise_author_gone()
    post = Post(**values)
    post.author = author  # loaded with the lock: the answer names the author without a query
    db.session.add(post)
    answer = save_post(post)
    return answer, 201, {"Location": url_for("api.get_post", post_id=post.id)}


@bp.get("/api/posts/<id:post_id>")
def get_post(post_id):
    """One post."""
    return post_json(db.session.get(Post, post_id) or not_found("post"))


@bp.patch("/api/posts/<id:post_id>")
def update_post(post_id):
    """Change some of a post's fields; a stale version is a 409."""
    data = json_body()
    # Locked before the body is checked, as the users PATCH does: both authors when it moves.
    post, _users = lock_post(post_id, requested_author(data))
    if post is None:
        not_found("post")
    require(may_change_post(post), "Members change only their own posts.")
    values = clean(data, POST_FIELDS, partial=True, extra=("version",))
    if "user_id" in values:
        require(may_write_as(values["user_id"]), "Members cannot give a post to someone else.")
    version = read_version(data)
    if version is not None and version != post.version:
        raise stale(post.version)
    for name, value in values.items():
        setattr(post, name, value)
    try:
        return save_post(post)
    except StaleDataError:  # changed between our read and our write (possible on PostgreSQL)
        db.session.rollback()
        raise stale(None) from None


def requested_author(data):
    """The user_id a PATCH moves the post to, if it is an id at all (clean() checks it properly)."""
    try:
        return positive_id(data.get("user_id"))
    except Invalid:
        return None


@bp.delete("/api/posts/<id:post_id>")
def delete_post(post_id):
    """Delete a post (its author, or an admin); one already gone (a racing DELETE won) is a 404."""
    post = lock_post(post_id)[0] or not_found("post")
    require(may_change_post(post), "Members delete only their own posts.")
    db.session.delete(post)
    commit()
    return no_content()
