"""The CSV lines the database writes (myapp/sql_csv.py): byte for byte what csv.writer writes with
QUOTE_ALL from the rows, each text cell through safe_cell, on SQLite and PostgreSQL alike."""

import csv
import io

import pytest
from sqlalchemy import select

from myapp import exports
from myapp.exports import safe_cell
from myapp.extensions import db
from myapp.models import Post, User

TRICKY = [
    'He said "hi", then left',
    '"=quoted start',
    'a,"=b',  # a trigger after a separator and a quote
    'x;  ""=1',
    "=1;=2",
    "+1",
    "-",
    "@SUM(A1)",
    "\tTab first",
    "\rCR first",
    "ends with a separator;",  # before the line's CRLF in the CSV text: no formula
    "ends with a comma,",  # before the "," between cells: no formula
    ", -1 after a comma",
    "ünïcödé ✓ — 日本語, and; more",
    "two\nlines\r\n- an item",
    "'=already quoted",
    "plain",
    "",
]


def expected_csv(header, rows, text_cells):
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    writer.writerows([safe_cell(v) if i in text_cells else v for i, v in enumerate(row)] for row in rows)
    return buffer.getvalue()


@pytest.fixture(params=[(2, 3), (500, 2000)], ids=["tiny batches", "usual batches"])
def batches(request, monkeypatch):
    first, batch = request.param
    monkeypatch.setattr(exports, "FIRST_BATCH", first)
    monkeypatch.setattr(exports, "BATCH", batch)


def test_posts_csv_is_what_csv_writer_writes_from_the_rows(app, client, make_user, make_post, batches):
    authors = [make_user(name) for name in ("alice", '-o"brien', "=cmd;@x")]
    for n, text in enumerate(TRICKY):
        make_post(authors[n % 3], text or "untitled", TRICKY[-1 - n])
    with app.app_context():
        posts = db.session.execute(
            select(Post.id, Post.title, Post.user_id, User.username, Post.created_at, Post.body)
            .join(User, Post.user_id == User.id)
            .order_by(Post.id)
        ).all()
    rows = [(p.id, p.title, p.user_id, p.username, p.created_at.isoformat(), p.body) for p in posts]
    header = ["id", "title", "user_id", "author", "created_at", "body"]
    text = client.get("/posts.csv?sort=created").get_data(as_text=True)
    assert text == expected_csv(header, rows, {1, 3, 5})


def test_users_csv_is_what_csv_writer_writes_with_and_without_emails(
    app, client, anon_client, make_user, batches
):
    for n, text in enumerate(TRICKY[:-1]):
        make_user(text, email=f"{TRICKY[-2 - n]}@example.com", posts=n % 2)
    with app.app_context():
        users = db.session.execute(
            select(User.id, User.username, User.email, User.post_count, User.created_at).order_by(User.id)
        ).all()
    rows = [(u.id, u.username, u.email, u.post_count, u.created_at.isoformat()) for u in users]
    header = ["id", "username", "email", "posts", "created_at"]
    text = client.get("/users.csv?sort=created").get_data(as_text=True)
    assert text == expected_csv(header, rows, {1, 2})
    app.config["READ_ACCESS"] = "public"  # read anonymously: no email column
    anonymous = anon_client.get("/users.csv?sort=created").get_data(as_text=True)
    del header[2]
    assert anonymous == expected_csv(header, [r[:2] + r[3:] for r in rows], {1})


def test_filters_still_choose_the_lines(client, make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    make_post(alice, '=apple "pie"')
    make_post(bob, "apricot, -2")
    make_post(bob, "banana")
    lines = client.get(f"/posts.csv?user={bob}&q=ap").get_data(as_text=True).split("\r\n")
    assert len(lines) == 3 and lines[2] == "" and '"apricot, \'-2","' in lines[1]
    lines = client.get("/posts.csv?q=apple").get_data(as_text=True).split("\r\n")
    assert len(lines) == 3 and lines[1].startswith('"1","\'=apple ""pie""","')
