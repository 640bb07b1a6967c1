"""The /stats page: totals, average posts per user, top authors."""

from flask import Blueprint, render_template
from sqlalchemy import func, select, union_all

from .counters import totals
from .extensions import db
from .models import User

bp = Blueprint("stats", __name__)

TOP_AUTHORS = 10


def top_authors(limit):
    """The users with most posts, ties broken by id (lowest first), without sorting a tie group.

    ORDER BY post_count DESC, id LIMIT n on its own reads the counts index backwards but wants
    the ids of each count forwards: at a million users with 3 posts each it sorts the million-row
    tie group (428 ms on SQLite). Here the n-th highest count (floor) is read from the index, then
    the few users above it (fewer than n) and the lowest ids at it (an index range in id order):
    at most 2n rows are sorted. One statement, so both parts see the same data.
    """
    nth_count = (
        select(User.post_count)
        .where(User.post_count > 0)
        .order_by(User.post_count.desc())
        .offset(limit - 1)
        .limit(1)
        .scalar_subquery()
    )
    floor = func.coalesce(nth_count, 1)  # fewer than n users with posts: every one of them
    columns = (User.id, User.username, User.post_count)
    above = select(*columns).where(User.post_count > floor)
    at_floor = select(*columns).where(User.post_count == floor).order_by(User.id).limit(limit).subquery()
    both = union_all(above, select(at_floor)).subquery()
    return select(both).order_by(both.c.post_count.desc(), both.c.id).limit(limit)


def site_stats():
    counts = totals()
    # Users with no posts count as 0 in the average: total posts over total users. (The article's
    # avg(count(...)) nests aggregates, which SQL does not allow.)
    average = counts["posts"] / counts["users"] if counts["users"] else 0.0
    top = db.session.execute(top_authors(TOP_AUTHORS)).all()
    return {"users": counts["users"], "posts": counts["posts"], "average": average, "top": top}


@bp.get("/stats")
def index():
    """Numbers of users and posts, the average per user, and the top authors."""
    return render_template("stats/index.html", stats=site_stats())
