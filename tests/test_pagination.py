"""Previous/Next links seek from the row at the page's edge; ?page=N gives the same rows."""

import html
import re

import pytest

from myapp.extensions import db
from myapp.listing import order_by
from myapp.models import Post, User
from myapp.posts import queries as post_queries
from myapp.users import queries as user_queries

NEXT = re.compile(r'rel="next" href="([^"]+)"')
PREV = re.compile(r'rel="prev" href="([^"]+)"')
ROW_LINK = {"/users": re.compile(r'<td data-label="Username"><a href="/users/(\d+)">'),
            "/posts": re.compile(r'<td data-label="Title"><a href="/posts/(\d+)">')}  # fmt: skip


def ids_on(client, url):
    body = client.get(url).get_data(as_text=True)
    return [int(i) for i in ROW_LINK[url.split("?")[0]].findall(body)], body


def link(pattern, body):
    match = pattern.search(body)
    return html.unescape(match.group(1)) if match else None


@pytest.fixture
def people(make_user, make_post):
    """Eleven users whose post counts and titles tie, so the id must break the ties."""
    ids = [make_user(f"user{n:02d}", posts=n % 3) for n in range(11)]
    for n, user_id in enumerate(ids[:4]):
        make_post(user_id, title="Same title" if n % 2 else f"Title {n}")
    return ids


@pytest.mark.parametrize(
    "path, sort",
    [("/users", s) for s in ("username", "-username", "email", "-created", "posts", "-posts")]
    + [("/posts", s) for s in ("-created", "created", "title", "-title", "author", "-author")],
)
def test_next_and_previous_links_match_numbered_pages(client, people, path, sort):
    base = f"{path}?per_page=4&sort={sort}"
    numbered = [ids_on(client, f"{base}&page={n}")[0] for n in (1, 2, 3, 4, 5, 6)]
    expected = [page for page in numbered if page]
    walked, url, last_url = [], base, base
    while url:
        rows, body = ids_on(client, url)
        walked.append(rows)
        last_url, url = url, link(NEXT, body)
        if url:
            assert "after=" in url and f"page={len(walked) + 1}" in url
    assert walked == expected
    # Every row exactly once: ties are neither skipped nor repeated.
    every = [row for rows in walked for row in rows]
    assert len(every) == len(set(every))
    # And back again with the Previous links.
    back, url = [], last_url
    while url:
        rows, body = ids_on(client, url)
        back.insert(0, rows)
        url = link(PREV, body)
        if url:
            assert "before=" in url
    assert back == expected


def test_a_cursor_to_a_deleted_row_falls_back_to_the_page_number(app, client, people):
    first, _ = ids_on(client, "/users?per_page=4")
    with app.app_context():
        db.session.delete(db.session.get(User, first[-1]))
        db.session.commit()
    rows, _ = ids_on(client, f"/users?per_page=4&page=2&after={first[-1]}")
    assert rows == ids_on(client, "/users?per_page=4&page=2")[0]


@pytest.mark.parametrize("cursor", ["after=abc", "after=-3", "before=0", "after=99999999999999999999999"])
def test_a_malformed_or_unknown_cursor_falls_back_to_the_page_number(client, people, cursor):
    rows, _ = ids_on(client, f"/users?per_page=4&page=2&{cursor}")
    assert rows == ids_on(client, "/users?per_page=4&page=2")[0]
    assert len(rows) == 4


def test_search_and_author_filter_keep_their_cursor_links(client, people, fetch):
    _, body = ids_on(client, "/users?per_page=2&q=user0")
    url = link(NEXT, body)
    assert "q=user0" in url and "after=" in url
    assert ids_on(client, url)[0] == ids_on(client, "/users?per_page=2&q=user0&page=2")[0]
    author = fetch(db.select(Post.user_id).group_by(Post.user_id).having(db.func.count() > 2))[0][0]
    _, body = ids_on(client, f"/posts?per_page=1&user={author}")
    url = link(NEXT, body)
    assert f"user={author}" in url
    assert ids_on(client, url)[0] == ids_on(client, f"/posts?per_page=1&user={author}&page=2")[0]


def test_page_past_the_end_still_links_back(client, people):
    body = client.get("/users?per_page=4&page=9").get_data(as_text=True)
    assert "There is no page 9" in body
    assert '<a href="/users?per_page=4&amp;page=3">Go to the last page</a>' in body


def sorted_ids(fetch, path, sort, user_id=None):
    """Every row's id in the list's order, by one plain ORDER BY with no paging at all."""
    if path == "/users":
        stmt = db.select(User.id).order_by(*order_by(user_queries.SORT_COLUMNS, sort))
    else:
        stmt = db.select(Post.id).join(User, Post.user_id == User.id)
        stmt = stmt.order_by(*order_by(post_queries.SORT_COLUMNS, sort))
        if user_id is not None:
            stmt = stmt.where(Post.user_id == user_id)
    return [row_id for (row_id,) in fetch(stmt)]


@pytest.mark.parametrize("per_page", [3, 5])
@pytest.mark.parametrize(
    "path, sort",
    [("/users", s) for s in ("username", "-email", "created", "-posts")]
    + [("/posts", s) for s in ("-created", "title", "-title", "author")],
)
def test_typed_pages_are_slices_of_the_sorted_list(client, people, fetch, path, sort, per_page):
    """Pages past the middle are counted back from the last row; they hold the same rows."""
    every = sorted_ids(fetch, path, sort)
    pages = [ids_on(client, f"{path}?per_page={per_page}&sort={sort}&page={n}")[0] for n in range(1, 8)]
    assert pages == [every[start : start + per_page] for start in range(0, 7 * per_page, per_page)]


@pytest.mark.parametrize("sort", ["-created", "title", "author"])
def test_typed_pages_of_one_authors_posts(client, people, fetch, sort):
    author = people[2]  # three posts
    every = sorted_ids(fetch, "/posts", sort, author)
    assert len(every) == 3
    pages = [ids_on(client, f"/posts?user={author}&per_page=2&sort={sort}&page={n}")[0] for n in (1, 2, 3)]
    assert pages == [every[:2], every[2:], []]


def test_typed_pages_of_a_search(client, people, fetch):
    every = [i for i in sorted_ids(fetch, "/users", "-username") if i in people[:10]]  # user00..user09
    pages = [ids_on(client, f"/users?q=user0&per_page=4&sort=-username&page={n}")[0] for n in (1, 2, 3, 4)]
    assert pages == [every[:4], every[4:8], every[8:], []]


def test_a_page_far_past_the_end_is_empty(client, people):
    body = client.get("/posts?page=1000000000").get_data(as_text=True)
    assert "There is no page 1000000000" in body
