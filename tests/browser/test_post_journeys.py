"""A person writes, edits and deletes posts in Chromium, starting from a user's page."""

import re

from playwright.sync_api import expect

from .conftest import BROWSER_TEST
from .visitor import DANGER_RED, submit

pytestmark = BROWSER_TEST


def test_add_a_post_from_the_users_page(visitor, seed):
    seed(("someone.else", "else@example.com", 0))
    (user_id,) = seed(("ada", "ada@example.com", 0))
    page = visitor.page
    visitor.open(f"/users/{user_id}")
    expect(page.locator(".empty")).to_have_text("No posts yet — write the first one.")

    page.locator(".page-head").get_by_role("link", name="Add post").click()
    expect(page).to_have_title("Add post · Users & Posts")
    expect(page.get_by_label("Author")).to_have_value(str(user_id))  # preselected from the user's page
    page.get_by_label("Title").fill("Notes on the Analytical Engine")
    page.get_by_label("Body").fill("It might act upon other things besides number.\n\nSecond paragraph.")
    visitor.shot("post-new")
    assert submit(page, page.get_by_role("button", name="Add post")) == 303

    expect(page).to_have_url(re.compile(r"/posts/\d+$"))
    expect(page.locator(".flash")).to_have_text("Post was added.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Notes on the Analytical Engine")
    expect(page.locator(".meta")).to_contain_text("By ada")
    expect(page.locator(".meta")).not_to_contain_text("edited")  # a new post has not been edited
    expect(page.locator(".body")).to_contain_text("besides number.\n\nSecond paragraph.")
    expect(page.get_by_role("link", name="Posts", exact=True)).to_have_attribute("aria-current", "page")
    visitor.shot("post-show")

    page.locator(".meta").get_by_role("link", name="ada").click()
    expect(page.locator(".post-list")).to_contain_text("Notes on the Analytical Engine")
    expect(page.locator(".details dt:text-is('Posts') + dd")).to_have_text("1")
    visitor.shot("user-show-with-post")


def test_a_bad_post_keeps_what_was_typed(visitor, seed):
    (user_id,) = seed(("ada", "ada@example.com", 0))
    page = visitor.page
    visitor.open(f"/posts/new?user={user_id}")
    page.get_by_label("Body").fill("A body without a title")
    assert submit(page, page.get_by_role("button", name="Add post")) == 422
    expect(page.locator("#title-error")).to_have_text("This field is required.")
    expect(page.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Body")).to_have_value("A body without a title")
    expect(page.get_by_label("Author")).to_have_value(str(user_id))
    visitor.shot("post-new-errors")


def test_edit_and_delete_a_post(visitor, seed):
    (user_id,) = seed(("ada", "ada@example.com", 2))
    page = visitor.page
    visitor.open(f"/users/{user_id}")
    page.get_by_role("link", name="Post 1 by ada").click()
    page.get_by_role("link", name="Edit").click()
    expect(page).to_have_title("Edit Post 1 by ada · Users & Posts")
    expect(page.get_by_label("Title")).to_have_value("Post 1 by ada")
    page.get_by_label("Title").fill("First thoughts, revised")
    assert submit(page, page.get_by_role("button", name="Save")) == 303
    expect(page.locator(".flash")).to_have_text("Post was saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text("First thoughts, revised")
    expect(page.locator(".meta")).to_contain_text("edited")

    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete “First thoughts, revised”?")
    confirm = page.get_by_role("button", name="Delete post")
    expect(confirm).to_have_css("background-color", DANGER_RED)
    visitor.shot("post-delete")
    assert submit(page, confirm) == 303
    expect(page).to_have_url(f"{visitor.base_url}/users/{user_id}")
    expect(page.locator(".flash")).to_have_text("Post was deleted.")
    expect(page.locator(".post-list li")).to_have_count(1)
    expect(page.locator(".details dt:text-is('Posts') + dd")).to_have_text("1")


def test_past_500_users_the_author_is_typed_by_name(visitor, seed):
    """501 users (500 and the admin): too many for a select, so the person types the author."""
    ids = seed(*[(f"writer{n:03}", f"writer{n:03}@example.com", 0) for n in range(500)])
    page = visitor.page
    visitor.open(f"/posts/new?user={ids[123]}")
    author = page.get_by_label("Author")
    expect(author).to_have_value("writer123")  # preselected by name, not by a number
    expect(page.locator("#user_id-help")).to_contain_text("username, or their id")
    expect(page.locator("select")).to_have_count(0)

    author.fill("WRITER456")  # any case, as the unique index compares
    page.get_by_label("Title").fill("Typed, not chosen")
    visitor.shot("post-new-typed-author")
    assert submit(page, page.get_by_role("button", name="Add post")) == 303
    expect(page.locator(".meta")).to_contain_text("By writer456")

    visitor.open("/posts/new")
    page.get_by_label("Author").fill("no-such-writer")
    page.get_by_label("Title").fill("Nobody's")
    assert submit(page, page.get_by_role("button", name="Add post")) == 422
    expect(page.locator("#user_id-error")).to_have_text("Choose an existing user.")
    expect(page.get_by_label("Author")).to_have_value("no-such-writer")

    page.get_by_label("Author").fill(str(ids[7]))  # an id works too
    assert submit(page, page.get_by_role("button", name="Add post")) == 303
    expect(page.locator(".meta")).to_contain_text("By writer007")
