"""/api/users: every operation's happy path and its errors, as a JSON client sees them."""

import pytest
from sqlalchemy import func, select

from myapp.models import Post, User

from .conftest import ADMIN, NOT_ADMIN


def error_of(response, status, code):
    """The error body of a JSON error response, after checking its status, type and shape."""
    assert response.status_code == status
    assert response.content_type == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    assert isinstance(error["fields"], dict)
    return error


def test_create_answers_201_with_the_user_and_its_location(client, find_user):
    response = client.post("/api/users", json={"username": "  alice ", "email": "alice@example.com"})
    assert response.status_code == 201
    assert response.content_type == "application/json"
    user = find_user("alice")
    assert response.headers["Location"] == f"/api/users/{user.id}"
    body = response.get_json()
    assert body["id"] == user.id and body["username"] == "alice" and body["email"] == "alice@example.com"
    assert body["post_count"] == 0 and body["version"] == 1
    assert body["created_at"].endswith("+00:00")
    assert client.get(response.headers["Location"]).get_json() == body


def test_list_pages_searches_and_sorts(client, make_user):
    for name in ("carol", "alice", "bob"):
        make_user(name, posts=2 if name == "bob" else 0)
    body = client.get("/api/users?per_page=2").get_json()
    assert [u["username"] for u in body["items"]] == ["alice", "bob"]
    # Four users: the three made here and the signed-in admin, "root".
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 2, 4, 2)
    assert set(body["items"][0]) == {"id", "username", "email", "post_count", "created_at"}
    assert [u["username"] for u in client.get("/api/users?page=2&per_page=2").get_json()["items"]] == [
        "carol",
        ADMIN,
    ]
    assert [u["username"] for u in client.get("/api/users?q=ARO").get_json()["items"]] == ["carol"]
    # One or two characters: the start of a name (or email) only.
    assert [u["username"] for u in client.get("/api/users?q=Ca").get_json()["items"]] == ["carol"]
    assert client.get("/api/users?q=ar").get_json()["items"] == []
    by_posts = client.get("/api/users?sort=-posts").get_json()["items"]
    assert by_posts[0]["username"] == "bob" and by_posts[0]["post_count"] == 2


@pytest.mark.parametrize("path", ["/api/users", "/users", "/api/posts", "/posts", "/users.csv", "/posts.csv"])
def test_search_ignores_control_characters(client, make_user, path):
    """PostgreSQL refuses NUL in a string: a q carrying one must not reach it (it was a 500)."""
    make_user("alice")
    response = client.get(f"{path}?q=al%00i%07ce")
    assert response.status_code == 200
    if path.startswith("/api/users"):
        assert [u["username"] for u in response.get_json()["items"]] == ["alice"]


def test_list_past_the_end_is_an_empty_page(client, make_user):
    make_user()
    body = client.get("/api/users?page=9").get_json()
    assert body["items"] == [] and body["page"] == 9 and body["total"] == 2  # and the admin


def test_get_one_user(client, make_user):
    user_id = make_user("alice", posts=3)
    response = client.get(f"/api/users/{user_id}")
    assert response.status_code == 200 and response.content_type == "application/json"
    assert response.get_json()["post_count"] == 3


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
@pytest.mark.parametrize("user_id", ["999", "0", "01", "abc", "-1", str(2**31), str(2**63), str(2**64)])
def test_unknown_or_malformed_id_is_404_json(client, method, user_id):
    """Ids past 2^63-1 too: no id column can hold them, and the drivers refuse to bind them."""
    error_of(getattr(client, method)(f"/api/users/{user_id}", json={}), 404, "not_found")


@pytest.mark.parametrize("path", [f"/users/{2**31}", f"/users/{2**63}", f"/posts/{2**63}/edit", "/users/0"])
def test_html_pages_with_impossible_ids_are_404_pages(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.content_type.startswith("text/html")


def test_filtering_posts_by_an_impossible_author_is_an_unfiltered_list(client):
    assert client.get(f"/api/posts?user={2**63}").status_code == 200
    assert client.get(f"/posts?user={2**63}").status_code == 200


def test_patch_changes_only_the_fields_sent(client, make_user, get_user):
    user_id = make_user("alice")
    response = client.patch(f"/api/users/{user_id}", json={"email": "new@example.com"})
    assert response.status_code == 200
    assert response.get_json()["email"] == "new@example.com" and response.get_json()["version"] == 2
    user = get_user(user_id)
    assert (user.username, user.email, user.version) == ("alice", "new@example.com", 2)


def test_patch_with_the_current_version_saves(client, make_user, get_user):
    user_id = make_user("alice")
    response = client.patch(f"/api/users/{user_id}", json={"username": "alicia", "version": 1})
    assert response.status_code == 200 and get_user(user_id).username == "alicia"


def test_patch_with_a_stale_version_is_409_and_changes_nothing(client, make_user, get_user):
    user_id = make_user("alice")
    client.patch(f"/api/users/{user_id}", json={"email": "first@example.com"})
    response = client.patch(f"/api/users/{user_id}", json={"email": "second@example.com", "version": 1})
    error = error_of(response, 409, "stale_version")
    assert error["fields"] == {"version": "The current version is 2."}
    assert get_user(user_id).email == "first@example.com"


def test_user_may_keep_their_own_name_in_another_case(client, make_user, get_user):
    user_id = make_user("alice")
    assert client.patch(f"/api/users/{user_id}", json={"username": "ALICE"}).status_code == 200
    assert get_user(user_id).username == "ALICE"


def test_delete_answers_204_and_removes_the_user_and_posts(client, make_user, fetch):
    user_id = make_user("alice", posts=2)
    response = client.delete(f"/api/users/{user_id}")
    assert response.status_code == 204 and response.data == b""
    assert "Content-Type" not in response.headers
    assert fetch(select(func.count()).select_from(User).where(NOT_ADMIN))[0][0] == 0
    assert fetch(select(func.count()).select_from(Post))[0][0] == 0
    error_of(client.delete(f"/api/users/{user_id}"), 404, "not_found")


@pytest.mark.parametrize(
    ("taken", "field"),
    [
        ({"username": "ALICE", "email": "other@example.com"}, "username"),
        ({"username": "bob", "email": "A@example.com"}, "email"),
    ],
)
def test_taken_username_or_email_is_409(client, make_user, taken, field):
    make_user("alice", "a@example.com")
    error = error_of(client.post("/api/users", json=taken), 409, "taken")
    assert list(error["fields"]) == [field]


def test_taken_on_patch_is_409(client, make_user):
    make_user("alice")
    bob = make_user("bob")
    error = error_of(client.patch(f"/api/users/{bob}", json={"username": "Alice"}), 409, "taken")
    assert error["fields"] == {"username": "That username is taken."}


def test_unique_index_catches_what_the_check_missed(client, make_user, monkeypatch, fetch):
    """A racing request took the name after our check: the database refuses, the client gets 409."""
    make_user("alice")
    monkeypatch.setattr("myapp.api.users.username_taken", lambda *args: False)
    error = error_of(
        client.post("/api/users", json={"username": "alice", "email": "x@example.com"}), 409, "taken"
    )
    assert error["fields"] == {"username": "That username is taken."}
    assert fetch(select(func.count()).select_from(User).where(NOT_ADMIN))[0][0] == 1


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"email": "a@example.com"}, {"username": "This field is required."}),
        ({"username": 42, "email": "a@example.com"}, {"username": "Must be text."}),
        ({"username": "al", "email": "a@example.com"}, {"username": "Must be 3 to 80 characters long."}),
        (
            {"username": "al ice", "email": "a@example.com"},
            {"username": "Use only letters A–Z, digits, and . _ -"},
        ),
        ({"username": "alice", "email": None}, {"email": "This field is required."}),
        ({"username": "alice", "email": "a@example.com", "admin": True}, {"admin": "Unknown field."}),
        (
            {"username": "ali\x00ce", "email": "a@example.com"},
            {"username": "Control characters are not allowed."},
        ),
    ],
)
def test_invalid_fields_are_422_with_a_message_per_field(client, fetch, body, fields):
    error = error_of(client.post("/api/users", json=body), 422, "validation_failed")
    assert error["fields"] == fields
    assert fetch(select(func.count()).select_from(User).where(NOT_ADMIN))[0][0] == 0


def test_bad_email_is_422(client):
    error = error_of(
        client.post("/api/users", json={"username": "alice", "email": "nope"}), 422, "validation_failed"
    )
    assert list(error["fields"]) == ["email"]


def test_bad_version_is_422(client, make_user):
    user_id = make_user()
    error = error_of(client.patch(f"/api/users/{user_id}", json={"version": "1"}), 422, "validation_failed")
    assert list(error["fields"]) == ["version"]
