"""CSV exports: every matching row, the list's filters and sort, formula escaping, bounded memory."""

import csv
import io
import tracemalloc
from datetime import UTC, datetime

import pytest
from sqlalchemy import String, cast, insert, literal, select, update

from myapp import exports
from myapp.exports import safe_cell
from myapp.extensions import db
from myapp.models import Post, User
from myapp.types import UTCDateTime

from .conftest import ADMIN


def read_csv(response):
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_users_csv_has_a_header_every_row_and_a_filename(client, make_user):
    make_user("bob", posts=2)
    make_user("alice")
    response = client.get("/users.csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="users.csv"'
    rows = read_csv(response)
    assert rows[0] == ["id", "username", "email", "posts", "created_at"]
    assert [(r[1], r[2], r[3]) for r in rows[1:] if r[1] != ADMIN] == [
        ("alice", "alice@example.com", "0"),
        ("bob", "bob@example.com", "2"),
    ]


def test_users_csv_is_not_paginated_and_takes_q_and_sort(client, app, make_user):
    app.config["MAX_PER_PAGE"] = 5
    for n in range(12):
        make_user(f"user{n:02}", posts=n % 3)
    assert len(read_csv(client.get("/users.csv?per_page=5&page=2"))) == 1 + 12 + 1  # header, users, admin
    rows = read_csv(client.get("/users.csv?q=user1&sort=-username"))
    assert [r[1] for r in rows[1:]] == ["user11", "user10"]


def test_posts_csv_takes_q_user_and_sort(client, make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    make_post(alice, "apple", "first\nline")
    make_post(bob, "apricot")
    make_post(bob, "banana")
    response = client.get(f"/posts.csv?user={bob}&sort=-title")
    assert response.headers["Content-Disposition"] == 'attachment; filename="posts.csv"'
    rows = read_csv(response)
    assert rows[0] == ["id", "title", "user_id", "author", "created_at", "body"]
    assert [(r[1], r[3]) for r in rows[1:]] == [("banana", "bob"), ("apricot", "bob")]
    rows = read_csv(client.get("/posts.csv?q=ap&sort=title"))
    assert [(r[1], r[5]) for r in rows[1:]] == [("apple", "first\nline"), ("apricot", "")]


def test_empty_export_is_the_header_alone(client):
    assert read_csv(client.get("/posts.csv")) == [["id", "title", "user_id", "author", "created_at", "body"]]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_cells_a_spreadsheet_would_run_are_escaped(client, make_user, make_post, start):
    """CWE-1236: a leading quote makes the cell text."""
    user_id = make_user("mallory-" if start == "-" else "mallory")
    make_post(user_id, f'{start}HYPERLINK("http://x")', f"{start}1+1")
    rows = read_csv(client.get("/posts.csv"))
    assert rows[1][1] == f'\'{start}HYPERLINK("http://x")'
    assert rows[1][5] == f"'{start}1+1"


def test_only_the_cells_that_need_it_are_escaped_batch_by_batch(client, make_user, make_post, monkeypatch):
    """A batch is written as the database sent it unless one of its cells needs escaping."""
    monkeypatch.setattr(exports, "BATCH", 3)
    alice, dash = make_user("alice"), make_user("-dash")
    posts = [
        (alice, "=first", ""), (alice, "b", ""), (alice, "c", ""),  # only the batch's very first cell
        (alice, "d", ""), (alice, "e", ""), (alice, "f", "x, -1"),  # only after a separator, last cell
        (dash, "g", ""), (dash, "h", ""), (dash, "i", ""),  # only the author's name
        (alice, "a, b", "an - item"), (alice, "tab\tinside", "1\n-2"), (alice, "x;y", "x @ no"),  # none
    ]  # fmt: skip
    for author, title, body in posts:
        make_post(author, title, body)
    rows = read_csv(client.get("/posts.csv?sort=created"))[1:]
    names = {alice: "alice", dash: "-dash"}
    assert [(r[1], r[3], r[5]) for r in rows] == [
        (safe_cell(title), safe_cell(names[author]), safe_cell(body)) for author, title, body in posts
    ]
    assert [rows[0][1], rows[5][5], rows[6][3], rows[9][5]] == ["'=first", "x, '-1", "'-dash", "an - item"]


@pytest.mark.parametrize("microsecond", [0, 120, 999999])
def test_timestamps_are_what_the_api_writes(app, client, make_user, make_post, microsecond):
    """The database formats created_at (myapp/sql_timestamps.py) exactly as Python's isoformat()."""
    post_id = make_post(make_user("alice"), "t")
    stamp = datetime(2026, 2, 28, 23, 59, 58, microsecond, tzinfo=UTC)
    with app.app_context():
        db.session.execute(update(Post).where(Post.id == post_id).values(created_at=stamp))
        db.session.execute(update(User).values(created_at=stamp))
        db.session.commit()
    posts = read_csv(client.get("/posts.csv"))
    users = read_csv(client.get("/users.csv"))
    assert posts[1][4] == stamp.isoformat() == client.get(f"/api/posts/{post_id}").get_json()["created_at"]
    assert {row[4] for row in users[1:]} == {stamp.isoformat()}


def test_csv_line_is_what_csv_writer_writes():
    rows = [
        ("id", "title", "created_at"),
        (1, 'He said "hi", then left', "2026-01-31T12:34:56+00:00"),
        (2**63 - 1, "two\nlines\r\nand a\ttab", ""),
        (None, '""', "ünïcödé ✓, and; more"),
        (0, "'=1+2", ' "quoted" '),
    ]
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL).writerows(rows)
    assert "".join(map(exports.csv_line, rows)) == buffer.getvalue()


def test_safe_cell_leaves_ordinary_values_alone():
    assert (
        safe_cell("alice") == "alice"
        and safe_cell("a=b") == "a=b"
        and safe_cell(-5) == -5
        and safe_cell("") == ""
    )
    assert safe_cell("-5") == "'-5" and safe_cell("@x") == "'@x"


ROWS = 200_000
# What the export of 200k users may hold in Python memory at its peak (tracemalloc). The CSV text
# alone is about 12 MB; reading every row into memory first would peak far above that.
PEAK_BOUND = 4 * 1024 * 1024


@pytest.mark.slow
def test_export_of_200k_rows_streams_in_bounded_memory(app, client):
    with app.app_context():
        # Made by the database from a counting CTE: quick on SQLite and PostgreSQL alike.
        n = select(literal(1).label("i")).cte("n", recursive=True)
        n = n.union_all(select(n.c.i + 1).where(n.c.i < ROWS))
        name = literal("user") + cast(n.c.i, String)
        now = literal(datetime.now(UTC), UTCDateTime)
        db.session.execute(
            insert(User).from_select(
                ["username", "email", "created_at"], select(name, name + "@example.com", now)
            )
        )
        db.session.commit()
    tracemalloc.start()
    try:
        response = client.get("/users.csv?sort=created", buffered=False)
        lines = size = 0
        for chunk in response.response:
            lines += chunk.count(b"\n")
            size += len(chunk)
        response.close()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == 1 + ROWS + 1  # the header, every row, and the signed-in admin's
    assert size > 10 * 1024 * 1024
    assert peak < PEAK_BOUND, f"peak {peak / 2**20:.1f} MiB"
