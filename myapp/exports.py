"""GET /users.csv and /posts.csv: every matching row, streamed in batches, never all in memory."""

import csv
import re
from operator import itemgetter

from flask import Blueprint, Response, request, stream_with_context

from .auth.permissions import shows_emails
from .extensions import db
from .listing import parse_list_args
from .models import Post, User
from .posts import queries as post_queries
from .posts.forms import to_user_id
from .sql_csv import csv_line_sql
from .sql_timestamps import iso_utc
from .users import queries as user_queries

bp = Blueprint("exports", __name__)

# Rows fetched from the database, and written to the client, at a time: 3M posts in 1,500 chunks.
# Larger batches were no faster; a post's body may hold 10,000 characters, so a batch of those
# stays under about 20 MB (tests/test_exports.py bounds the usual case).
BATCH = 2000
# The first batch: smaller, so that the first bytes go out sooner (500 posts are about 70 KB).
FIRST_BATCH = 500
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


def csv_line(cells):
    """One row as csv.writer(quoting=csv.QUOTE_ALL) writes it in the excel dialect: every cell
    quoted, quotes doubled, None empty, CRLF at the end. Spelled out because it is 2.4x faster
    than csv.writer on these rows (tests/test_exports.py compares the two)."""
    return (
        '"' + '","'.join(["" if cell is None else str(cell).replace('"', '""') for cell in cells]) + '"\r\n'
    )


# Where safe_cell could still change a line that csv_line_sql built: FORMULA_AFTER_SEPARATOR as it
# looks in CSV text, where each quote is doubled (still matched by [ "]*). It also matches a few
# lines safe_cell leaves alone (a cell ending in ";" before the CRLF, or one that starts with '"='
# after the "," between cells): those are only read again, and written unchanged.
TRIGGER_AFTER_SEPARATOR = re.compile(r"""[,;][ "]*[=+\-@\t\r]""")
# The same, one separator each: a pattern that starts with one character is searched for with a
# fast scan, one that starts with a class ([,;]) tries every position (2.8 s of a 3M-post export).
TRIGGER_AFTER_EACH_SEPARATOR = [re.compile(separator + r"""[ "]*[=+\-@\t\r]""") for separator in ",;"]


def lines_text(lines, text_cells):
    """The CSV text of lines from csv_line_sql, each ended by CRLF, with safe_cell applied in full."""
    text = "\r\n".join(lines)
    # Searches of the whole batch, almost always answered "no"; only then are lines looked at.
    if any(pattern.search(text) for pattern in TRIGGER_AFTER_EACH_SEPARATOR):
        text = "\r\n".join(
            [_made_safe(line, text_cells) if TRIGGER_AFTER_SEPARATOR.search(line) else line for line in lines]
        )
    return text + "\r\n"


def _made_safe(line, text_cells):
    """line with safe_cell on each text cell: read back into cells, escaped, and written again.
    safe_cell gives the same on a cell that csv_line_sql already prefixed with "'" as on its value."""
    cells = next(csv.reader([line]))
    return csv_line([safe_cell(c) if i in text_cells else c for i, c in enumerate(cells)])[:-2]


def csv_rows(stmt, header, text_cells):
    """The CSV text of stmt's lines (one column, csv_line_sql), one chunk per batch of rows.

    The database writes each line, so Python only joins them: on 3M posts, a cell by cell line in
    Python was most of the export's time. The first batch is small, so that the first bytes go out
    soon; the later ones are BATCH rows (a few hundred KB each: fewer, larger writes to the socket).
    """
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        # SQLite's cursor steps through the rows lazily, and SQLAlchemy reads none ahead here: take
        # them straight from it, as tuples, with no SQLAlchemy Row per row.
        result = connection.execute(stmt)
        fetch = result.cursor.fetchmany
    else:
        # PostgreSQL: a server-side cursor (yield_per), so that the rows are not all sent at once.
        result = connection.execute(stmt.execution_options(yield_per=BATCH))
        fetch = result.fetchmany
    chunk = csv_line(header)  # sent with the first batch, or alone when there are no rows
    try:
        size = FIRST_BATCH
        while rows := fetch(size):
            yield chunk + lines_text(list(map(itemgetter(0), rows)), text_cells)
            chunk, size = "", BATCH
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
    stmt = stmt.with_only_columns(
        csv_line_sql([(column, text) for _name, column, text in cells], FORMULA_STARTS)
    )
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
