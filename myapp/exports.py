"""GET /users.csv and /posts.csv: every matching row, streamed in batches, never all in memory."""

import re
from functools import partial

from flask import Blueprint, Response, request, stream_with_context

from .auth.permissions import shows_emails
from .extensions import db
from .listing import parse_list_args
from .models import Post, User
from .posts import queries as post_queries
from .posts.forms import to_user_id
from .sql_timestamps import iso_utc
from .users import queries as user_queries

bp = Blueprint("exports", __name__)

# Rows fetched from the database, and written to the client, at a time: 3M posts in 1,500 chunks.
# Larger batches were no faster; a post's body may hold 10,000 characters, so a batch of those
# stays under about 20 MB (tests/test_exports.py bounds the usual case).
BATCH = 2000
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
# Is there a formula trigger in any text cell of a batch? Asked of the batch's cells joined by
# NUL (which no stored value holds: control characters are refused), almost always answered "no"
# by a scan for the trigger characters alone, and then the rows are written as the database sent
# them, with no Python code per row or cell. The two searches match wherever safe_cell would
# change a cell (a NUL never stands between a separator and a trigger), so none is missed.
TRIGGERS = "=+-@\t\r"
FORMULA_AT_CELL_START = re.compile(r"""\x00[=+\-@\t\r]""")


def safe_cell(value):
    """The value, with a "'" before each place a spreadsheet could take for a formula's start."""
    if not isinstance(value, str):
        return value
    value = FORMULA_AFTER_SEPARATOR.sub(r"\1'", value)
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def escaped(rows, text_cells):
    """The rows with every text cell through safe_cell; as they are when no cell needs it."""
    text = "\x00" + "\x00".join([row[i] or "" for row in rows for i in text_cells])
    if not any(trigger in text for trigger in TRIGGERS):
        return rows
    if not (FORMULA_AT_CELL_START.search(text) or FORMULA_AFTER_SEPARATOR.search(text)):
        return rows
    return [tuple(safe_cell(v) if i in text_cells else v for i, v in enumerate(row)) for row in rows]


def csv_line(cells):
    """One row as csv.writer(quoting=csv.QUOTE_ALL) writes it in the excel dialect: every cell
    quoted, quotes doubled, None empty, CRLF at the end. Spelled out because it is 2.4x faster
    than csv.writer on these rows (tests/test_exports.py compares the two)."""
    return (
        '"' + '","'.join(["" if cell is None else str(cell).replace('"', '""') for cell in cells]) + '"\r\n'
    )


def csv_rows(stmt, header, text_cells):
    """The CSV text of stmt's rows, one chunk per batch; the cursor is read BATCH rows at a time.

    Rows come as the database formats them (timestamps too: iso_utc) from the session's
    connection, with no ORM objects; text_cells are the positions of the cells that hold text,
    the only ones where a formula could start (escaped()).
    """
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        # SQLite's cursor steps through the rows lazily, and SQLAlchemy reads none ahead here: take
        # them straight from it, as tuples. SQLAlchemy's Row per row was 40% of a 3M-post export's
        # time (600k rows: 3.1 s through partitions(), 1.9 s from the cursor). No column here needs
        # a result processor: ints, text, and timestamps already made text by the database.
        result = connection.execute(stmt)
        batches = iter(partial(result.cursor.fetchmany, BATCH), [])
    else:
        # PostgreSQL: a server-side cursor (yield_per), so that the rows are not all sent at once.
        result = connection.execute(stmt.execution_options(yield_per=BATCH))
        batches = result.partitions()
    chunk = csv_line(header)  # sent with the first batch, or alone when there are no rows
    try:
        for rows in batches:
            yield chunk + "".join(map(csv_line, escaped(rows, text_cells)))
            chunk = ""
    finally:
        # Also when the client goes away mid-export: PostgreSQL's server-side cursor is closed
        # here, not left to the garbage collector.
        result.close()
    if chunk:
        yield chunk


def csv_response(filename, rows):
    return Response(
        stream_with_context(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def export(filename, stmt, cells):
    """Stream stmt's rows with cells, a list of (header, column, holds text) in the file's order."""
    header = [name for name, _column, _text in cells]
    text_cells = {n for n, (_name, _column, text) in enumerate(cells) if text}
    stmt = stmt.with_only_columns(*(column for _name, column, _text in cells))
    return csv_response(filename, csv_rows(stmt, header, text_cells))


@bp.get("/users.csv")
def users_csv():
    """Every user that q matches, in the list's sort order, as CSV (no emails for anonymous readers)."""
    emails = shows_emails()
    args = parse_list_args(request.args, user_queries.sorts_for(emails), user_queries.DEFAULT_SORT)
    cells = [
        ("id", User.id, False),
        ("username", User.username, True),
        ("email", User.email, True),
        ("posts", User.post_count, False),
        ("created_at", iso_utc(User.created_at), False),
    ]
    if not emails:
        del cells[2]
    return export("users.csv", user_queries.filtered_users(args, emails=emails), cells)


@bp.get("/posts.csv")
def posts_csv():
    """Every post that q and user match, in the list's sort order, as CSV, bodies included."""
    args = parse_list_args(request.args, post_queries.SORTS, post_queries.DEFAULT_SORT)
    cells = [
        ("id", Post.id, False),
        ("title", Post.title, True),
        ("user_id", Post.user_id, False),
        ("author", User.username, True),
        ("created_at", iso_utc(Post.created_at), False),
        ("body", Post.body, True),
    ]
    stmt = post_queries.filtered_posts(args, to_user_id(request.args.get("user")))
    return export("posts.csv", stmt, cells)
