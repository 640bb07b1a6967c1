"""The SQL behind the posts pages (and the API): the author comes in the same query."""

from sqlalchemy import func, select

from ..counters import total
from ..extensions import db
from ..listing import Page, like_pattern, order_by, page_rows, sort_choices
from ..models import Post, User

SORT_COLUMNS = {
    "title": (func.lower(Post.title), Post.id),
    "created": (Post.created_at, Post.id),
    "author": (func.lower(User.username), Post.id),
}
SORTS = sort_choices(SORT_COLUMNS)
AUTHOR_SORTS = {"author"}  # the sorts that read the users table
DEFAULT_SORT = "-created"


def post_filters(args, user_id=None):
    filters = []
    if args.q:
        filters.append(Post.title.ilike(like_pattern(args.q), escape="\\"))
    if user_id is not None:
        filters.append(Post.user_id == user_id)
    return filters


def filtered_posts(args, user_id=None):
    """Every post ListArgs (and an author) match, with its author, in their sort order."""
    return matching_posts(args, user_id).order_by(*order_by(SORT_COLUMNS, args.sort))


def matching_posts(args, user_id=None):
    """Every post ListArgs (and an author) match, with its author, unordered."""
    return (
        select(Post.id, Post.title, Post.created_at, Post.user_id, User.username.label("author"))
        .join(User, Post.user_id == User.id)
        .where(*post_filters(args, user_id))
    )


def post_page(args, user_id=None):
    """The page of posts that ListArgs (and an optional author) select, each with its author."""
    if args.q:
        count = db.session.scalar(select(func.count()).select_from(Post).where(*post_filters(args, user_id)))
    elif user_id is not None:
        count = db.session.scalar(select(User.post_count).where(User.id == user_id)) or 0
    else:
        count = total("posts")
    # Only the kept counts are exact for certain (a search's count may be capped): they alone let
    # a typed deep page count from the far end.
    exact_total = None if args.q else count
    stmt = matching_posts(args, user_id)
    rows = page_rows(stmt, Post.id, SORT_COLUMNS, args, _sort_key, _offset_posts(args, user_id), exact_total)
    return Page(rows, args.page, args.per_page, count)


def _offset_posts(args, user_id):
    """The posts a typed deep page counts past, from posts alone unless the sort is the author's:
    every post has an author (a foreign key, ON DELETE CASCADE), so the join drops no row, and
    without it the OFFSET walks one index instead of joining a million posts to their authors."""
    if args.sort.removeprefix("-") in AUTHOR_SORTS:
        return None
    return select(Post.id).where(*post_filters(args, user_id))


def _sort_key(columns, post_id):
    return select(*columns).select_from(Post).join(User, Post.user_id == User.id).where(Post.id == post_id)


def author_choices(limit):
    """(id, username) of every user for the author select, or None when there are too many to list."""
    if total("users") > limit:
        return None
    rows = db.session.execute(select(User.id, User.username).order_by(func.lower(User.username)))
    return [(user_id, username) for user_id, username in rows]


def user_exists(user_id):
    return db.session.scalar(select(User.id).where(User.id == user_id)) is not None
