"""The SQL behind the users pages (and the API): one query per list, no query per row."""

from sqlalchemy import func, select

from .. import page_counts
from ..counters import total
from ..extensions import db
from ..listing import Page, order_by, page_rows, sort_choices
from ..models import Post, User
from ..search.match import Search

# Each sort ends with the id so that equal keys keep a stable order across pages.
SORT_COLUMNS = {
    "username": (func.lower(User.username), User.id),
    "email": (func.lower(User.email), User.id),
    "created": (User.created_at, User.id),
    "posts": (User.post_count, User.id),
}
SORTS = sort_choices(SORT_COLUMNS)
# Anonymous visitors (READ_ACCESS=public) never see email addresses, so cannot sort by them.
PUBLIC_SORTS = SORTS - {"email", "-email"}
DEFAULT_SORT = "username"

UNIQUE_INDEXES = {"uq_users_username_lower": "username", "uq_users_email_lower": "email"}


def sorts_for(emails):
    """The accepted ?sort= values for someone who may (or may not) see email addresses."""
    return SORTS if emails else PUBLIC_SORTS


def user_search(q, emails=True):
    """Users whose username (or email, for those who may see it) contains q, ignoring case; a q
    of one or two characters matches their start (myapp/search/match.py)."""
    return Search(q, User, ("username", "email") if emails else ("username",))


def matching_users(filters=()):
    """The users that filters select, unordered: the columns the lists, the API and the CSV show."""
    return select(User.id, User.username, User.email, User.post_count, User.created_at).where(*filters)


def filtered_users(args, emails=True):
    """Every user ListArgs match, in their sort order (the CSV export streams this)."""
    filters = user_search(args.q, emails).filters() if args.q else ()
    return matching_users(filters).order_by(*order_by(SORT_COLUMNS, args.sort))


def user_page(args, emails=True):
    """The page of users that ListArgs select, with each user's post count.

    Unsearched, the total is the kept count; searched, it is capped (Page.capped: "1000+").
    """
    if not args.q:
        # The kept count is exact: it lets a typed deep page count from the far end (listing.py).
        count = total("users")
        stmt = matching_users()
        trie = page_counts.USERS
        rows = page_rows(stmt, User.id, SORT_COLUMNS, args, _sort_key, exact_total=count, trie=trie)
        return Page(rows, args.page, args.per_page, count)
    search = user_search(args.q, emails)
    rows = search.rows(
        lambda filters: page_rows(matching_users(filters), User.id, SORT_COLUMNS, args, _sort_key)
    )
    return Page(rows, args.page, args.per_page, search.total, capped=search.capped, prefix=search.prefix)


def _sort_key(columns, user_id):
    return select(*columns).where(User.id == user_id)


def latest_posts(user_id, limit):
    stmt = (
        select(Post.id, Post.title, Post.created_at)
        .where(Post.user_id == user_id)
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(limit)
    )
    return db.session.execute(stmt).all()


def username_taken(username, except_id=None):
    # lower() on both sides, the same function as the unique index, so the check and the
    # index agree on which names are equal.
    stmt = select(User.id).where(func.lower(User.username) == func.lower(username))
    if except_id is not None:
        stmt = stmt.where(User.id != except_id)
    return db.session.scalar(stmt.limit(1)) is not None


def email_taken(email, except_id=None):
    stmt = select(User.id).where(func.lower(User.email) == func.lower(email))
    if except_id is not None:
        stmt = stmt.where(User.id != except_id)
    return db.session.scalar(stmt.limit(1)) is not None


def taken_field(integrity_error):
    """'username' or 'email' when a unique index refused the row, else None."""
    message = str(integrity_error.orig)
    for index, field in UNIQUE_INDEXES.items():
        if index in message:
            return field
    return None
