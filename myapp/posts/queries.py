"""The SQL behind the posts pages (and the API): the author comes in the same query."""

from sqlalchemy import func, select

from .. import page_counts
from ..counters import total
from ..extensions import db
from ..listing import Page, order_by, page_rows, sort_choices
from ..models import Post, User
from ..search.match import Search

SORT_COLUMNS = {
    "title": (func.lower(Post.title), Post.id),
    "created": (Post.created_at, Post.id),
    "author": (func.lower(User.username), Post.id),
}
SORTS = sort_choices(SORT_COLUMNS)
AUTHOR_SORTS = {"author"}  # the sorts that read the users table
DEFAULT_SORT = "-created"


def post_search(q, user_id=None):
    """Posts whose title contains q, ignoring case (one or two characters: starts with q), by
    anyone or by one author (myapp/search/match.py)."""
    scope = [Post.user_id == user_id] if user_id is not None else []
    return Search(q, Post, ("title",), scope=scope)


def post_filters(args, user_id=None):
    if args.q:
        return post_search(args.q, user_id).filters()
    return [Post.user_id == user_id] if user_id is not None else []


def filtered_posts(args, user_id=None):
    """Every post ListArgs (and an author) match, with its author, in their sort order."""
    return matching_posts(post_filters(args, user_id)).order_by(*order_by(SORT_COLUMNS, args.sort))


def matching_posts(filters=()):
    """The posts that filters select, with their author, unordered."""
    return (
        select(Post.id, Post.title, Post.created_at, Post.user_id, User.username.label("author"))
        .join(User, Post.user_id == User.id)
        .where(*filters)
    )


def post_page(args, user_id=None):
    """The page of posts that ListArgs (and an optional author) select, each with its author.

    Unsearched, the total is a kept count; searched, it is capped (Page.capped: "1000+").
    """
    if args.q:
        search = post_search(args.q, user_id)
        rows = search.rows(
            lambda filters: page_rows(
                matching_posts(filters), Post.id, SORT_COLUMNS, args, _sort_key, _offset_posts(filters, args)
            )
        )
        return Page(rows, args.page, args.per_page, search.total, capped=search.capped, prefix=search.prefix)
    filters = post_filters(args, user_id)
    if user_id is not None:
        count = db.session.scalar(select(User.post_count).where(User.id == user_id)) or 0
    else:
        count = total("posts")
    # The kept counts are exact: they let a typed deep page count from the far end (listing.py).
    offset_stmt = _offset_posts(filters, args)
    trie = page_counts.POSTS if user_id is None else None  # counts of the whole list only
    stmt = matching_posts(filters)
    rows = page_rows(stmt, Post.id, SORT_COLUMNS, args, _sort_key, offset_stmt, count, trie)
    return Page(rows, args.page, args.per_page, count)


def _offset_posts(filters, args):
    """The posts a typed deep page counts past, from posts alone unless the sort is the author's:
    every post has an author (a foreign key, ON DELETE CASCADE), so the join drops no row, and
    without it the OFFSET walks one index instead of joining a million posts to their authors."""
    if args.sort.removeprefix("-") in AUTHOR_SORTS:
        return None
    return select(Post.id).where(*filters)


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


def author_named(text):
    """The id of the user a typed author names: their username (any case), else an id in digits.

    A username wins over an id: "1234" is someone's name before it is user 1234. Both lookups
    go through an index (the unique lower(username) index, the primary key).
    """
    text = text.strip()
    if not text:
        return None
    by_name = db.session.scalar(select(User.id).where(func.lower(User.username) == text.lower()))
    if by_name is not None:
        return by_name
    return int(text) if text.isdecimal() and len(text) <= 19 else None


def username_of(user_id):
    return db.session.scalar(select(User.username).where(User.id == user_id))
