"""A minimal browser for load tests: a cookie, the form's CSRF token, one connection per request."""

import http.client
import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from .conftest import CSRF_INPUT

USER_LOCATION = re.compile(r"^/users/(\d+)$")


class FormClient:
    def __init__(self, address, timeout=15):
        self.host, self.port = address
        self.timeout = timeout
        self.cookies = {}
        self.token = None
        self.signed_in = False

    def request(self, method, path, form=None):
        """(status, headers, body); connection errors propagate (a killed worker's request)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, response.headers, data
        finally:
            conn.close()

    def get(self, path):
        return self.request("GET", path)

    def sign_in(self, username, password):
        """Sign in through the form, as a person does; the session cookie is kept from here on."""
        status, _headers, html = self.get("/login")
        assert status == 200, status
        form = {"username": username, "password": password, "csrf_token": CSRF_INPUT.search(html).group(1)}
        status, headers, _body = self.request("POST", "/login", form)
        assert status == 303, (status, headers)
        self.token = None  # a new session has a new CSRF token
        self.signed_in = True
        return self

    def add_user(self, username, email):
        """POST the add-user form; the new id when the app answered 303 to /users/<id>, else None."""
        if self.token is None:
            status, _headers, html = self.get("/users/new")
            assert status == 200, status
            self.token = CSRF_INPUT.search(html).group(1)
        status, headers, _body = self.request(
            "POST", "/users/new", {"username": username, "email": email, "csrf_token": self.token}
        )
        match = USER_LOCATION.match(headers.get("Location", ""))
        return status, int(match.group(1)) if status == 303 and match else None
