"""A person at one screen size in Chromium, and the helpers the browser tests share."""

import re
from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Chromium reports an error status of the page itself as a console error; the page still rendered.
STATUS_MESSAGE = re.compile(r"^Failed to load resource: the server responded with a status of (\d{3})")
# Colours from static/style.css that tell a person what kind of thing they are looking at.
DANGER_RED = "rgb(180, 35, 24)"  # --danger: delete buttons
SUCCESS_GREEN_BG = "rgb(231, 246, 236)"  # --ok-bg: a success message
ERROR_RED_BG = "rgb(253, 236, 234)"  # --err-bg: an error message


def submit(page, button):
    """Click a form's submit button; returns the status the server answered the POST with."""
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        button.click()
    page.wait_for_load_state()
    return answer.value.status


def sign_in_with_form(page, base_url, username, password):
    """Sign in through /login as a person does; returns the status the form's POST answered."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(password)
    return submit(page, page.get_by_role("button", name="Sign in"))


class Visitor:
    """A person at one screen size: opens pages, takes their picture, notices console errors."""

    def __init__(self, page, base_url, size_name, viewport):
        self.page = page
        self.viewport = viewport
        self.base_url = base_url
        self.size_name = size_name
        self.console_errors = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console_errors.append(f"page error: {error}"))
        page.on("response", self._response)

    def _console(self, message):
        if message.type == "error":
            self.console_errors.append(message.text)

    def _response(self, response):
        # The page itself may answer 404 on purpose; its stylesheet and icon never should.
        if response.status >= 400 and response.request.resource_type != "document":
            self.console_errors.append(f"{response.status} for {response.url}")

    def open(self, path, status=200):
        response = self.page.goto(self.base_url + path)
        assert response.status == status, f"{path} answered {response.status}, not {status}"
        return response

    def sign_in(self, username, password):
        """Sign in through the form; success is a 303 away from /login."""
        status = sign_in_with_form(self.page, self.base_url, username, password)
        assert status == 303, f"signing in as {username} answered {status}, not 303"

    def sign_out(self):
        """The navigation's Sign out button (a POST form); it leads to the sign-in page."""
        nav = self.page.get_by_role("navigation", name="Main")
        assert submit(self.page, nav.get_by_role("button", name="Sign out")) == 303
        assert self.page.url.startswith(f"{self.base_url}/login")

    def shot(self, name):
        """Save a full-page picture of what the person sees now."""
        self.page.screenshot(path=SCREENSHOTS / f"{name}-{self.size_name}.png", full_page=True)

    def unexpected_console_errors(self):
        """Console errors and failed resources, less Chromium's note that a page answered 4xx/5xx."""
        return [text for text in self.console_errors if not STATUS_MESSAGE.match(text)]

    def page_width(self):
        """How wide the page is laid out; wider than the screen means sideways scrolling."""
        return self.page.evaluate("document.documentElement.scrollWidth")

    def focus_is_visible(self):
        """Whether the focused element shows a focus ring (outline or box-shadow)."""
        return self.page.evaluate(
            """() => {
                const style = getComputedStyle(document.activeElement);
                const outline = style.outlineStyle !== 'none' && style.outlineWidth !== '0px';
                return outline || style.boxShadow !== 'none';
            }"""
        )
