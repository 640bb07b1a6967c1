"""Previous/Next links seek from the row at the page's edge; ?page=N gives the same rows."""

import html
import re

import pytest

from myapp.extensions import db
from myapp.models import Post, User

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
