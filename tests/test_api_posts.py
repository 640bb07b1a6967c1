"""/api/posts: every operation's happy path and its errors."""

import pytest
from sqlalchemy import func, select

from myapp.converters import MAX_ID
from myapp.models import Post, User

from .conftest import NOT_ADMIN
from .test_api_users import error_of

BAD_ID = f"Must be an id: an integer from 1 to {MAX_ID}."


def test_create_answers_201_with_the_post_and_its_location(client, make_user, fetch):
    user_id = make_user("alice")
    response = client.post(
        "/api/posts", json={"title": " Hello ", "body": "line\r\nnext", "user_id": user_id}
    )
    assert response.status_code == 201 and response.content_type == "application/json"
    body = response.get_json()
    assert response.headers["Location"] == f"/api/posts/{body['id']}"
    assert (body["title"], body["body"], body["user_id"], body["author"]) == (
        "Hello",
        "line\nnext",
        user_id,
        "alice",
    )
    assert fetch(select(Post.title, Post.user_id)) == [("Hello", user_id)]
    assert fetch(select(User.post_count).where(NOT_ADMIN))[0][0] == 1
    assert client.get(response.headers["Location"]).get_json() == body


def test_body_is_optional(client, make_user):
    response = client.post("/api/posts", json={"title": "Hi", "user_id": make_user()})
    assert response.status_code == 201 and response.get_json()["body"] == ""


def test_list_filters_by_author_and_title_and_sorts(client, make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    make_post(alice, "apple pie")
    make_post(bob, "banana bread")
    make_post(bob, "apple tart")
    body = client.get(f"/api/posts?user={bob}&sort=title").get_json()
    assert [p["title"] for p in body["items"]] == ["apple tart", "banana bread"]
    assert body["total"] == 2 and {p["author"] for p in body["items"]} == {"bob"}
    assert set(body["items"][0]) == {"id", "title", "user_id", "author", "created_at"}
    assert [p["title"] for p in client.get("/api/posts?q=APPLE&sort=-author").get_json()["items"]] == [
        "apple tart",
        "apple pie",
    ]
    page = client.get("/api/posts?per_page=1&page=3").get_json()
    assert (len(page["items"]), page["pages"], page["total"]) == (1, 3, 3)


def test_patch_moves_a_post_to_another_author(client, make_user, make_post, fetch):
    alice, bob = make_user("alice"), make_user("bob")
    post_id = make_post(alice)
    response = client.patch(f"/api/posts/{post_id}", json={"user_id": bob, "version": 1})
    assert response.status_code == 200
    assert response.get_json()["author"] == "bob" and response.get_json()["version"] == 2
    assert dict(fetch(select(User.username, User.post_count).where(NOT_ADMIN))) == {"alice": 0, "bob": 1}


def test_patch_with_a_stale_version_is_409(client, make_user, make_post, fetch):
    post_id = make_post(make_user(), "first")
    client.patch(f"/api/posts/{post_id}", json={"title": "second"})
    error_of(
        client.patch(f"/api/posts/{post_id}", json={"title": "third", "version": 1}), 409, "stale_version"
    )
    assert fetch(select(Post.title)) == [("second",)]


def test_delete_answers_204(client, make_user, make_post, fetch):
    user_id = make_user()
    post_id = make_post(user_id)
    response = client.delete(f"/api/posts/{post_id}")
    assert response.status_code == 204 and response.data == b""
    assert fetch(select(func.count()).select_from(Post))[0][0] == 0
    assert fetch(select(User.post_count).where(NOT_ADMIN))[0][0] == 0


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_post_is_404(client, method):
    error_of(getattr(client, method)("/api/posts/12345", json={}), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"user_id": 1}, {"title": "This field is required."}),
        ({"title": "   ", "user_id": 1}, {"title": "This field is required."}),
        ({"title": "x" * 101, "user_id": 1}, {"title": "Must be at most 100 characters long."}),
        ({"title": "Hi", "body": "a\x07b", "user_id": 1}, {"body": "Control characters are not allowed."}),
        ({"title": "Hi", "user_id": 999}, {"user_id": "No user has this id."}),
        ({"title": "Hi", "user_id": "1"}, {"user_id": BAD_ID}),
        ({"title": "Hi", "user_id": True}, {"user_id": BAD_ID}),
        ({"title": "Hi", "user_id": 2**64}, {"user_id": BAD_ID}),
        ({"title": "Hi", "user_id": 2**63}, {"user_id": BAD_ID}),
        ({"title": "Hi", "user_id": 2**31}, {"user_id": "No user has this id."}),
        ({"title": "Hi", "user_id": None}, {"user_id": BAD_ID}),
    ],
)
def test_invalid_post_is_422(client, make_user, fetch, body, fields):
    make_user()
    error = error_of(client.post("/api/posts", json=body), 422, "validation_failed")
    assert error["fields"] == fields
    assert fetch(select(func.count()).select_from(Post))[0][0] == 0


def test_a_post_without_an_author_is_the_token_holders(client, admin_id):
    response = client.post("/api/posts", json={"title": "Mine"})
    assert response.status_code == 201
    assert response.get_json()["user_id"] == admin_id


def test_patch_to_a_missing_author_is_422(client, make_user, make_post):
    post_id = make_post(make_user())
    error = error_of(client.patch(f"/api/posts/{post_id}", json={"user_id": 777}), 422, "validation_failed")
    assert error["fields"] == {"user_id": "No user has this id."}
