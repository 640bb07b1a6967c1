"""Accounts in Chromium (SPEC §11): an admin adds a member who signs in and writes, a wrong password
on a phone, and an API token that is shown once and then revoked."""

import re

from playwright.sync_api import expect

from .conftest import ADMIN, BROWSER_TEST
from .visitor import SCREENSHOTS, submit

pytestmark = BROWSER_TEST

MEMBER = ("bea.member", "bea's own long passphrase")
WRONG_PAIR = "That username or email and password do not match an account."
TOKEN = re.compile(r"^upt_[A-Za-z0-9_-]{43}$")


def test_admin_adds_a_member_who_signs_in_and_writes_only_their_own_posts(any_visitor, seed):
    page = any_visitor.page
    nav = page.get_by_role("navigation", name="Main")
    seed(("someone.else", "else@example.com", 1))

    # (a) The admin adds a member with a password, then signs out with the navigation's button.
    expect(nav.get_by_role("link", name=f"{ADMIN[0]} (admin)")).to_be_visible()
    any_visitor.shot("nav-signed-in-admin")
    any_visitor.open("/users")
    page.get_by_role("link", name="Add user", exact=True).click()
    page.get_by_label("Username").fill(MEMBER[0])
    page.get_by_label("Email").fill("bea@example.com")
    page.get_by_label("Role").select_option("member")
    page.get_by_label("Password").fill(MEMBER[1])
    any_visitor.shot("user-new-member")
    assert submit(page, page.get_by_role("button", name="Add user")) == 303
    expect(page.locator(".flash")).to_have_text(f"User {MEMBER[0]} was added.")
    expect(page.locator(".details dt:text-is('Role') + dd")).to_have_text("Member")
    any_visitor.sign_out()
    expect(page).to_have_title("Sign in · Users & Posts")
    expect(nav.get_by_role("button", name="Sign out")).to_have_count(0)
    any_visitor.open("/users", status=200)  # sent to sign in again: signed out for real
    expect(page).to_have_url(re.compile(r"/login\?next=/users$"))

    # (b) The member signs in (the form sends them back to where they were going) and writes.
    page.get_by_label("Username or email").fill("BEA@example.com")  # the email works too, any case
    page.get_by_label("Password").fill(MEMBER[1])
    assert submit(page, page.get_by_role("button", name="Sign in")) == 303
    expect(page).to_have_url(f"{any_visitor.base_url}/users")
    expect(nav.get_by_role("link", name=MEMBER[0], exact=True)).to_be_visible()  # no "(admin)"
    expect(page.get_by_role("link", name="Add user")).to_have_count(0)  # only admins add users
    any_visitor.shot("nav-signed-in-member")

    any_visitor.open("/posts")
    page.get_by_role("link", name="Add post").click()
    expect(page).to_have_title("Add post · Users & Posts")
    # A member writes as themselves: no author to choose, not even a hidden one.
    expect(page.get_by_label("Author")).to_have_count(0)
    expect(page.locator("[name=user_id]")).to_have_count(0)
    page.get_by_label("Title").fill("Bea's first post")
    page.get_by_label("Body").fill("Written by a member.")
    any_visitor.shot("post-new-member")
    assert submit(page, page.get_by_role("button", name="Add post")) == 303
    expect(page.locator(".flash")).to_have_text("Post was added.")
    expect(page.locator(".meta")).to_contain_text(f"By {MEMBER[0]}")
    head = page.locator(".page-head")
    expect(head.get_by_role("link", name="Edit")).to_be_visible()  # their own post
    expect(head.get_by_role("link", name="Delete")).to_be_visible()
    own_post = page.url

    # Someone else's post: no Edit or Delete for the member, and the address is refused too.
    any_visitor.open("/posts")
    page.get_by_role("link", name="Post 1 by someone.else").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Post 1 by someone.else")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("link", name="Delete")).to_have_count(0)
    any_visitor.shot("post-of-another-member")
    any_visitor.open(page.url.removeprefix(any_visitor.base_url) + "/edit", status=403)

    # Back on their own post, the member edits it.
    page.goto(own_post)
    page.locator(".page-head").get_by_role("link", name="Edit").click()
    page.get_by_label("Title").fill("Bea's first post, revised")
    assert submit(page, page.get_by_role("button", name="Save")) == 303
    expect(page.get_by_role("heading", level=1)).to_have_text("Bea's first post, revised")


def test_a_wrong_password_on_a_phone(people):
    phone = people("phone", account=None)
    page = phone.page
    phone.open("/login")
    page.get_by_label("Username or email").fill(ADMIN[0])
    page.get_by_label("Password").fill("not the right passphrase")
    assert submit(page, page.get_by_role("button", name="Sign in")) == 401

    # One message for the form, which does not say which of the two was wrong.
    expect(page.get_by_role("alert")).to_have_text(WRONG_PAIR)
    expect(page.locator("[aria-invalid=true]")).to_have_count(0)
    expect(page.locator("#username-error, #password-error")).to_have_count(0)
    expect(page.get_by_label("Username or email")).to_have_value(ADMIN[0])  # kept
    expect(page.get_by_label("Password")).to_have_value("")  # never sent back
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("button", name="Sign out")).to_have_count(0)
    assert phone.page_width() <= phone.viewport["width"], f"the page is {phone.page_width()} px wide"
    phone.shot("login-wrong-password")

    # An account that does not exist gets the very same answer.
    page.get_by_label("Username or email").fill("nobody.here")
    page.get_by_label("Password").fill("not the right passphrase")
    assert submit(page, page.get_by_role("button", name="Sign in")) == 401
    expect(page.get_by_role("alert")).to_have_text(WRONG_PAIR)

    # And the right pair still works.
    page.get_by_label("Username or email").fill(ADMIN[0])
    page.get_by_label("Password").fill(ADMIN[1])
    assert submit(page, page.get_by_role("button", name="Sign in")) == 303
    expect(nav.get_by_role("button", name="Sign out")).to_be_visible()


def test_an_api_token_is_shown_once_and_can_be_revoked(any_visitor):
    page = any_visitor.page
    api_users = f"{any_visitor.base_url}/api/users"
    any_visitor.open("/account")
    page.get_by_role("link", name="API tokens").click()
    expect(page).to_have_title("API tokens · Users & Posts")
    expect(page.locator(".empty")).to_have_text("You have no tokens yet.")

    page.get_by_label("Name").fill("backup script")
    assert submit(page, page.get_by_role("button", name="Create token")) == 201
    token = page.locator("#new-token").inner_text()
    assert TOKEN.match(token), token
    expect(page.get_by_label("Name")).to_have_value("")  # the form is ready for another one
    assert any_visitor.page_width() <= any_visitor.viewport["width"]
    any_visitor.shot("tokens-new-token-shown")
    # The token works: a program reads the API with it (no cookie of its own).
    answer = page.context.request.get(api_users, headers={"Authorization": f"Bearer {token}"})
    assert answer.status == 200

    # The next visit does not show it again, anywhere on the page.
    any_visitor.open("/account/tokens")
    expect(page.locator("#new-token")).to_have_count(0)
    assert token not in page.content()
    row = page.get_by_role("row").filter(has_text="backup script")
    expect(row.locator("td[data-label='Last used']")).not_to_have_text("never")  # used just now
    any_visitor.shot("tokens-list")

    assert submit(page, row.get_by_role("button", name="Revoke")) == 303
    expect(page.locator(".flash")).to_have_text("Token “backup script” was revoked.")
    row = page.get_by_role("row").filter(has_text="backup script")
    expect(row.locator("td[data-label='State']")).to_have_text("revoked")
    expect(row.get_by_role("button", name="Revoke")).to_have_count(0)
    any_visitor.shot("tokens-revoked")
    answer = page.context.request.get(api_users, headers={"Authorization": f"Bearer {token}"})
    assert answer.status == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_a_long_name_in_the_navigation_fits_a_phone(people, add_account):
    """The signed-in name is in the navigation: the longest username must not push a phone's page
    sideways."""
    long_name = "a" * 40 + "." + "b" * 39  # 80 characters, the most the rules allow, no break
    add_account(long_name, "a long enough passphrase")
    phone = people("phone", account=(long_name, "a long enough passphrase"))
    phone.open("/users")
    nav = phone.page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name=long_name)).to_be_visible()
    expect(nav.get_by_role("button", name="Sign out")).to_be_visible()
    phone.page.screenshot(path=SCREENSHOTS / "nav-long-name-phone.png", full_page=True)
    assert phone.page_width() <= phone.viewport["width"], f"the page is {phone.page_width()} px wide"
