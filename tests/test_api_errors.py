"""Errors on every /api path are JSON {"error": {"code", "message", "fields"}}, never HTML."""

import io

import pytest
from sqlalchemy import func, select, text
from werkzeug.test import EnvironBuilder, run_wsgi_app

from myapp.api import bodies
from myapp.extensions import db
from myapp.models import Post, User

from .conftest import ADMIN, NOT_ADMIN, add_account, new_token
from .test_api_users import error_of

WRITES = [
    ("post", "/api/users"),
    ("patch", "/api/users/1"),
    ("post", "/api/posts"),
    ("patch", "/api/posts/1"),
]


@pytest.fixture
def alice(make_user, make_post):
    user_id = make_user("alice")
    make_post(user_id)
    return user_id


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize("body", ['{"username": ', "{'single': 'quotes'}", "", "[1, 2,]"])
def test_malformed_json_is_400(client, alice, method, path, body):
    response = getattr(client, method)(path, data=body, content_type="application/json")
    error_of(response, 400, "malformed_json")


def test_json_nested_deeper_than_the_parser_goes_is_400_not_500(client):
    body = "[" * 100_000 + "]" * 100_000
    error_of(client.post("/api/users", data=body, content_type="application/json"), 400, "malformed_json")


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize(
    "content_type",
    [None, "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"],
)
def test_anything_but_json_is_415(client, fetch, alice, method, path, content_type):
    body = "username=mallory&email=m%40example.com"
    kwargs = {"content_type": content_type} if content_type else {}
    response = getattr(client, method)(path, data=body, **kwargs)
    error_of(response, 415, "unsupported_media_type")
    assert fetch(select(User.username).where(NOT_ADMIN)) == [("alice",)]


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize("body", ["[]", '["username", "x"]', '"text"', "3", "null"])
def test_json_that_is_not_an_object_is_422(client, alice, method, path, body):
    response = getattr(client, method)(path, data=body, content_type="application/json")
    error = error_of(response, 422, "validation_failed")
    assert error["message"] == "The body must be a JSON object."


@pytest.mark.parametrize(
    "path", ["/api", "/api/", "/api/nope", "/api/users/1/posts", "/api/users/-1", "/api/posts/x"]
)
def test_unknown_api_paths_are_404_json(client, path):
    error_of(client.get(path), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("put", "/api/users", {"GET", "POST"}),
        ("delete", "/api/posts", {"GET", "POST"}),
        ("post", "/api/users/1", {"GET", "PATCH", "DELETE"}),
        ("put", "/api/posts/1", {"GET", "PATCH", "DELETE"}),
        ("post", "/api/openapi.json", {"GET"}),
    ],
)
def test_wrong_method_is_405_json_with_allow(client, method, path, allowed):
    response = getattr(client, method)(path, json={})
    error_of(response, 405, "method_not_allowed")
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_body_over_the_limit_is_413(app, client, fetch):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    body = {"username": "alice", "email": "a@example.com", "pad": "x" * 2000}
    error_of(client.post("/api/users", json=body), 413, "request_entity_too_large")
    assert fetch(select(func.count()).select_from(User).where(NOT_ADMIN))[0][0] == 0


def test_default_limit_is_one_mebibyte(app, client):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    body = '{"title": "' + "x" * (1024 * 1024) + '"}'
    error_of(
        client.post("/api/posts", data=body, content_type="application/json"), 413, "request_entity_too_large"
    )


def test_lone_surrogates_are_422_not_500(client, alice):
    body = '{"title": "\\ud800", "user_id": ' + str(alice) + "}"
    error = error_of(
        client.post("/api/posts", data=body, content_type="application/json"), 422, "validation_failed"
    )
    assert error["fields"] == {"title": "Must be valid Unicode text."}


def test_author_deleted_after_the_check_is_422(client, monkeypatch, fetch):
    """The foreign key, not only the check, keeps a post from pointing at nobody."""
    monkeypatch.setattr("myapp.api.bodies.user_exists", lambda _user_id: True)
    error = error_of(
        client.post("/api/posts", json={"title": "Hi", "user_id": 4242}), 422, "validation_failed"
    )
    assert error["fields"] == {"user_id": "No user has this id."}
    assert fetch(select(func.count()).select_from(Post))[0][0] == 0


def test_api_needs_no_csrf_token(app, client):
    """CSRF stays on for the app (forms refuse tokenless posts), but the JSON API is exempt."""
    assert app.config.get("WTF_CSRF_ENABLED", True)
    assert client.post("/users/new", data={"username": "alice", "email": "a@example.com"}).status_code == 400
    assert client.post("/api/users", json={"username": "alice", "email": "a@example.com"}).status_code == 201


def test_pages_outside_the_api_keep_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.content_type.startswith("text/html")


@pytest.mark.parametrize(
    ("module", "table", "body"),
    [("users", "users", {"email": "new@example.com"}), ("posts", "posts", {"title": "New"})],
)
def test_a_change_between_our_read_and_our_write_is_409(client, alice, monkeypatch, module, table, body):
    """Another transaction bumps the version after the row was read: the UPDATE's version check decides."""

    def clean_then_someone_else_saves(*args, **kwargs):
        db.session.execute(text(f"UPDATE {table} SET version = version + 1"))
        return bodies.clean(*args, **kwargs)

    monkeypatch.setattr(f"myapp.api.{module}.clean", clean_then_someone_else_saves)
    error = error_of(client.patch(f"/api/{module}/1", json=body), 409, "stale_version")
    assert error["fields"] == {}
    assert client.get(f"/api/{module}/1").get_json()["version"] == 1  # rolled back


@pytest.mark.parametrize(("size", "status"), [(100, 201), (2 * 1024 * 1024, 413)])
def test_a_chunked_api_body_over_the_limit_is_413_not_malformed(app, fetch, size, status):
    """A chunked body has no Content-Length: gunicorn passes it on as a stream (input_terminated)."""
    body = b'{"username": "alice", "email": "a@example.com", "pad": "' + b"x" * size + b'"}'
    if status == 201:
        body = b'{"username": "alice", "email": "a@example.com"}' + b" " * size
    environ = EnvironBuilder(
        "/api/users",
        method="POST",
        input_stream=io.BytesIO(body),
        headers={
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
            "Authorization": f"Bearer {new_token(app, add_account(app, ADMIN, role='admin'))}",
        },
    ).get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    chunks, status_line, _headers = run_wsgi_app(app, environ)
    answer = b"".join(chunks)
    assert status_line.startswith(str(status)), answer
    if status == 413:
        assert b'"request_entity_too_large"' in answer
        assert fetch(select(func.count()).select_from(User).where(NOT_ADMIN))[0][0] == 0
