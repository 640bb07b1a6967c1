"""The original article's two calls, as written: POST /users with JSON, GET /users asking for JSON."""

from sqlalchemy import func, select

from myapp.models import User

from .conftest import ADMIN, NOT_ADMIN, csrf_token
from .test_api_users import error_of

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_post_users_with_json_creates_the_user(client, find_user):
    response = client.post("/users", json={"username": "john", "email": "john@example.com"})
    assert response.status_code == 201 and response.content_type == "application/json"
    assert response.get_json() == {"message": "User created!"}
    assert find_user("john").email == "john@example.com"


def test_post_users_with_json_keeps_the_rules(client, make_user):
    make_user("john")
    error_of(client.post("/users", json={"username": "John", "email": "j2@example.com"}), 409, "taken")
    error = error_of(client.post("/users", json={"username": "x"}), 422, "validation_failed")
    assert set(error["fields"]) == {"username", "email"}
    error_of(client.post("/users", data="{", content_type="application/json"), 400, "malformed_json")


def test_post_users_errors_are_json_too(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 100
    body = {"username": "john", "email": "john@example.com", "pad": "x" * 200}
    error_of(client.post("/users", json=body), 413, "request_entity_too_large")


def test_a_form_post_to_users_creates_nothing(client, fetch):
    """CSRF is off for this route only because it takes nothing but JSON."""
    data = {"username": "mallory", "email": "m@example.com"}
    error_of(client.post("/users", data=data), 415, "unsupported_media_type")
    token = csrf_token(client, "/users/new")  # even with a valid token: this is not a form endpoint
    error_of(client.post("/users", data={**data, "csrf_token": token}), 415, "unsupported_media_type")
    error_of(
        client.post("/users", data='{"username": "mallory"}', content_type="text/plain"),
        415,
        "unsupported_media_type",
    )
    assert fetch(select(func.count()).select_from(User).where(NOT_ADMIN))[0][0] == 0


def test_get_users_asking_for_json_returns_the_page_as_an_array(client, make_user):
    ids = {name: make_user(name) for name in ("carol", "alice", "bob")}
    response = client.get("/users", headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.content_type == "application/json"
    assert "Accept" in response.headers["Vary"]
    assert [u for u in response.get_json() if u["username"] != ADMIN] == [
        {"id": ids[name], "username": name, "email": f"{name}@example.com"}
        for name in ("alice", "bob", "carol")
    ]


def test_get_users_json_takes_the_list_parameters(client, make_user):
    for name in ("carol", "alice", "bob", "bert"):
        make_user(name)
    get = lambda query: client.get(f"/users?{query}", headers={"Accept": "application/json"}).get_json()  # noqa: E731
    assert [u["username"] for u in get("q=b&sort=-username")] == ["bob", "bert"]
    assert [u["username"] for u in get("per_page=2&page=2")] == ["bob", "carol"]
    assert get("page=99") == []


def test_browsers_still_get_the_page(client, make_user):
    make_user("alice")
    for accept in (BROWSER_ACCEPT, "*/*", None):
        headers = {"Accept": accept} if accept else {}
        response = client.get("/users", headers=headers)
        assert response.status_code == 200 and response.content_type.startswith("text/html")
        assert "alice" in response.get_data(as_text=True)
