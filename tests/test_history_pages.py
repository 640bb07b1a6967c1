"""History pages and API (SPEC §13): links, deleted rows, filters, keyset pages, who sees what,
email addresses hidden from anonymous readers, snapshot mode read-only."""

import re

import pytest
from sqlalchemy import select

from myapp.extensions import db
from myapp.models import HistoryEntry

from .conftest import ADMIN, sqlite_only
from .file_app import add_users, snapshot_app_over


def test_user_and_post_pages_link_to_their_history(client, make_user, make_post):
    user_id = make_user("ada")
    post_id = make_post(user_id, "Hello")
    assert f'href="/users/{user_id}/history"' in client.get(f"/users/{user_id}").get_data(as_text=True)
    assert f'href="/posts/{post_id}/history"' in client.get(f"/posts/{post_id}").get_data(as_text=True)


def test_a_user_s_history_shows_old_and_new_values_newest_first(client, make_user):
    user_id = make_user("ada")
    assert client.patch(f"/api/users/{user_id}", json={"username": "ada_l"}).status_code == 200
    html = client.get(f"/users/{user_id}/history").get_data(as_text=True)
    assert html.index("<del>ada</del> → <ins>ada_l</ins>") < html.index("ada@example.com")  # newest first
    assert ADMIN in html and "command line" in html  # the API edit's admin, the fixture's creation


def test_the_history_of_a_deleted_row_stays_readable(client, make_user, make_post):
    user_id = make_user("ada")
    post_id = make_post(user_id, "Gone soon")
    assert client.delete(f"/api/posts/{post_id}").status_code == 204
    assert client.delete(f"/api/users/{user_id}").status_code == 204
    response = client.get(f"/users/{user_id}/history")
    assert response.status_code == 200 and "This user has been deleted" in response.get_data(as_text=True)
    response = client.get(f"/posts/{post_id}/history")
    assert response.status_code == 200 and "Gone soon" in response.get_data(as_text=True)
    assert client.get(f"/api/posts/{post_id}/history").get_json()["items"][0]["action"] == "delete"
    assert client.get("/users/999999/history").status_code == 404  # never existed
    assert client.get("/api/posts/999999/history").get_json()["error"]["code"] == "not_found"


def test_members_see_their_own_history_only(app, make_account, client_for, make_post):
    mia, otto = make_account("mia"), make_account("otto")
    mine, theirs = make_post(mia), make_post(otto)
    member = client_for(mia)
    assert member.get(f"/users/{mia}/history").status_code == 200
    assert member.get(f"/posts/{mine}/history").status_code == 200
    assert member.get(f"/users/{otto}/history").status_code == 403
    assert member.get(f"/api/posts/{theirs}/history").status_code == 403
    assert member.get("/activity").status_code == 403
    assert 'href="/activity"' not in member.get("/users").get_data(as_text=True)
    # A deleted post of theirs: by its last entry, still theirs.
    assert member.delete(f"/api/posts/{mine}").status_code == 204
    assert member.get(f"/posts/{mine}/history").status_code == 200


def test_anonymous_readers_see_no_history_even_when_reads_are_public(app, anon_client, make_user):
    user_id = make_user("ada")
    app.config["READ_ACCESS"] = "public"
    assert anon_client.get(f"/users/{user_id}").status_code == 200
    assert "/history" not in anon_client.get(f"/users/{user_id}").get_data(as_text=True)
    response = anon_client.get(f"/users/{user_id}/history")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    assert anon_client.get(f"/api/users/{user_id}/history").status_code == 401


def test_activity_filters_by_account_and_kind(client, make_account, client_for, make_user):
    bea = make_account("bea", role="admin")
    target = make_user("ada")
    client_for(bea).patch(f"/api/users/{target}", json={"username": "ada_b"})
    client.post("/api/posts", json={"title": "By root", "user_id": target})
    items = client.get("/api/activity?account=bea").get_json()["items"]
    assert [(e["actor_name"], e["action"], e["kind"]) for e in items] == [("bea", "update", "user")]
    assert client.get(f"/api/activity?account={bea}").get_json()["items"] == items  # by id too
    items = client.get("/api/activity?kind=post").get_json()["items"]
    assert [e["changes"]["title"]["new"] for e in items] == ["By root"]
    html = client.get("/activity?account=command+line&kind=user").get_data(as_text=True)
    assert "ada@example.com" in html and "By root" not in html


def test_activity_pages_with_keyset_links(app, client, make_user):
    for i in range(7):
        make_user(f"user{i}")
    first = client.get("/activity?per_page=3")
    html = first.get_data(as_text=True)
    assert "Page 1 of 3" in html  # 8 creations: the admin (the `client` fixture) and 7 users
    next_link = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "after=" in next_link
    second = client.get(next_link).get_data(as_text=True)
    assert "user3" in second and "user1" in second and "user4" not in second and "user0" not in second
    api = client.get("/api/activity?per_page=3&page=3").get_json()
    assert (api["total"], api["pages"], len(api["items"])) == (8, 3, 2)
    with app.app_context():
        ids = db.session.scalars(select(HistoryEntry.id).order_by(HistoryEntry.id.desc())).all()
    assert [e["id"] for e in api["items"]] == ids[6:]


def test_the_api_history_of_a_user(client, make_user):
    user_id = make_user("ada")
    client.patch(f"/api/users/{user_id}", json={"email": "ada@new.example"})
    body = client.get(f"/api/users/{user_id}/history").get_json()
    assert (body["total"], body["page"], body["pages"]) == (2, 1, 1)
    newest = body["items"][0]
    assert newest["changes"] == {"email": {"old": "ada@example.com", "new": "ada@new.example"}}
    assert (newest["actor_name"], newest["restorable"]) == (ADMIN, False)


@pytest.fixture
def snapshot_app(file_app, tmp_path, monkeypatch):
    """A snapshot of a database where alice was added, then deleted with her post."""
    add_users(file_app, "alice", posts=1)
    add_users(file_app, "bob")
    with file_app.app_context():
        from myapp.models import User

        db.session.delete(db.session.scalar(select(User).filter_by(username="alice")))
        db.session.commit()
    yield from snapshot_app_over(file_app, monkeypatch)


@sqlite_only
def test_snapshot_mode_shows_history_read_only_without_emails(snapshot_app):
    client = snapshot_app.test_client()
    response = client.get("/activity")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "alice" in html and "with 1 post" in html
    assert "@example.com" not in html  # no email address reaches an anonymous reader
    assert "/restore" not in html and "Restore" not in html
    assert client.get("/users/1/history").status_code == 200
    items = client.get("/api/users/1/history").get_json()["items"]
    assert items and all("email" not in e["changes"] for e in items)
    entry_id = items[0]["id"]
    assert client.post(f"/activity/{entry_id}/restore").status_code == 403
