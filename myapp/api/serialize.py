"""Users and posts as JSON objects: full objects, and the lighter rows of the list queries.

Email addresses are left out for anyone not signed in (READ_ACCESS=public, snapshot mode).
"""

from ..auth.permissions import shows_emails


def timestamp(value):
    return value.isoformat() if value is not None else None


def without_email(item):
    if not shows_emails():
        del item["email"]
    return item


def user_json(user):
    return without_email(
        {
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "post_count": user.post_count,
            "version": user.version,
            "created_at": timestamp(user.created_at),
            "updated_at": timestamp(user.updated_at),
        }
    )


def user_row_json(row):
    """A row of users.queries.user_page."""
    return without_email(
        {
            "id": row.id,
            "username": row.username,
            "email": row.email,
            "post_count": row.post_count,
            "created_at": timestamp(row.created_at),
        }
    )


def post_json(post):
    return {
        "id": post.id,
        "title": post.title,
        "body": post.body,
        "user_id": post.user_id,
        "author": post.author.username,
        "version": post.version,
        "created_at": timestamp(post.created_at),
        "updated_at": timestamp(post.updated_at),
    }


def post_row_json(row):
    """A row of posts.queries.post_page."""
    return {
        "id": row.id,
        "title": row.title,
        "user_id": row.user_id,
        "author": row.author,
        "created_at": timestamp(row.created_at),
    }


def page_json(page, item_json):
    return {
        "items": [item_json(row) for row in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        # A search stops counting at a cap (myapp/search/match.py): total is then a lower bound.
        "total_capped": page.capped,
        "pages": page.pages,
    }
