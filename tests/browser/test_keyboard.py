"""The whole add-user journey with the keyboard only, with the focus visible at every step.

The person is the admin (only admins add users), signed in beforehand through the form."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import BROWSER_TEST

pytestmark = BROWSER_TEST


def focused(page):
    """What a sighted keyboard user sees focused: (tag, name or text)."""
    return page.evaluate(
        "() => [document.activeElement.tagName.toLowerCase(),"
        " document.activeElement.name || document.activeElement.textContent.trim()]"
    )


def tab_to(visitor, target, limit=15):
    """Press Tab until target (tag, name or text) has the focus; every stop must show it has."""
    stops = []
    for _ in range(limit):
        visitor.page.keyboard.press("Tab")
        stop = focused(visitor.page)
        stops.append(stop)
        assert visitor.focus_is_visible(), f"no visible focus on {stop}"
        if stop == target:
            return stops
    pytest.fail(f"Tab never reached {target}; it went {stops}")


def test_add_a_user_with_the_keyboard_only(visitor):
    page = visitor.page
    visitor.open("/users")

    # The first Tab offers the skip link, shown on screen while it has the focus.
    page.keyboard.press("Tab")
    assert focused(page) == ["a", "Skip to content"]
    expect(page.get_by_role("link", name="Skip to content")).to_be_in_viewport()
    visitor.shot("keyboard-skip-link")

    stops = tab_to(visitor, ["a", "Add user"])
    assert stops[:5] == [
        ["a", "Users & Posts"],
        ["a", "Users"],
        ["a", "Posts"],
        ["a", "Stats"],
        ["a", "Activity"],
    ]
    # Then the account's part of the navigation, the Sign out button too (with a visible focus,
    # checked at every stop by tab_to), before the page's own controls.
    assert stops[5:7] == [["a", "root (admin)"], ["button", "Sign out"]]
    visitor.shot("keyboard-add-user-link")
    page.keyboard.press("Enter")
    expect(page).to_have_title("Add user · Users & Posts")

    # Past the navigation, the form's fields come in reading order.
    tab_to(visitor, ["input", "username"])
    page.keyboard.type("keyboard.kate")
    page.keyboard.press("Tab")
    assert focused(page) == ["input", "email"]
    page.keyboard.type("kate@example")  # not an address yet: the error must be reachable too
    # The admin's fields come next: the role (left at its default, member) and an optional password.
    page.keyboard.press("Tab")
    assert focused(page) == ["select", "role"]
    assert visitor.focus_is_visible(), "no visible focus on the role select"
    expect(page.get_by_label("Role")).to_have_value("member")
    page.keyboard.press("Tab")
    assert focused(page) == ["input", "password"]
    assert visitor.focus_is_visible(), "no visible focus on the password field"
    page.keyboard.press("Tab")
    assert focused(page) == ["button", "Add user"]
    visitor.shot("keyboard-submit-focused")
    page.keyboard.press("Enter")

    expect(page.locator("#email-error")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value("keyboard.kate")
    tab_to(visitor, ["input", "email"])
    page.keyboard.press("End")
    page.keyboard.type(".com")
    page.keyboard.press("Enter")  # Enter in a field submits the form

    expect(page).to_have_url(re.compile(r"/users/\d+$"))
    expect(page.locator(".flash")).to_have_text("User keyboard.kate was added.")
    expect(page.locator(".details")).to_contain_text("kate@example.com")
