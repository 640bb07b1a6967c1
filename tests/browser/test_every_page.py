"""Every page at desktop and phone width: its title, the section the navigation marks, nothing wider
than the screen, no console error, and a screenshot of it in test-artifacts/screenshots/.

The pages are seen by the admin (who may see every one of them); the sign-in page by a person who
has just signed out."""

import pytest
from playwright.sync_api import expect

from .conftest import ADMIN, BROWSER_TEST
from .visitor import submit

pytestmark = BROWSER_TEST

# As long as the rules allow and with nowhere to break a line: what pushes a layout sideways.
LONG_NAME = "a" * 40 + "." + "b" * 39
LONG_EMAIL = "c" * 64 + "@" + "d" * 50 + ".example"
LONG_TITLE = "T" * 100
LONG_BODY = "A body line that goes on. " * 40 + "\n\n" + "x" * 300


@pytest.fixture
def data(seed, live_app):
    """One user with long fields and a post, one ordinary user, and their ids."""
    from myapp.extensions import db
    from myapp.models import Post

    long_id, plain_id = seed((LONG_NAME, LONG_EMAIL, 3), ("plain", "plain@example.com", 0))
    with live_app.app_context():
        post = Post(title=LONG_TITLE, body=LONG_BODY, user_id=long_id)
        db.session.add(post)
        db.session.commit()
        return {"user": long_id, "plain": plain_id, "post": post.id}


ACCOUNT_LINK = f"{ADMIN[0]} (admin)"


def check_layout(visitor, title, section):
    """The site's layout: title, navigation (marking section, or nothing), one h1, no script."""
    page = visitor.page
    expect(page).to_have_title(f"{title} · Users & Posts")
    # Every page, the error pages too, is in the site's layout with its navigation.
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_visible()
    marked = nav.locator("[aria-current=page]")
    if section:
        expect(marked).to_have_text(section)
    else:
        expect(marked).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.locator("script")).to_have_count(0)  # no task needs JavaScript


def pages(ids):
    """(screenshot name, path, status, title, marked section) of every page."""
    user, plain, post = ids["user"], ids["plain"], ids["post"]
    return [
        ("users", "/users", 200, "Users", "Users"),
        ("users-sorted-by-posts", "/users?sort=-posts&per_page=1", 200, "Users", "Users"),
        ("user", f"/users/{user}", 200, LONG_NAME, "Users"),
        ("user-no-posts", f"/users/{plain}", 200, "plain", "Users"),
        ("user-new-page", "/users/new", 200, "Add user", "Users"),
        ("user-edit-page", f"/users/{user}/edit", 200, f"Edit {LONG_NAME}", "Users"),
        ("user-delete-page", f"/users/{user}/delete", 200, f"Delete {LONG_NAME}", "Users"),
        ("posts", "/posts", 200, "Posts", "Posts"),
        ("posts-by-user", f"/posts?user={user}", 200, "Posts", "Posts"),
        ("posts-no-match", "/posts?q=nothing-like-this", 200, "Posts", "Posts"),
        ("post", f"/posts/{post}", 200, LONG_TITLE, "Posts"),
        ("post-new-page", f"/posts/new?user={user}", 200, "Add post", "Posts"),
        ("post-edit-page", f"/posts/{post}/edit", 200, f"Edit {LONG_TITLE}", "Posts"),
        ("post-delete-page", f"/posts/{post}/delete", 200, "Delete post", "Posts"),
        ("stats-page", "/stats", 200, "Stats", "Stats"),
        # History: a row's in its section (long values in the changes column), all activity.
        ("user-history", f"/users/{user}/history", 200, f"History of {LONG_NAME}", "Users"),
        ("post-history", f"/posts/{post}/history", 200, f"History of {LONG_TITLE}", "Posts"),
        ("activity", "/activity", 200, "Activity", "Activity"),
        # The account pages are marked by the signed-in name in the navigation.
        ("account-page", "/account", 200, "Your account", ACCOUNT_LINK),
        ("tokens-page", "/account/tokens", 200, "API tokens", ACCOUNT_LINK),
        # An unknown user is still in the users section; an address no route matches is in none.
        ("not-found", "/users/999999", 404, "404 Not Found", "Users"),
        ("not-found-no-route", "/nowhere", 404, "404 Not Found", None),
        ("not-found-non-numeric-id", "/users/abc", 404, "404 Not Found", None),
        ("server-error", "/_test/boom", 500, "500 Internal Server Error", None),
    ]


def test_every_page(any_visitor, data):
    page = any_visitor.page
    too_wide = []
    for name, path, status, title, section in pages(data):
        any_visitor.open(path, status=status)
        check_layout(any_visitor, title, section)
        if any_visitor.page_width() > any_visitor.viewport["width"]:
            too_wide.append((path, any_visitor.page_width()))
        any_visitor.shot(name)

    # Signed out (through the navigation's button), the sign-in page: no section, no account in
    # the navigation, and no "Sign in" link on the page that is the sign-in form.
    any_visitor.sign_out()
    any_visitor.open("/login")
    check_layout(any_visitor, "Sign in", None)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("button", name="Sign out")).to_have_count(0)
    expect(nav.get_by_role("link", name="Sign in")).to_have_count(0)
    if any_visitor.page_width() > any_visitor.viewport["width"]:
        too_wide.append(("/login", any_visitor.page_width()))
    any_visitor.shot("login-page")
    assert too_wide == [], f"pages wider than {any_visitor.viewport['width']} px: {too_wide}"


def test_error_pages_say_what_happened(visitor):
    page = visitor.page
    visitor.open("/users/999999", status=404)
    expect(page.get_by_role("heading", level=1)).to_have_text("Not Found")
    expect(page.locator("main")).to_contain_text("There is nothing at this address.")
    page.get_by_role("link", name="Back to the users list").click()
    expect(page).to_have_title("Users · Users & Posts")

    visitor.open("/_test/boom", status=500)
    expect(page.get_by_role("heading", level=1)).to_have_text("Internal Server Error")
    expect(page.locator("main")).to_contain_text("Something went wrong on our side.")
    expect(page.locator("main")).not_to_contain_text("RuntimeError")  # no stack trace for a visitor


def test_a_forged_form_gets_the_400_page(visitor):
    page = visitor.page
    visitor.open("/users/new")
    page.get_by_label("Username").fill("forger")
    page.get_by_label("Email").fill("forger@example.com")
    # The add-user form's token (the navigation's Sign out form has one of its own).
    page.locator("main input[name=csrf_token]").evaluate("input => { input.value = 'forged'; }")
    assert submit(page, page.get_by_role("button", name="Add user")) == 400
    expect(page).to_have_title("400 Bad Request · Users & Posts")
    expect(page.locator("main")).to_contain_text("The form had expired or did not come from this site.")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    visitor.shot("csrf-error")


def test_empty_users_list_read_anonymously(people, live_app, public_reads):
    """The empty users list can only be seen with no account at all (an admin is a user), so it is
    read by an anonymous visitor with READ_ACCESS=public; without the right to add, no invitation."""
    from sqlalchemy import delete, update

    from myapp.extensions import db
    from myapp.models import PageCount, RowCount, User

    with live_app.app_context():
        db.session.execute(delete(User))  # the admin too (a bulk delete: the kept counts are reset by hand)
        db.session.execute(update(RowCount).values(n=0))
        db.session.execute(delete(PageCount))
        db.session.commit()
    for size_name in ("desktop", "phone"):
        anonymous = people(size_name, account=None)
        page = anonymous.page
        anonymous.open("/users")
        expect(page.locator(".empty")).to_have_text("No users yet.")
        expect(page.locator(".pagination")).to_have_count(0)
        expect(page.get_by_role("link", name="Add user")).to_have_count(0)
        # Not signed in: the navigation offers to sign in, and says nothing about an account.
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="Sign in")).to_be_visible()
        expect(nav.get_by_role("button", name="Sign out")).to_have_count(0)
        anonymous.shot("users-empty-list-anonymous")


def test_empty_posts_list_invites_the_first_one(any_visitor):
    page = any_visitor.page
    any_visitor.open("/posts")
    expect(page.locator(".empty")).to_have_text("No posts yet — write the first one.")
    expect(page.locator(".pagination")).to_have_count(0)
    any_visitor.shot("posts-empty-list")
    page.get_by_role("link", name="write the first one").click()
    expect(page).to_have_title("Add post · Users & Posts")
    # The signed-in admin is a user, so the author select is never empty any more (the "add one
    # first" note is for a database with no users, which no signed-in person can see): it offers
    # the admin alone.
    expect(page.locator(".empty")).to_have_count(0)
    expect(page.get_by_label("Author").locator("option")).to_have_text([ADMIN[0]])
    any_visitor.shot("post-new-only-the-admin")
