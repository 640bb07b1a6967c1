"""A person manages users in Chromium: add, find, open, edit, delete, get it wrong, collide.

Only admins manage users: the person is the admin, signed in through the form, and the admin's own
row ("root") is in the users list from the start."""

import re

from playwright.sync_api import expect

from .conftest import ADMIN, BROWSER_TEST
from .visitor import DANGER_RED, ERROR_RED_BG, SCREENSHOTS, SUCCESS_GREEN_BG, sign_in_with_form, submit

pytestmark = BROWSER_TEST


def usernames(page):
    return page.locator("table.list tbody tr td:first-child").all_inner_texts()


def test_add_find_open_edit_and_delete_a_user(visitor):
    page = visitor.page
    visitor.open("/")
    # The admin is the only user yet.
    expect(page.locator(".summary")).to_have_text("1 user · showing 1–1")
    assert usernames(page) == [ADMIN[0]]
    visitor.shot("users-only-the-admin")

    page.get_by_role("link", name="Add user", exact=True).click()
    expect(page).to_have_title("Add user · Users & Posts")
    visitor.shot("user-new")
    page.get_by_label("Username").fill("grace.hopper")
    page.get_by_label("Email").fill("grace@example.com")
    assert submit(page, page.get_by_role("button", name="Add user")) == 303

    expect(page).to_have_url(re.compile(r"/users/\d+$"))
    flash = page.locator(".flash")
    expect(flash).to_have_text("User grace.hopper was added.")
    expect(flash).to_have_class(re.compile(r"\bflash-success\b"))
    expect(flash).to_have_css("background-color", SUCCESS_GREEN_BG)
    expect(page.get_by_role("heading", level=1)).to_have_text("grace.hopper")
    visitor.shot("user-show-new")

    # Back to the list through the navigation, which marks where the person is.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users", exact=True).click()
    expect(page).to_have_title("Users · Users & Posts")
    expect(page.get_by_role("link", name="Users", exact=True)).to_have_attribute("aria-current", "page")
    row = page.get_by_role("row").filter(has_text="grace.hopper")
    expect(row).to_contain_text("grace@example.com")
    expect(page.locator(".flash")).to_have_count(0)  # a message is shown once
    visitor.shot("users-one")

    row.get_by_role("link", name="grace.hopper").click()
    page.get_by_role("link", name="Edit").click()
    expect(page).to_have_title("Edit grace.hopper · Users & Posts")
    expect(page.get_by_label("Username")).to_have_value("grace.hopper")
    page.get_by_label("Email").fill("grace.hopper@navy.example")
    visitor.shot("user-edit")
    assert submit(page, page.get_by_role("button", name="Save")) == 303
    expect(page.locator(".flash")).to_have_text("User grace.hopper was saved.")
    expect(page.locator(".details")).to_contain_text("grace.hopper@navy.example")

    delete_link = page.get_by_role("link", name="Delete")
    expect(delete_link).to_have_css("background-color", DANGER_RED)
    delete_link.click()
    expect(page).to_have_title("Delete grace.hopper · Users & Posts")
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete grace.hopper?")
    expect(page.locator(".warning")).to_contain_text("grace.hopper; they have no posts. It cannot be undone.")
    confirm = page.get_by_role("button", name="Delete user", exact=True)
    expect(confirm).to_have_css("background-color", DANGER_RED)
    visitor.shot("user-delete")
    assert submit(page, confirm) == 303

    expect(page).to_have_url(visitor.base_url + "/users")
    expect(page.locator(".flash")).to_have_text("User grace.hopper was deleted.")
    expect(page.locator(".summary")).to_have_text("1 user · showing 1–1")  # the admin is left
    assert usernames(page) == [ADMIN[0]]
    visitor.shot("users-after-delete")


def test_cancel_on_the_confirmation_page_keeps_the_user(visitor, seed):
    (user_id,) = seed(("keeper", "keeper@example.com", 2))
    page = visitor.page
    visitor.open(f"/users/{user_id}/delete")
    expect(page.locator(".warning")).to_contain_text("and their 2 posts. It cannot be undone.")
    expect(page.get_by_role("button", name="Delete user and 2 posts")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(f"{visitor.base_url}/users/{user_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("keeper")


def test_a_bad_submission_shows_each_message_beside_its_field(any_visitor):
    page = any_visitor.page
    any_visitor.open("/users/new")
    page.get_by_label("Username").fill("no spaces allowed")
    page.get_by_label("Email").fill("not-an-email")
    assert submit(page, page.get_by_role("button", name="Add user")) == 422

    for name, kept, message in [
        ("username", "no spaces allowed", "Use only letters A–Z, digits, and . _ -"),
        ("email", "not-an-email", "An email address must have an @-sign."),
    ]:
        field = page.locator(f"#{name}")
        expect(field).to_have_value(kept)
        expect(field).to_have_attribute("aria-invalid", "true")
        error = page.locator(f"#{name}-error")
        expect(error).to_have_text(message)
        expect(error).to_be_visible()
        # aria-describedby ties the message to the input, so a screen reader reads it with the field.
        assert f"{name}-error" in field.get_attribute("aria-describedby").split()
        # ... and it is beside the field on screen: just below its input, not at the top of the form.
        box, error_box = field.bounding_box(), error.bounding_box()
        assert 0 <= error_box["y"] - (box["y"] + box["height"]) < 40
    # The help text stays described too, so the rule is read along with the error.
    assert page.locator("#username").get_attribute("aria-describedby") == "username-help username-error"
    any_visitor.shot("user-new-errors")

    # Fix one field: its error goes, the other stays, and what was typed is still there.
    page.get_by_label("Username").fill("fixed_name")
    assert submit(page, page.get_by_role("button", name="Add user")) == 422
    expect(page.locator("#username")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#username-error")).to_have_count(0)
    expect(page.locator("#email-error")).to_be_visible()


def test_a_taken_username_is_an_error_on_that_field(visitor, seed):
    seed(("alice", "alice@example.com", 0))
    page = visitor.page
    visitor.open("/add")
    page.get_by_label("Username").fill("ALICE")
    page.get_by_label("Email").fill("another@example.com")
    assert submit(page, page.get_by_role("button", name="Add user")) == 422
    expect(page.locator("#username-error")).to_have_text("That username is taken.")
    expect(page.locator("#email-error")).to_have_count(0)
    expect(page.get_by_label("Email")).to_have_value("another@example.com")


def test_two_tabs_editing_the_same_user_do_not_overwrite_each_other(visitor, seed):
    (user_id,) = seed(("shared", "shared@example.com", 0))
    first, second = visitor.page, visitor.page.context.new_page()
    for tab in (first, second):
        tab.goto(f"{visitor.base_url}/users/{user_id}/edit")

    first.get_by_label("Email").fill("first@example.com")
    assert submit(first, first.get_by_role("button", name="Save")) == 303
    second.get_by_label("Email").fill("second@example.com")
    assert submit(second, second.get_by_role("button", name="Save")) == 409

    # The later tab is told, in the error style, what the other edit saved; its own input is kept.
    conflict = second.get_by_role("alert")
    expect(conflict).to_contain_text("Someone else saved this user while you were editing.")
    expect(conflict).to_contain_text("first@example.com")
    expect(conflict).to_have_class(re.compile(r"\bflash-error\b"))
    expect(conflict).to_have_css("background-color", ERROR_RED_BG)
    expect(second.get_by_label("Email")).to_have_value("second@example.com")
    second.screenshot(path=SCREENSHOTS / "user-edit-conflict-desktop.png", full_page=True)

    # Saving again is a deliberate choice to replace the other edit.
    assert submit(second, second.get_by_role("button", name="Save")) == 303
    expect(second.locator(".details")).to_contain_text("second@example.com")


def test_add_and_delete_a_user_with_javascript_off(browser, base_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        assert sign_in_with_form(page, base_url, *ADMIN) == 303  # the sign-in form needs no script
        page.goto(f"{base_url}/users/new")
        page.get_by_label("Username").fill("no.script")
        page.get_by_label("Email").fill("noscript@example.com")
        page.get_by_role("button", name="Add user").click()
        expect(page.locator(".flash")).to_have_text("User no.script was added.")
        page.get_by_role("link", name="Delete").click()
        page.get_by_role("button", name="Delete user").click()
        expect(page.locator(".flash")).to_have_text("User no.script was deleted.")
        # The admin is left.
        expect(page.locator("table.list tbody tr td:first-child")).to_have_text([ADMIN[0]])
        # Signing out is a form too, so it works without JavaScript.
        page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()
        expect(page).to_have_title("Sign in · Users & Posts")
    finally:
        context.close()
