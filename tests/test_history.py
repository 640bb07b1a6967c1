"""History (SPEC §13): every write path leaves one entry with the right actor and values, in the
same transaction; a write that is refused (409, 422) leaves none; passwords never appear."""

import json

from sqlalchemy import select

from myapp.extensions import db
from myapp.models import HistoryEntry, User

from .conftest import ADMIN, password_for
from .test_sign_in import sign_in


def entries(app, **where):
    """Every entry (matching where), oldest first, as dicts."""
    with app.app_context():
        stmt = select(HistoryEntry).filter_by(**where).order_by(HistoryEntry.id)
        return [
            {c.name: getattr(e, c.name) for c in HistoryEntry.__table__.columns}
            for e in db.session.scalars(stmt)
        ]


def last(app, **where):
    found = entries(app, **where)
    assert found, f"no entry matching {where}"
    return found[-1]


def count(app):
    return len(entries(app))


def test_form_create_records_the_admin_and_the_values(app, client, submit, admin_id):
    response = submit("/users/new", {"username": "ada", "email": "ada@example.com", "role": "member"})
    assert response.status_code == 303
    entry = last(app, kind="user", action="create")
    user_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert entry["object_id"] == user_id and entry["owner_id"] == user_id
    assert (entry["actor_id"], entry["actor_name"]) == (admin_id, ADMIN)
    assert entry["changes"] == {
        "username": [None, "ada"],
        "email": [None, "ada@example.com"],
        "role": [None, "member"],
    }


def test_form_edit_records_old_and_new_values_and_only_that_the_password_changed(
    app, client, submit, make_user
):
    user_id = make_user("ada")
    before = count(app)
    response = submit(
        f"/users/{user_id}/edit",
        {
            "username": "ada2",
            "email": "ada@example.com",
            "role": "member",
            "password": "a new long passphrase",
            "version": "1",
        },
    )
    assert response.status_code == 303
    assert count(app) == before + 1
    entry = last(app, kind="user", object_id=user_id)
    assert entry["action"] == "update" and entry["actor_name"] == ADMIN
    assert entry["changes"] == {"username": ["ada", "ada2"]}  # unchanged fields are left out
    assert entry["note"] == "password changed"
    with app.app_context():
        stored_hash = db.session.get(User, user_id).password_hash
    assert stored_hash not in json.dumps(entries(app), default=str)
    assert "argon2" not in json.dumps(entries(app), default=str)


def test_form_post_edit_and_delete(app, client, submit, make_user, make_post):
    author = make_user("ada")
    post_id = make_post(author, "Old title", "body")
    response = submit(
        f"/posts/{post_id}/edit", {"title": "New title", "body": "body", "user_id": author, "version": "1"}
    )
    assert response.status_code == 303
    assert last(app, kind="post", object_id=post_id)["changes"] == {"title": ["Old title", "New title"]}
    assert submit(f"/posts/{post_id}/delete", {}).status_code == 303
    entry = last(app, kind="post", object_id=post_id)
    assert entry["action"] == "delete" and entry["owner_id"] == author
    assert entry["changes"] == {
        "title": ["New title", None],
        "body": ["body", None],
        "user_id": [author, None],
    }
    assert entry["snapshot"]["post"]["id"] == post_id


def test_refused_form_writes_leave_no_entry(app, client, submit, make_user):
    user_id = make_user("ada")
    make_user("bob")
    before = count(app)
    # 422: a bad field; 422: a taken name; 409: saved over a newer version.
    assert submit("/users/new", {"username": "x", "email": "nope"}).status_code == 422
    assert (
        submit(
            f"/users/{user_id}/edit",
            {"username": "bob", "email": "ada@example.com", "role": "member", "version": "1"},
        ).status_code
        == 422
    )
    assert (
        submit(
            f"/users/{user_id}/edit",
            {"username": "ada3", "email": "ada@example.com", "role": "member", "version": "7"},
        ).status_code
        == 409
    )
    assert count(app) == before


def test_api_writes_record_the_token_s_account(app, client, admin_id):
    response = client.post("/api/users", json={"username": "ada", "email": "ada@example.com"})
    assert response.status_code == 201
    user_id = response.get_json()["id"]
    assert last(app, object_id=user_id, kind="user")["actor_id"] == admin_id
    response = client.patch(f"/api/users/{user_id}", json={"email": "ada@new.example", "version": 1})
    assert response.status_code == 200
    entry = last(app, object_id=user_id, kind="user")
    assert (entry["action"], entry["changes"]) == (
        "update",
        {"email": ["ada@example.com", "ada@new.example"]},
    )
    response = client.post("/api/posts", json={"title": "Hi", "user_id": user_id})
    post_id = response.get_json()["id"]
    assert last(app, kind="post", object_id=post_id)["changes"]["title"] == [None, "Hi"]
    assert client.delete(f"/api/users/{user_id}").status_code == 204
    entry = last(app, kind="user", object_id=user_id)
    assert (entry["action"], entry["actor_name"], entry["note"]) == ("delete", ADMIN, "with 1 post")
    assert [p["id"] for p in entry["snapshot"]["posts"]] == [post_id]
    assert entries(app, kind="post", object_id=post_id)[-1]["action"] == "create"  # no separate delete


def test_api_writes_that_roll_back_leave_no_entry(app, client, make_user):
    user_id = make_user("ada")
    before = count(app)
    # 409 from the unique index: the INSERT failed inside the flush and the transaction rolled back.
    response = client.post("/api/users", json={"username": "ADA", "email": "other@example.com"})
    assert response.status_code == 409
    response = client.patch(f"/api/users/{user_id}", json={"username": "bob", "version": 5})
    assert response.status_code == 409
    response = client.post("/api/posts", json={"title": "", "user_id": user_id})
    assert response.status_code == 422
    assert count(app) == before


def test_the_article_post_users_is_recorded(app, client, admin_id):
    response = client.post("/users", json={"username": "ada", "email": "ada@example.com"})
    assert response.status_code == 201
    entry = last(app, kind="user")
    assert (entry["action"], entry["actor_id"], entry["changes"]["username"]) == (
        "create",
        admin_id,
        [None, "ada"],
    )


def test_cli_create_admin_is_recorded_as_the_command_line(app, runner, make_user):
    result = runner.invoke(
        args=["create-admin", "boss", "boss@example.com", "--password-stdin"], input="a long passphrase\n"
    )
    assert result.exit_code == 0, result.output
    entry = last(app, kind="user", action="create")
    assert (entry["actor_id"], entry["actor_name"]) == (None, "command line")
    assert entry["changes"]["role"] == [None, "admin"] and entry["note"] == "password set"
    make_user("worker")
    result = runner.invoke(
        args=["create-admin", "worker", "worker@example.com", "--password-stdin"],
        input="another long passphrase\n",
    )
    assert result.exit_code == 0, result.output
    entry = last(app, kind="user", action="update")
    assert entry["changes"] == {"role": ["member", "admin"]} and entry["note"] == "password changed"


def test_the_actor_s_name_stays_when_the_account_is_deleted(app, client, make_account, client_for):
    editor = make_account("editor", role="admin")
    response = client_for(editor).post("/api/users", json={"username": "ada", "email": "ada@example.com"})
    assert response.status_code == 201
    assert client.delete(f"/api/users/{editor}").status_code == 204
    entry = last(app, kind="user", action="create", object_id=response.get_json()["id"])
    assert (entry["actor_id"], entry["actor_name"]) == (None, "editor")


def test_seed_writes_one_summary_entry(app, runner):
    before = count(app)
    result = runner.invoke(args=["seed", "--users", "30", "--posts-per-user", "2"])
    assert result.exit_code == 0, result.output
    assert count(app) == before + 1
    entry = last(app, action="seed")
    assert entry["kind"] == "database" and entry["actor_name"] == "command line"
    assert entry["note"] == "seeded 30 users (user000001 to user000030) and 60 posts"


def test_a_rehash_at_sign_in_is_the_account_s_own_entry_not_a_password_change(app, anon_client, make_account):
    mia = make_account("mia")
    app.config["ARGON2_TIME_COST"] += 1
    app.extensions.pop("argon2")
    assert sign_in(anon_client, "mia", password_for("mia")).status_code == 303
    entry = last(app, kind="user", object_id=mia)
    assert (entry["action"], entry["actor_id"], entry["actor_name"]) == ("update", mia, "mia")
    assert entry["note"] == "password re-hashed with new parameters at sign-in" and entry["changes"] is None
