"""The /stats page: totals, average posts per user, top authors."""

from flask import Blueprint, render_template
from sqlalchemy import select

from .counters import totals
from .extensions import db
from .models import User

bp = Blueprint("stats", __name__)

TOP_AUTHORS = 10


def site_stats():
    counts = totals()
    # Users with no posts count as 0 in the average: total posts over total users. (The article's
    # avg(count(...)) nests aggregates, which SQL does not allow.)
    average = counts["posts"] / counts["users"] if counts["users"] else 0.0
    top = db.session.execute(
        select(User.id, User.username, User.post_count)
        .where(User.post_count > 0)
        .order_by(User.post_count.desc(), User.id)
        .limit(TOP_AUTHORS)
    ).all()
    return {"users": counts["users"], "posts": counts["posts"], "average": average, "top": top}


@bp.get("/stats")
def index():
    """Numbers of users and posts, the average per user, and the top authors."""
    return render_template("stats/index.html", stats=site_stats())
