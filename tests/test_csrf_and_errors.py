"""CSRF on every form (kept on here), and error pages: 400, 404, 405, 413, 500, never a trace."""

import pytest
from sqlalchemy import select

from myapp.models import User

from .conftest import NOT_ADMIN, csrf_token


@pytest.mark.parametrize(
    "token", [None, "", "forged", "IjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAi.Zz.abc"]
)
def test_missing_or_forged_csrf_token_is_a_400_page(client, fetch, token):
    data = {"username": "alice", "email": "alice@example.com"}
    if token is not None:
        data["csrf_token"] = token
    client.get("/users/new")  # a session exists, as it would in a browser
    response = client.post("/users/new", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "did not come from this site" in html and "<nav" in html
    assert fetch(select(User.id).where(NOT_ADMIN)) == []


def test_token_from_another_session_is_refused(client_for, admin_id, fetch):
    first, second = client_for(admin_id), client_for(admin_id)
    token = csrf_token(first, "/users/new")
    second.get("/users/new")
    response = second.post(
        "/users/new", data={"username": "alice", "email": "a@example.com", "csrf_token": token}
    )
    assert response.status_code == 400
    assert fetch(select(User.id).where(NOT_ADMIN)) == []


def test_delete_button_needs_the_token(client, make_user, get_user):
    user_id = make_user("alice")
    response = client.post(f"/users/{user_id}/delete")
    assert response.status_code == 400
    assert get_user(user_id) is not None


@pytest.mark.parametrize(
    "path",
    [
        "/users/999999",
        "/users/abc",
        "/users/0",
        "/users/-1",
        f"/users/{2**63}",
        f"/users/{2**64}",
        "/users/99999999999999999999999999999",
        "/posts/999999",
        "/posts/1.5",
        f"/posts/{2**63}/edit",
        "/users/999/edit",
        "/users/999/delete",
        "/nowhere",
    ],
)
def test_unknown_or_bad_ids_are_a_404_page(client, path):
    response = client.get(path)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Not Found" in html and "<nav" in html and "Traceback" not in html


def test_largest_id_is_a_404_not_a_500(client):
    assert client.get(f"/users/{2**63 - 1}").status_code == 404


@pytest.mark.parametrize(
    ("method", "path"), [("post", "/stats"), ("put", "/users/new"), ("delete", "/posts")]
)
def test_wrong_method_is_a_405_page(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert "Allow" in response.headers
    assert "Method Not Allowed" in response.get_data(as_text=True)


def test_body_over_the_limit_is_a_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/users/new", data={"username": "x" * 2000, "email": "a@example.com"})
    assert response.status_code == 413


def test_unexpected_error_is_a_500_page_without_a_trace(app, client, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production; testing re-raises by default
    monkeypatch.setattr("myapp.users.views.user_page", boom)
    response = client.get("/users")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Something went wrong" in html and "secret internals" not in html and "<nav" in html


def test_secret_key_is_created_once_with_mode_0600(app, tmp_path):
    import stat

    from myapp import create_app

    key_file = tmp_path / "instance" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(app.config["SECRET_KEY"]) >= 64
    assert create_app("testing").config["SECRET_KEY"] == app.config["SECRET_KEY"]  # kept across restarts


@pytest.mark.parametrize("host", ["ex..ample", "a" * 64 + ".example", "bad host", "[::1", "localhost:0", ""])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/healthz"),
        ("get", "/users"),
        ("head", "/posts"),
        ("post", "/users/new"),
        ("post", "/api/users"),
    ],
)
def test_a_malformed_host_is_a_400_never_a_500(app, client, host, method, path):
    """Finding 1: the error page used to need a URL adapter that a malformed Host had broken."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production
    response = getattr(client, method)(path, headers={"Host": host})
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)
