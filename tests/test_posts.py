"""Posts pages: list with authors, add, show, edit, delete."""

import pytest
from sqlalchemy import select

from myapp.models import Post, User

from .conftest import NOT_ADMIN, flashed


def test_add_post_for_a_user(client, submit, make_user, fetch):
    user_id = make_user("alice")
    response = submit(
        "/posts/new",
        {"title": " Hello ", "body": "Line one\r\nLine two\twith tab", "user_id": str(user_id)},
        form_url=f"/posts/new?user={user_id}",
    )
    assert response.status_code == 303
    [(post_id, title, body, author)] = fetch(select(Post.id, Post.title, Post.body, Post.user_id))
    assert response.headers["Location"] == f"/posts/{post_id}"
    assert (title, body, author) == ("Hello", "Line one\nLine two\twith tab", user_id)
    assert flashed(client) == ["Post was added."]
    assert fetch(select(User.post_count).where(User.id == user_id)) == [(1,)]


def test_new_post_form_preselects_the_user(client, make_user):
    make_user("alice")
    bob = make_user("bob")
    html = client.get(f"/posts/new?user={bob}").get_data(as_text=True)
    assert f'<option selected value="{bob}">bob</option>' in html


def test_new_post_from_a_user_page_cancels_back_to_it(client, make_user):
    user_id = make_user("alice")
    html = client.get(f"/posts/new?user={user_id}").get_data(as_text=True)
    assert f'action="/posts/new?user={user_id}"' in html  # kept when the form comes back with errors
    assert f'<a href="/users/{user_id}">Cancel</a>' in html
    assert '<a href="/posts">Cancel</a>' in client.get("/posts/new").get_data(as_text=True)
    assert '<a href="/posts">Cancel</a>' in client.get("/posts/new?user=999").get_data(as_text=True)


def test_new_post_form_asks_for_a_typed_author_when_there_are_too_many_users(app, client, make_user):
    app.config["AUTHOR_SELECT_LIMIT"] = 2
    for _ in range(3):
        make_user()
    html = client.get("/posts/new").get_data(as_text=True)
    assert 'type="text" id="user_id" name="user_id" value=""' in html and "<option" not in html


def test_post_for_unknown_user_is_a_field_error(client, submit, make_user, fetch):
    make_user("alice")
    response = submit("/posts/new", {"title": "Hi", "body": "", "user_id": "999999"})
    assert response.status_code == 422
    assert "Choose an existing user." in response.get_data(as_text=True)
    assert fetch(select(Post.id)) == []


def test_posts_list_shows_authors_and_filters(client, make_user, make_post):
    alice, bob = make_user("alice"), make_user("bob")
    make_post(alice, "Alice writes")
    make_post(bob, "Bob writes")
    html = client.get("/posts").get_data(as_text=True)
    assert "Alice writes" in html and "Bob writes" in html and ">alice</a>" in html
    html = client.get(f"/posts?user={bob}").get_data(as_text=True)
    assert "Bob writes" in html and "Alice writes" not in html
    html = client.get("/posts?q=ALICE").get_data(as_text=True)
    assert "Alice writes" in html and "Bob writes" not in html


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("title", ["apple", "Banana", "cherry"]),
        ("-title", ["cherry", "Banana", "apple"]),
        ("author", ["cherry", "apple", "Banana"]),
        ("-created", ["cherry", "Banana", "apple"]),
        ("created", ["apple", "Banana", "cherry"]),
    ],
)
def test_posts_sort_orders(client, make_user, make_post, sort, expected):
    zed, amy = make_user("zed"), make_user("amy")
    make_post(zed, "apple")
    make_post(zed, "Banana")
    make_post(amy, "cherry")
    html = client.get(f"/posts?sort={sort}").get_data(as_text=True)
    positions = [html.index(f">{title}</a>") for title in expected]
    assert positions == sorted(positions)


def test_show_post(client, make_user, make_post):
    post_id = make_post(make_user("alice"), "Title here", "Body here")
    html = client.get(f"/posts/{post_id}").get_data(as_text=True)
    assert "Title here" in html and "Body here" in html and "alice" in html


def test_edit_post_and_move_it_to_another_author(client, submit, make_user, make_post, fetch):
    alice, bob = make_user("alice"), make_user("bob")
    post_id = make_post(alice, "Old")
    response = submit(
        f"/posts/{post_id}/edit", {"title": "New", "body": "b", "user_id": str(bob), "version": "1"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/posts/{post_id}"
    assert fetch(select(Post.title, Post.user_id, Post.version)) == [("New", bob, 2)]
    counts = dict(fetch(select(User.username, User.post_count).where(NOT_ADMIN)))
    assert counts == {"alice": 0, "bob": 1}


def test_delete_post_after_confirmation(client, submit, make_user, make_post, fetch):
    user_id = make_user("alice")
    post_id = make_post(user_id, "Doomed")
    confirm = client.get(f"/posts/{post_id}/delete")
    assert confirm.status_code == 200 and "Doomed" in confirm.get_data(as_text=True)
    response = submit(f"/posts/{post_id}/delete", {})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/users/{user_id}"
    assert fetch(select(Post.id)) == []
    assert fetch(select(User.post_count).where(NOT_ADMIN)) == [(0,)]
    assert flashed(client) == ["Post was deleted."]


def test_a_new_post_does_not_claim_to_be_edited(client, submit, make_user, make_post):
    user_id = make_user("alice")
    post_id = make_post(user_id, "Fresh")
    assert ", edited" not in client.get(f"/posts/{post_id}").get_data(as_text=True)
    submit(
        f"/posts/{post_id}/edit", {"title": "Changed", "body": "", "user_id": str(user_id), "version": "1"}
    )
    assert ", edited" in client.get(f"/posts/{post_id}").get_data(as_text=True)


def test_author_deleted_between_check_and_commit_is_a_field_error(
    client, submit, make_user, monkeypatch, fetch
):
    """The foreign key, not a 500, answers when the author vanishes after validation."""
    monkeypatch.setattr("myapp.posts.forms.user_exists", lambda user_id: True)
    make_user("alice")
    response = submit("/posts/new", {"title": "Orphan", "body": "", "user_id": "987654"})
    assert response.status_code == 422
    assert "Choose an existing user." in response.get_data(as_text=True)
    assert fetch(select(Post.id)) == []
