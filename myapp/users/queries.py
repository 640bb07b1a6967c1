"""The SQL behind the users pages (and the API): one query per list, no query per row."""

from sqlalchemy import func, or_, select

from ..counters import total
from ..extensions import db
from ..listing import Page, like_pattern, order_by, page_rows, sort_choices
from ..models import Post, User

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


def user_match(q, emails=True):
    """Users whose username (or email, for those who may see it) contains q (case-insensitive)."""
    pattern = like_pattern(q)
    by_name = User.username.ilike(pattern, escape="\\")
    return or_(by_name, User.email.ilike(pattern, escape="\\")) if emails else by_name


def matching_users(args, emails=True):
    """Every user ListArgs match (q), unordered: the columns the lists, the API and the CSV show."""
    stmt = select(User.id, User.username, User.email, User.post_count, User.created_at)
    if args.q:
        stmt = stmt.where(user_match(args.q, emails))
    return stmt


def filtered_users(args, emails=True):
    """Every user ListArgs match, in their sort order (the CSV export streams this)."""
    return matching_users(args, emails).order_by(*order_by(SORT_COLUMNS, args.sort))


def user_page(args, emails=True):
    """The page of users that ListArgs select, with each user's post count."""
    if args.q:
        count = db.session.scalar(select(func.count()).select_from(User).where(user_match(args.q, emails)))
    else:
        count = total("users")
    # Only the kept count is exact for certain (a search's count may be capped): it alone lets a
    # typed deep page count from the far end.
    exact_total = None if args.q else count
    rows = page_rows(
        matching_users(args, emails), User.id, SORT_COLUMNS, args, _sort_key, exact_total=exact_total
    )
    return Page(rows, args.page, args.per_page, count)


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
