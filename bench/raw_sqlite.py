"""Baseline: the users list written by hand with the sqlite3 module and a Jinja template.

What a careful tutorial reader writes: a connection per request, count(*) for the pager, the post
count per row in a correlated subquery, OFFSET paging, the same columns and page size as the app.
"""

import os
import sqlite3

from flask import Flask, g, render_template, request

app = Flask(__name__)
DATABASE = os.environ["BENCH_DB"]


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect(DATABASE)
        g.db.row_factory = sqlite3.Row
    return g.db


@app.teardown_appcontext
def close_db(_error):
    connection = g.pop("db", None)
    if connection is not None:
        connection.close()


@app.get("/users")
def users():
    """A page of users sorted by name, with each user's post count."""
    page = max(1, request.args.get("page", 1, type=int))
    per_page = min(100, max(1, request.args.get("per_page", 20, type=int)))
    db = get_db()
    total = db.execute("SELECT count(*) FROM users").fetchone()[0]
    rows = db.execute(
        "SELECT u.id, u.username, u.email, u.created_at,"
        " (SELECT count(*) FROM posts p WHERE p.user_id = u.id) AS post_count"
        " FROM users u ORDER BY lower(u.username), u.id LIMIT ? OFFSET ?",
        (per_page, (page - 1) * per_page),
    ).fetchall()
    pages = max(1, -(-total // per_page))
    return render_template("raw_users.html", users=rows, total=total, page=page, pages=pages)
