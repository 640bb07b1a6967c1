"""GET /users.csv and /posts.csv: every matching row, streamed in batches, never all in memory."""

import csv
import io
import re

from flask import Blueprint, Response, request, stream_with_context

from .auth.permissions import shows_emails
from .extensions import db
from .listing import parse_list_args
from .models import Post
from .posts import queries as post_queries
from .posts.forms import to_user_id
from .users import queries as user_queries

bp = Blueprint("exports", __name__)

BATCH = 1000  # rows fetched from the database, and written to the client, at a time
# A spreadsheet runs a cell that starts with one of these as a formula (CWE-1236).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Every cell is quoted (csv.QUOTE_ALL), which is what keeps "Report;=1+2" one text cell in a
# spreadsheet whose list separator is ";" (it splits unquoted text at ";" and ran "=1+2").
# A program that splits at "," or ";" without honouring quotes would still see a cell that starts
# after the separator, so a formula trigger there (after optional spaces or quotes) gets the same
# "'" as one at the start: "Report;'=1+2". Prefixing only the whole cell would not help that
# second piece. Line breaks are not treated as separators: quoted, they stay inside the cell in
# every spreadsheet, and escaping there would mangle every "- item" list in a post's body.
FORMULA_AFTER_SEPARATOR = re.compile(r"""([,;][ "]*)(?=[=+\-@\t\r])""")


def safe_cell(value):
    """The value, with a "'" before each place a spreadsheet could take for a formula's start."""
    if not isinstance(value, str):
        return value
    value = FORMULA_AFTER_SEPARATOR.sub(r"\1'", value)
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_rows(stmt, header, row_values):
    """The CSV text of stmt's rows, one chunk per batch; the cursor is read BATCH rows at a time.

    row_values turns a row into its cells and passes every text cell through safe_cell.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    result = db.session.execute(stmt.execution_options(yield_per=BATCH))
    for rows in result.partitions():
        writer.writerows(map(row_values, rows))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():  # no rows: the header alone
        yield buffer.getvalue()


def csv_response(filename, rows):
    return Response(
        stream_with_context(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def timestamp(value):
    return value.isoformat() if value is not None else ""


def user_cells(u):
    return u.id, safe_cell(u.username), safe_cell(u.email), u.post_count, timestamp(u.created_at)


def post_cells(p):
    title, author, body = safe_cell(p.title), safe_cell(p.author), safe_cell(p.body)
    return p.id, title, p.user_id, author, timestamp(p.created_at), body


def public_user_cells(u):
    return u.id, safe_cell(u.username), u.post_count, timestamp(u.created_at)


@bp.get("/users.csv")
def users_csv():
    """Every user that q matches, in the list's sort order, as CSV (no emails for anonymous readers)."""
    emails = shows_emails()
    args = parse_list_args(request.args, user_queries.sorts_for(emails), user_queries.DEFAULT_SORT)
    stmt = user_queries.filtered_users(args, emails=emails)
    if emails:
        return csv_response(
            "users.csv", csv_rows(stmt, ("id", "username", "email", "posts", "created_at"), user_cells)
        )
    header = ("id", "username", "posts", "created_at")
    return csv_response("users.csv", csv_rows(stmt, header, public_user_cells))


@bp.get("/posts.csv")
def posts_csv():
    """Every post that q and user match, in the list's sort order, as CSV, bodies included."""
    args = parse_list_args(request.args, post_queries.SORTS, post_queries.DEFAULT_SORT)
    stmt = post_queries.filtered_posts(args, to_user_id(request.args.get("user"))).add_columns(Post.body)
    header = ("id", "title", "user_id", "author", "created_at", "body")
    return csv_response("posts.csv", csv_rows(stmt, header, post_cells))
