"""Undo a delete from /activity (SPEC §13): same ids, kept counts exact, recorded as a restore;
refused with a reason when a name or an id has been taken since."""

import re

from sqlalchemy import select

from myapp.counters import totals
from myapp.extensions import db
from myapp.models import HistoryEntry, Post, User

from .conftest import csrf_token


def delete_entry(app, kind, object_id):
    with app.app_context():
        stmt = select(HistoryEntry.id).filter_by(kind=kind, object_id=object_id, action="delete")
        return db.session.scalar(stmt)


def restore(client, entry_id):
    token = csrf_token(client, "/users/new")  # the session's token, as on the restore buttons
    return client.post(f"/activity/{entry_id}/restore", data={"csrf_token": token})


def state(app, user_id):
    """The user's row as the app keeps it, their posts' ids and the kept counts."""
    with app.app_context():
        user = db.session.get(User, user_id)
        posts = db.session.scalars(select(Post.id).where(Post.user_id == user_id).order_by(Post.id)).all()
        row = user and (user.username, user.email, user.role, user.created_at, user.post_count)
        return row, posts, totals()


def test_delete_a_user_with_three_posts_then_restore_them(app, client, make_user, runner):
    user_id = make_user("ada", posts=3)
    make_user("bob", posts=1)
    before = state(app, user_id)
    assert before[1] and len(before[1]) == 3
    assert client.delete(f"/api/users/{user_id}").status_code == 204
    assert state(app, user_id)[0] is None
    entry_id = delete_entry(app, "user", user_id)

    html = client.get("/activity").get_data(as_text=True)
    assert f'action="/activity/{entry_id}/restore"' in html
    assert "no password" in html  # the page says a restored user cannot sign in yet

    response = restore(client, entry_id)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/users/{user_id}"
    assert state(app, user_id) == before  # same id, values, posts with their ids, and counts
    with app.app_context():
        assert db.session.get(User, user_id).password_hash is None
        entry = db.session.scalars(select(HistoryEntry).order_by(HistoryEntry.id.desc())).first()
    assert (entry.action, entry.kind, entry.object_id) == ("restore", "user", user_id)
    assert entry.note == f"undoes entry {entry_id}, with 3 posts"
    result = runner.invoke(args=["check-db"])
    assert result.exit_code == 0 and "The database is sound." in result.output, result.output

    # Restoring twice is refused: the id is in use again.
    response = restore(client, entry_id)
    assert response.status_code == 409
    assert "in use" in response.get_data(as_text=True)


def test_restore_is_refused_after_someone_took_the_username(app, client, make_user, fetch):
    user_id = make_user("ada", posts=1)
    assert client.delete(f"/api/users/{user_id}").status_code == 204
    assert client.post("/api/users", json={"username": "ADA", "email": "new@example.com"}).status_code == 201
    before = fetch(select(HistoryEntry.id))
    response = restore(client, delete_entry(app, "user", user_id))
    assert response.status_code == 409
    assert "The username ada has been taken since" in response.get_data(as_text=True)
    assert fetch(select(User.id).where(User.id == user_id)) == []
    assert fetch(select(HistoryEntry.id)) == before  # nothing recorded


def test_restore_is_refused_after_someone_took_the_email(app, client, make_user):
    user_id = make_user("ada")
    assert client.delete(f"/api/users/{user_id}").status_code == 204
    assert (
        client.post("/api/users", json={"username": "other", "email": "ADA@example.com"}).status_code == 201
    )
    response = restore(client, delete_entry(app, "user", user_id))
    assert response.status_code == 409
    assert "The email address ada@example.com has been taken since" in response.get_data(as_text=True)


def test_a_deleted_post_comes_back_while_its_author_exists(app, client, make_user, make_post, runner):
    author = make_user("ada", posts=2)
    post_id = make_post(author, "Keep me", "with a body")
    assert client.delete(f"/api/posts/{post_id}").status_code == 204
    response = restore(client, delete_entry(app, "post", post_id))
    assert response.status_code == 303 and response.headers["Location"] == f"/posts/{post_id}"
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert (post.title, post.body, post.user_id) == ("Keep me", "with a body", author)
        assert db.session.get(User, author).post_count == 3
    assert runner.invoke(args=["check-db"]).exit_code == 0


def test_a_post_whose_author_is_gone_is_not_restored(app, client, make_user, make_post):
    author = make_user("ada")
    post_id = make_post(author)
    assert client.delete(f"/api/posts/{post_id}").status_code == 204
    assert client.delete(f"/api/users/{author}").status_code == 204
    response = restore(client, delete_entry(app, "post", post_id))
    assert response.status_code == 409
    assert f"The author (user {author}) no longer exists" in response.get_data(as_text=True)


def test_only_a_deletion_can_be_undone(app, client, make_user):
    user_id = make_user("ada")
    with app.app_context():
        created = db.session.scalar(select(HistoryEntry.id).filter_by(kind="user", object_id=user_id))
    response = restore(client, created)
    assert response.status_code == 409
    assert "Only a deletion can be undone." in response.get_data(as_text=True)


def test_ids_are_never_reused(app, client):
    first = client.post("/api/users", json={"username": "ada", "email": "ada@example.com"}).get_json()["id"]
    assert client.delete(f"/api/users/{first}").status_code == 204
    second = client.post("/api/users", json={"username": "bob", "email": "bob@example.com"}).get_json()["id"]
    assert second > first


def test_restore_needs_a_csrf_token(app, client, make_user):
    user_id = make_user("ada")
    assert client.delete(f"/api/users/{user_id}").status_code == 204
    response = client.post(f"/activity/{delete_entry(app, 'user', user_id)}/restore", data={})
    assert response.status_code == 400
    assert re.search("ada", client.get(f"/users/{user_id}/history").get_data(as_text=True))
