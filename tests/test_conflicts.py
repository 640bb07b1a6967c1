"""Edits carry the version they were made from; saving over a newer one is a 409, not a silent loss."""

from sqlalchemy import select

from myapp.models import Post, User

from .conftest import NOT_ADMIN


def test_stale_user_edit_is_a_409_with_the_current_values(client, submit, make_user, fetch):
    user_id = make_user("alice", "alice@example.com")
    url = f"/users/{user_id}/edit"
    first = submit(url, {"username": "alice2", "email": "alice@example.com", "version": "1"})
    assert first.status_code == 303
    stale = submit(url, {"username": "alice3", "email": "alice@example.com", "version": "1"})
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert "Someone else saved this user" in html
    assert "<strong>alice2</strong>" in html  # their saved value
    assert 'value="alice3"' in html  # our input, kept
    assert 'name="version" type="hidden" value="2"' in html  # saving again is a deliberate choice
    assert fetch(select(User.username, User.version).where(NOT_ADMIN)) == [("alice2", 2)]


def test_edit_without_a_version_is_refused(client, submit, make_user, fetch):
    user_id = make_user("alice")
    response = submit(f"/users/{user_id}/edit", {"username": "bob", "email": "bob@example.com"})
    assert response.status_code == 409
    assert fetch(select(User.username).where(NOT_ADMIN)) == [("alice",)]


def test_resubmitting_after_a_conflict_saves(client, submit, make_user, fetch):
    user_id = make_user("alice")
    url = f"/users/{user_id}/edit"
    submit(url, {"username": "alice2", "email": "alice@example.com", "version": "1"})
    response = submit(url, {"username": "alice3", "email": "alice@example.com", "version": "2"})
    assert response.status_code == 303
    assert fetch(select(User.username).where(NOT_ADMIN)) == [("alice3",)]


def test_stale_post_edit_is_a_409(client, submit, make_user, make_post, fetch):
    user_id = make_user("alice")
    post_id = make_post(user_id, "Original")
    url = f"/posts/{post_id}/edit"
    assert (
        submit(url, {"title": "Theirs", "body": "", "user_id": str(user_id), "version": "1"}).status_code
        == 303
    )
    stale = submit(url, {"title": "Mine", "body": "", "user_id": str(user_id), "version": "1"})
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert "<strong>Theirs</strong>" in html and 'value="Mine"' in html
    assert fetch(select(Post.title)) == [("Theirs",)]
