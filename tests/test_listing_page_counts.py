"""A typed ?page=N of a whole list, found through the counts per key prefix (myapp/page_counts.py),
shows exactly the rows a plain OFFSET over the list in its sort order gives, after every kind of
write: adds, renames, deletes (a user's with their posts), undo, seed, restore."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from myapp import page_counts
from myapp.extensions import db
from myapp.models import HistoryEntry, PageCount, Post, User

from .conftest import csrf_token
from .test_pagination import ids_on

PER_PAGE = 3
ORDERS = {
    ("users", "username"): (func.lower(User.username), User.id),
    ("users", "-username"): (func.lower(User.username).desc(), User.id.desc()),
    ("posts", "created"): (Post.created_at, Post.id),
    ("posts", "-created"): (Post.created_at.desc(), Post.id.desc()),
}
# Names that share a prefix longer than the deepest level (8), are shorter than some levels, or
# differ only in case.
NAMES = ("a", "ab", "abc", "Abd", "zeta", "samesame1", "samesame2", "samesame10", "sameSam", "b", "user7")
TIMES = [
    datetime(2019, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(2020, 1, 1, 0, 0, 0, tzinfo=UTC),
    datetime(2020, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC),  # the same second, later in it
    datetime(2020, 1, 1, 0, 0, 1, tzinfo=UTC),
    datetime(2020, 2, 29, 12, 30, tzinfo=UTC),
    datetime(2020, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2024, 5, 5, 5, 5, 5, tzinfo=UTC),
]


def reference(app, name, sort, page):
    """The ids on page `page` by a plain OFFSET over the list in its order."""
    model = User if name == "users" else Post
    with app.app_context():
        stmt = select(model.id).order_by(*ORDERS[name, sort]).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
        return list(db.session.scalars(stmt))


def assert_pages_exact(app, client):
    """Every page of both lists in both directions (and one past the end), on the pages and the API."""
    for (name, sort), _order in ORDERS.items():
        with app.app_context():
            total = db.session.scalar(select(func.count()).select_from(User if name == "users" else Post))
        for page in range(1, total // PER_PAGE + 3):
            expected = reference(app, name, sort, page)
            url = f"/{name}?per_page={PER_PAGE}&sort={sort}&page={page}"
            assert ids_on(client, url)[0] == expected, url
            items = client.get(f"/api{url}").get_json()["items"]
            assert [item["id"] for item in items] == expected, f"/api{url}"
    assert_counts_match_rows(app)


def assert_counts_match_rows(app):
    """The kept counts, summed over shards, are those a recount from the rows gives."""
    with app.app_context():
        kept = counts()
        page_counts.rebuild(db.session.connection())
        recounted = counts()
        db.session.rollback()
    assert kept == recounted


def counts():
    stmt = select(PageCount.list, PageCount.level, PageCount.prefix, func.sum(PageCount.n)).group_by(
        PageCount.list, PageCount.level, PageCount.prefix
    )
    return {row[:3]: row[3] for row in db.session.execute(stmt) if row[3]}


@pytest.fixture
def lists(app, make_user):
    """Users with awkward names, posts at awkward times (several in one second)."""
    ids = [make_user(name) for name in NAMES]
    with app.app_context():
        for n, when in enumerate(TIMES * 2):
            db.session.add(Post(title=f"Post {n}", user_id=ids[n % len(ids)], created_at=when))
        db.session.commit()
    return ids


def test_typed_pages_match_offset(app, client, lists):
    assert_pages_exact(app, client)


def test_exact_after_adds_renames_and_deletes(app, client, submit, lists, make_user, make_post):
    make_user("samesame0", posts=2)
    make_post(lists[0], title="new")
    response = submit(
        f"/users/{lists[1]}/edit", {"username": "zz-renamed", "email": "zz@example.com", "version": "1"}
    )
    assert response.status_code == 303
    with app.app_context():
        post_id = db.session.scalar(select(Post.id).where(Post.user_id == lists[2]).limit(1))
    assert submit(f"/posts/{post_id}/delete", {}).status_code == 303
    assert_pages_exact(app, client)
    # A user deleted with their posts (the posts go in the same transaction).
    with app.app_context():
        assert db.session.scalar(select(User.post_count).where(User.id == lists[3])) > 0
    assert submit(f"/users/{lists[3]}/delete", {}).status_code == 303
    assert_pages_exact(app, client)


def test_exact_after_undoing_a_delete(app, client, lists):
    assert client.delete(f"/api/users/{lists[4]}").status_code == 204
    with app.app_context():
        entry_id = db.session.scalar(
            select(HistoryEntry.id).filter_by(kind="user", object_id=lists[4], action="delete")
        )
    token = csrf_token(client, "/users/new")
    assert client.post(f"/activity/{entry_id}/restore", data={"csrf_token": token}).status_code == 303
    with app.app_context():
        assert db.session.get(User, lists[4]) is not None
    assert_pages_exact(app, client)


def test_exact_after_seed(app, client, runner, lists):
    result = runner.invoke(args=["seed", "--users", "7", "--posts-per-user", "2"])
    assert result.exit_code == 0, result.output
    assert_pages_exact(app, client)


def test_a_page_past_the_end_is_empty(client, lists):
    assert ids_on(client, "/posts?per_page=3&page=1000")[0] == []
    assert client.get("/api/users?per_page=3&page=1000").get_json()["items"] == []


def test_check_db_reports_page_counts_that_disagree_with_the_rows(app, runner, lists):
    assert runner.invoke(args=["check-db"]).exit_code == 0
    with app.app_context():
        zeta = (PageCount.list == "users", PageCount.prefix == "zeta")
        db.session.execute(update(PageCount).where(*zeta).values(n=PageCount.n + 2))
        db.session.commit()
    result = runner.invoke(args=["check-db"])
    assert result.exit_code != 0
    assert "page_counts says 3 users start with 'zeta', there are 1" in result.output
