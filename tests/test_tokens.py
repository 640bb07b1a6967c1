"""API tokens (SPEC §11): made at /account/tokens or by `flask create-token`, shown once, kept
only as a SHA-256 digest; expired and revoked ones stop working; writes take nothing else."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from myapp.auth.tokens import PREFIX, digest
from myapp.extensions import db
from myapp.models import ApiToken

from .conftest import csrf_token, new_token, sqlite_only

TOKEN = re.compile(r'<code class="token" id="new-token">([^<]+)</code>')


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def error_code(response):
    return response.get_json()["error"]["code"]


def test_a_token_is_made_on_the_tokens_page_and_shown_once(client, app, admin_id):
    url = "/account/tokens"
    response = client.post(
        url, data={"name": "backup script", "expires_days": "", "csrf_token": csrf_token(client, url)}
    )
    assert response.status_code == 201
    token = TOKEN.search(response.get_data(as_text=True)).group(1)
    assert token.startswith(PREFIX) and len(token) == len(PREFIX) + 43
    again = client.get(url).get_data(as_text=True)
    assert token not in again and "backup script" in again
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.name == "backup script"))
        assert (row.user_id, row.digest, row.expires_at) == (admin_id, digest(token), None)
    anonymous = app.test_client()
    assert anonymous.get("/api/users", headers=bearer(token)).status_code == 200


def test_a_token_writes_and_the_session_cookie_does_not(client, app, admin_id):
    body = {"username": "made_by_api", "email": "api@example.com"}
    token = client.environ_base.pop("HTTP_AUTHORIZATION")  # the session alone now
    response = client.post("/api/users", json=body)
    assert response.status_code == 401 and error_code(response) == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/users").status_code == 200  # reads take the session
    assert client.post("/api/users", json=body, headers={"Authorization": token}).status_code == 201


@pytest.mark.parametrize(
    "header",
    ["Bearer upt_not-a-real-token", "Bearer ", "Basic cm9vdDpyb290", "upt_x", "Bearer " + "x" * 5000],
)
def test_a_bad_token_is_401_even_for_reads(app, make_user, header):
    make_user("alice")
    app.config["READ_ACCESS"] = "public"  # anonymous reads are allowed, a bad token still is not
    response = app.test_client().get("/api/users", headers={"Authorization": header})
    assert response.status_code == 401 and error_code(response) == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_stops_working(app, admin_id):
    token = new_token(app, admin_id, expires_days=1)
    client = app.test_client()
    assert client.get("/api/posts", headers=bearer(token)).status_code == 200
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.digest == digest(token)))
        row.expires_at -= timedelta(days=2)
        db.session.commit()
    assert client.get("/api/posts", headers=bearer(token)).status_code == 401


def test_a_revoked_token_stops_working(client, app, admin_id):
    token = new_token(app, admin_id, name="to revoke")
    other = app.test_client()
    assert other.get("/api/posts", headers=bearer(token)).status_code == 200
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.name == "to revoke"))
    url = f"/account/tokens/{token_id}/revoke"
    response = client.post(url, data={"csrf_token": csrf_token(client, "/account/tokens")})
    assert response.status_code == 303 and response.headers["Location"] == "/account/tokens"
    assert other.get("/api/posts", headers=bearer(token)).status_code == 401
    assert "revoked" in client.get("/account/tokens").get_data(as_text=True)


def test_a_members_token_acts_as_the_member(app, make_account, make_user, make_post):
    mia = make_account("mia")
    bob = make_user("bob")
    bobs_post = make_post(bob, "Bob's")
    client = app.test_client()
    headers = bearer(new_token(app, mia))
    mine = client.post("/api/posts", json={"title": "Mine"}, headers=headers)
    assert mine.status_code == 201 and mine.get_json()["user_id"] == mia
    as_bob = client.post("/api/posts", json={"title": "Bob's now", "user_id": bob}, headers=headers)
    assert as_bob.status_code == 403 and error_code(as_bob) == "forbidden"
    assert client.delete(f"/api/posts/{bobs_post}", headers=headers).status_code == 403
    moved = client.patch(f"/api/posts/{mine.get_json()['id']}", json={"user_id": bob}, headers=headers)
    assert moved.status_code == 403
    assert (
        client.post(
            "/api/users", json={"username": "x" * 5, "email": "x@example.com"}, headers=headers
        ).status_code
        == 403
    )


def test_roles_and_passwords_are_not_set_through_the_api(client, make_account):
    mia = make_account("mia")
    for body in ({"role": "admin"}, {"password": "a new long passphrase"}):
        response = client.patch(f"/api/users/{mia}", json=body)
        assert response.status_code == 422
        assert "never through the API" in next(iter(response.get_json()["error"]["fields"].values()))


def test_last_use_is_kept_to_a_few_minutes(app, admin_id):
    token = new_token(app, admin_id)
    client = app.test_client()

    def last_used():
        with app.app_context():
            return db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.digest == digest(token)))

    assert last_used() is None
    client.get("/api/users", headers=bearer(token))
    first = last_used()
    assert first is not None
    client.get("/api/users", headers=bearer(token))
    assert last_used() == first  # not rewritten on every read
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.digest == digest(token)))
        row.last_used_at -= timedelta(minutes=6)
        db.session.commit()
    client.get("/api/users", headers=bearer(token))
    assert last_used() > first - timedelta(minutes=1)


def test_no_token_is_stored_in_clear(app, admin_id):
    tokens = [new_token(app, admin_id, name=f"t{n}") for n in range(3)]
    with app.app_context():
        stored = [tuple(str(v) for v in row) for row in db.session.execute(select(ApiToken.__table__)).all()]
    flat = " ".join(" ".join(row) for row in stored)
    for token in tokens:
        assert token not in flat and token[len(PREFIX) :] not in flat


@sqlite_only
def test_the_database_file_holds_no_token(file_app):
    from .conftest import add_account

    token = new_token(file_app, add_account(file_app, "mia"))
    with file_app.app_context():
        db.engine.dispose()  # everything written and the WAL folded in by the last close
    path = file_app.config["DB_PATH"]
    data = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert token.encode() not in data and token[len(PREFIX) :].encode() not in data
    assert digest(token).encode() in data
