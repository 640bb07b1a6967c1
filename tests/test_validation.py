"""Bad input: 422, a message beside the field, the input kept; duplicates; escaping."""

import pytest
from sqlalchemy import select

from myapp.models import Post, User

from .conftest import NOT_ADMIN

LONG = "x" * 81


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"username": "", "email": "a@example.com"}, "username", "This field is required."),
        ({"username": "ab", "email": "a@example.com"}, "username", "Must be 3 to 80 characters long."),
        ({"username": LONG, "email": "a@example.com"}, "username", "Must be 3 to 80 characters long."),
        ({"username": "has space", "email": "a@example.com"}, "username", "Use only letters"),
        ({"username": "émile", "email": "a@example.com"}, "username", "Use only letters"),
        ({"username": "<b>x</b>", "email": "a@example.com"}, "username", "Use only letters"),
        ({"username": "bell\x07", "email": "a@example.com"}, "username", "Control characters"),
        ({"username": "alice", "email": ""}, "email", "This field is required."),
        ({"username": "alice", "email": "not-an-email"}, "email", "An email address must have an @-sign."),
        ({"username": "alice", "email": "a@b"}, "email", "The part after the @-sign is not valid"),
        ({"username": "alice", "email": "x" * 110 + "@example.com"}, "email", "at most 120 characters"),
        ({"username": "alice", "email": "a\x00@example.com"}, "email", "Control characters"),
        ({"username": "alice", "email": "a@example.com'; DROP TABLE users;--"}, "email", ""),
    ],
)
def test_bad_user_input_is_a_field_error(client, submit, fetch, data, field, message):
    response = submit("/users/new", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert message in html.split(f'id="{field}-error">')[1].split("</p>")[0]
    assert (
        f'aria-describedby="{field}-error"' in html
        or f'aria-describedby="{field}-help {field}-error"' in html
    )
    assert fetch(select(User.id).where(NOT_ADMIN)) == []


def test_input_is_kept_after_an_error(client, submit):
    response = submit("/users/new", {"username": "ok_name", "email": "nope"})
    html = response.get_data(as_text=True)
    assert 'value="ok_name"' in html and 'value="nope"' in html


@pytest.mark.parametrize(
    ("username", "email", "field"),
    [("ALICE", "other@example.com", "username"), ("bob", "Alice@EXAMPLE.com", "email")],
)
def test_taken_username_or_email_ignoring_case(client, submit, make_user, fetch, username, email, field):
    make_user("alice", "alice@example.com")
    response = submit("/users/new", {"username": username, "email": email})
    assert response.status_code == 422
    assert {"username": "That username is taken.", "email": "That email address is already in use."}[
        field
    ] in response.get_data(as_text=True)
    assert len(fetch(select(User.id).where(NOT_ADMIN))) == 1


@pytest.mark.parametrize("field", ["username", "email"])
def test_race_caught_by_the_unique_index_is_a_field_error(
    client, submit, make_user, monkeypatch, fetch, field
):
    """Another request takes the name between our check and our commit: the index refuses it."""
    make_user("alice", "alice@example.com")
    monkeypatch.setattr("myapp.users.forms.username_taken", lambda *a, **k: False)
    monkeypatch.setattr("myapp.users.forms.email_taken", lambda *a, **k: False)
    data = {"username": "Alice", "email": "new@example.com"}
    if field == "email":
        data = {"username": "newname", "email": "ALICE@example.com"}
    response = submit("/users/new", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert len(fetch(select(User.id).where(NOT_ADMIN))) == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"title": "", "body": ""}, "title", "This field is required."),
        ({"title": "   ", "body": ""}, "title", "This field is required."),
        ({"title": "t" * 101, "body": ""}, "title", "at most 100 characters"),
        ({"title": "tab\there", "body": ""}, "title", "Control characters"),
        ({"title": "ok", "body": "b" * 10_001}, "body", "at most 10,000 characters"),
        ({"title": "ok", "body": "nul\x00"}, "body", "Control characters"),
        ({"title": "ok", "body": "esc\x1b[31m"}, "body", "Control characters"),
    ],
)
def test_bad_post_input_is_a_field_error(client, submit, make_user, fetch, data, field, message):
    user_id = make_user("alice")
    response = submit("/posts/new", {**data, "user_id": str(user_id)})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html.split(f'id="{field}-error">')[1].split("</p>")[0]
    assert fetch(select(Post.id)) == []


@pytest.mark.parametrize("user_id", ["", "abc", "-1", "0", str(2**64), "1.5"])
def test_bad_author_is_a_field_error(client, submit, make_user, user_id):
    make_user("alice")
    response = submit("/posts/new", {"title": "ok", "body": "", "user_id": user_id})
    assert response.status_code == 422
    assert "Choose an existing user." in response.get_data(as_text=True)


def test_html_and_unicode_are_shown_escaped(client, submit, make_user):
    user_id = make_user("alice", "alice@example.com")
    script = "<script>alert('x')</script>"
    response = submit(
        "/posts/new", {"title": script, "body": f"{script}\nü 漢字 🙂", "user_id": str(user_id)}
    )
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert script not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "ü 漢字 🙂" in html
    listing = client.get("/posts").get_data(as_text=True)
    assert script not in listing


def test_search_text_is_escaped_in_the_page(client):
    html = client.get("/users?q=<img src=x onerror=alert(1)>").get_data(as_text=True)
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
