"""A person searches, sorts and pages through a few hundred users, and reads the stats page.

The person is the admin, who is a user too: the lists and the stats count 300 seeded users plus the
admin ("root", which sorts after every "memberNNN")."""

import pytest
from playwright.sync_api import expect

from .conftest import BROWSER_TEST

pytestmark = BROWSER_TEST

# A few users with posts, so that sorting by post count has a clear winner.
POSTS = {150: 9, 7: 5, 299: 2}


@pytest.fixture
def three_hundred_users(seed):
    seed(*[(f"member{n:03}", f"m{n:03}@example.com", POSTS.get(n, 0)) for n in range(1, 301)])


def first_usernames(page, count=3):
    return page.locator("table.list tbody tr td:first-child").all_inner_texts()[:count]


def test_search_sort_and_page_through_users(any_visitor, three_hundred_users):
    page = any_visitor.page
    any_visitor.open("/users")
    # 300 seeded users and the admin: 301, on 16 pages of 20.
    expect(page.locator(".summary")).to_have_text("301 users · showing 1–20")
    expect(page.locator(".pagination [aria-current=page]")).to_have_text("Page 1 of 16")
    expect(page.get_by_role("link", name="← Previous")).to_have_count(0)
    expect(page.locator("table.list tbody tr")).to_have_count(20)
    assert first_usernames(page) == ["member001", "member002", "member003"]
    any_visitor.shot("users-page-1")

    page.get_by_role("link", name="Next →").click()
    expect(page.locator(".pagination [aria-current=page]")).to_have_text("Page 2 of 16")
    expect(page.locator(".summary")).to_have_text("301 users · showing 21–40")
    assert first_usernames(page, 1) == ["member021"]
    page.get_by_role("link", name="← Previous").click()
    expect(page.locator(".pagination [aria-current=page]")).to_have_text("Page 1 of 16")

    # Search: typed into the box and sent with Enter, as a person does.
    page.get_by_label("Search users by name or email").fill("member2")
    page.get_by_label("Search users by name or email").press("Enter")
    expect(page.locator(".summary")).to_have_text("100 users matching “member2” · showing 1–20")
    expect(page.locator(".pagination [aria-current=page]")).to_have_text("Page 1 of 5")
    expect(page.get_by_label("Search users by name or email")).to_have_value("member2")
    page.get_by_role("link", name="Next →").click()
    expect(page.locator(".summary")).to_have_text("100 users matching “member2” · showing 21–40")
    assert first_usernames(page, 1) == ["member220"]

    # Sorting keeps the search and starts again from page 1; clicking the current sort reverses it.
    username_header = page.get_by_role("columnheader", name="Username")
    expect(username_header).to_have_attribute("aria-sort", "ascending")
    username_header.get_by_role("link").click()
    expect(page.get_by_role("columnheader", name="Username")).to_have_attribute("aria-sort", "descending")
    expect(page.locator(".pagination [aria-current=page]")).to_have_text("Page 1 of 5")
    assert first_usernames(page) == ["member299", "member298", "member297"]
    any_visitor.shot("users-search-sorted")

    page.get_by_role("link", name="Clear").click()
    expect(page.locator(".summary")).to_have_text("301 users · showing 1–20")
    posts_header = page.get_by_role("columnheader", name="Posts")
    posts_header.get_by_role("link").click()
    expect(posts_header).to_have_attribute("aria-sort", "ascending")  # the new page, before clicking again
    posts_header.get_by_role("link").click()
    expect(posts_header).to_have_attribute("aria-sort", "descending")
    assert first_usernames(page) == ["member150", "member007", "member299"]
    counts = page.locator("table.list tbody tr td.num").all_inner_texts()[:4]
    assert counts == ["9", "5", "2", "0"]

    # The last pages, then one past the end: a way back, not an error. The admin, sorted after
    # member300, is alone on the last page.
    any_visitor.open("/users?page=15")
    expect(page.locator(".summary")).to_have_text("301 users · showing 281–300")
    page.get_by_role("link", name="Next →").click()
    expect(page.locator(".summary")).to_have_text("301 users · showing 301–301")
    assert first_usernames(page) == ["root"]
    expect(page.get_by_role("link", name="Next →")).to_have_count(0)
    any_visitor.open("/users?page=99")
    expect(page.locator(".empty")).to_have_text("There is no page 99. Go to the last page.")
    expect(page.locator(".pagination")).to_have_count(0)  # no "Page 99 of 16"
    any_visitor.shot("users-past-the-end")
    page.get_by_role("link", name="Go to the last page").click()
    expect(page.locator(".pagination [aria-current=page]")).to_have_text("Page 16 of 16")

    page.get_by_label("Search users by name or email").fill("nobody-here")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".empty")).to_have_text("No users match “nobody-here”. Show all users.")
    any_visitor.shot("users-no-match")


def stats_values(page):
    terms, values = page.locator(".stats dt").all_inner_texts(), page.locator(".stats dd").all_inner_texts()
    return dict(zip(terms, values, strict=True))


def test_stats_page(any_visitor, seed):
    page = any_visitor.page
    any_visitor.open("/stats")
    expect(page).to_have_title("Stats · Users & Posts")
    expect(page.get_by_role("link", name="Stats", exact=True)).to_have_attribute("aria-current", "page")
    # The admin reading the page is the one user there is, with no posts.
    assert stats_values(page) == {"Users": "1", "Posts": "0", "Average posts per user": "0.0"}
    expect(page.locator(".empty")).to_have_text("No posts yet — write the first one.")
    any_visitor.shot("stats-empty")

    seed(("alice", "alice@example.com", 3), ("bob", "bob@example.com", 1), ("carol", "carol@example.com", 0))
    page.reload()
    # Three seeded users and the admin: 4 posts over 4 users (the admin's 0 counts).
    assert stats_values(page) == {"Users": "4", "Posts": "4", "Average posts per user": "1.0"}
    expect(page.locator("ol.top li")).to_have_text(["alice — 3 posts", "bob — 1 post"])
    any_visitor.shot("stats")
    page.get_by_role("link", name="alice").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("alice")
