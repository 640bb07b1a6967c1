"""Signing in and out through the form (CSRF on), sessions, and the own-account page."""

import pytest
from sqlalchemy import select

from myapp.auth.passwords import check_password, hash_password
from myapp.extensions import db
from myapp.models import User

from .conftest import csrf_token, flashed, password_for

WRONG_PAIR = "That username or email and password do not match an account."


def sign_in(client, username, password, next_path=None):
    url = f"/login?next={next_path}" if next_path else "/login"
    return client.post(
        url, data={"username": username, "password": password, "csrf_token": csrf_token(client, url)}
    )


def session_cookie(client):
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


@pytest.mark.parametrize("typed", ["mia", "MIA", "mia@example.com", "Mia@Example.COM"])
def test_sign_in_with_username_or_email_in_any_case(anon_client, make_account, typed):
    make_account("mia")
    response = sign_in(anon_client, typed, password_for("mia"))
    assert response.status_code == 303 and response.headers["Location"] == "/"
    html = anon_client.get("/users").get_data(as_text=True)
    assert "Sign out" in html and ">mia</a>" in html


def test_wrong_password_and_unknown_account_get_the_same_answer(anon_client, make_account):
    make_account("mia")
    wrong = sign_in(anon_client, "mia", "not the password at all")
    unknown = sign_in(anon_client, "nobody", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        html = response.get_data(as_text=True)
        assert WRONG_PAIR in html
        assert 'value="not the password at all"' not in html  # the password is never echoed
    # The same page, but for the name typed and the CSRF token.
    strip = lambda r: r.get_data(as_text=True).split("<form")[0]  # noqa: E731
    assert strip(wrong) == strip(unknown)


def test_a_user_without_a_password_cannot_sign_in(anon_client, make_user):
    make_user("seeded")  # seeded and imported users have no password
    response = sign_in(anon_client, "seeded", "")
    assert response.status_code == 422  # the field is required
    assert sign_in(anon_client, "seeded", "anything at all, long").status_code == 401


@pytest.mark.parametrize(
    ("next_path", "lands_on"),
    [
        ("/posts?q=x", "/posts?q=x"),
        ("/users/1", "/users/1"),
        ("https://elsewhere.example/", "/"),
        ("//elsewhere.example/", "/"),
        ("/\\elsewhere.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("http:/elsewhere", "/"),
    ],
)
def test_next_only_ever_leads_to_a_path_on_this_site(anon_client, make_account, next_path, lands_on):
    make_account("mia")
    response = sign_in(anon_client, "mia", password_for("mia"), next_path=next_path)
    assert response.status_code == 303
    assert response.headers["Location"] == lands_on


def test_a_page_sends_an_anonymous_visitor_to_sign_in_and_back(anon_client, make_account):
    make_account("mia")
    response = anon_client.get("/posts?sort=title")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=/posts?sort%3Dtitle"
    signed_in = sign_in(anon_client, "mia", password_for("mia"), next_path="/posts?sort%3Dtitle")
    assert signed_in.headers["Location"] == "/posts?sort=title"


def test_signing_in_starts_a_fresh_session(anon_client, make_account):
    make_account("mia")
    anon_client.get("/login")
    before = session_cookie(anon_client)
    assert before  # the sign-in form's CSRF token lives in the session
    sign_in(anon_client, "mia", password_for("mia"))
    after = session_cookie(anon_client)
    assert after and after != before
    with anon_client.session_transaction() as session:
        assert set(session) <= {"_user_id", "_fresh", "_id", "csrf_token", "_flashes"}


def test_sign_out_needs_a_post_with_the_token(client):
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no CSRF token
    token = csrf_token(client, "/account")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    client.environ_base.pop("HTTP_AUTHORIZATION")
    assert client.get("/users").status_code == 303


def test_a_password_change_signs_out_the_other_sessions(app, make_account):
    make_account("mia")
    laptop, phone = app.test_client(), app.test_client()
    for device in (laptop, phone):
        assert sign_in(device, "mia", password_for("mia")).status_code == 303
    new_password = "a brand new passphrase"
    response = laptop.post(
        "/account",
        data={
            "username": "mia",
            "email": "mia@example.com",
            "version": "1",
            "current_password": password_for("mia"),
            "new_password": new_password,
            "csrf_token": csrf_token(laptop, "/account"),
        },
    )
    assert response.status_code == 303
    assert laptop.get("/account").status_code == 200  # this session goes on
    response = phone.get("/account")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    assert sign_in(phone, "mia", password_for("mia")).status_code == 401
    assert sign_in(phone, "mia", new_password).status_code == 303


def test_an_admin_setting_a_password_signs_out_that_user(app, client, submit, make_account):
    mia = make_account("mia")
    device = app.test_client()
    sign_in(device, "mia", password_for("mia"))
    response = submit(
        f"/users/{mia}/edit",
        {
            "username": "mia",
            "email": "mia@example.com",
            "role": "member",
            "password": "set by the admin",
            "version": "1",
        },
    )
    assert response.status_code == 303
    assert device.get("/account").status_code == 303
    assert client.get("/account").status_code == 200  # the admin is still signed in


def test_changing_the_password_needs_the_current_one(client, app, admin_id):
    data = {
        "username": "root",
        "email": "root@example.com",
        "version": "1",
        "current_password": "not my password",
        "new_password": "a brand new passphrase",
    }
    response = client.post("/account", data={**data, "csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "That is not your current password." in html
    assert "a brand new passphrase" not in html
    with app.app_context():
        assert check_password(db.session.get(User, admin_id).password_hash, password_for("root"))[0]


@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        ("short one", "at least 12 characters"),
        ("x" * 1025, "at most 1,024 characters"),
        ("ROOT", "at least 12"),
        ("Root@Example.com", "Must not be the username or the email address."),
    ],
)
def test_new_password_rules(client, new_password, message):
    data = {
        "username": "root",
        "email": "root@example.com",
        "version": "1",
        "current_password": password_for("root"),
        "new_password": new_password,
    }
    response = client.post("/account", data={**data, "csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_own_details_change_on_the_account_page(client, app, admin_id):
    data = {"username": "rooted", "email": "rooted@example.com", "version": "1"}
    response = client.post("/account", data={**data, "csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert flashed(client) == ["Your account was saved."]
    with app.app_context():
        user = db.session.get(User, admin_id)
        assert (user.username, user.email) == ("rooted", "rooted@example.com")
    assert client.get("/account").status_code == 200  # no password change: still signed in


def test_sign_in_rehashes_when_the_parameters_changed(app, anon_client, make_account):
    mia = make_account("mia")
    with app.app_context():
        old = db.session.get(User, mia).password_hash
    app.config["ARGON2_TIME_COST"] += 1
    app.extensions.pop("argon2")  # the hasher is made from the config once per app
    assert sign_in(anon_client, "mia", password_for("mia")).status_code == 303
    with app.app_context():
        new = db.session.get(User, mia).password_hash
    assert new != old and "t=2" in new and "t=1" in old
    assert old.startswith("$argon2id$")


def test_the_sign_in_page_says_how_to_make_the_first_admin(app, anon_client, make_user):
    make_user("someone")
    assert "flask create-admin USERNAME EMAIL" in anon_client.get("/login").get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "someone"))
        user.role, user.password_hash = "admin", hash_password("a fine admin passphrase")
        db.session.commit()
    assert "flask create-admin" not in anon_client.get("/login").get_data(as_text=True)


def test_the_last_admin_cannot_be_demoted_or_deleted(client, submit, admin_id, fetch):
    response = submit(
        f"/users/{admin_id}/edit",
        {"username": "root", "email": "root@example.com", "role": "member", "version": "1"},
    )
    assert response.status_code == 422
    assert "This is the last admin" in response.get_data(as_text=True)
    response = submit(f"/users/{admin_id}/delete", {})
    assert response.status_code == 409
    assert "last admin" in response.get_data(as_text=True)
    api = client.delete(f"/api/users/{admin_id}")
    assert api.status_code == 409 and api.get_json()["error"]["code"] == "last_admin"
    assert fetch(select(User.role).where(User.id == admin_id)) == [("admin",)]


def test_an_admin_may_step_down_while_another_admin_exists(client, submit, admin_id, make_account, fetch):
    make_account("deputy", role="admin")
    response = submit(
        f"/users/{admin_id}/edit",
        {"username": "root", "email": "root@example.com", "role": "member", "version": "1"},
    )
    assert response.status_code == 303
    assert fetch(select(User.role).where(User.id == admin_id)) == [("member",)]
    assert client.get("/users/new").status_code == 403  # at once: the role is read per request


def test_admin_adds_a_user_with_role_and_password_who_can_then_sign_in(app, submit, fetch):
    response = submit(
        "/users/new",
        {
            "username": "newbie",
            "email": "newbie@example.com",
            "role": "admin",
            "password": "newbie's passphrase",
        },
    )
    assert response.status_code == 303
    assert fetch(select(User.role).where(User.username == "newbie")) == [("admin",)]
    assert sign_in(app.test_client(), "newbie", "newbie's passphrase").status_code == 303


def test_password_hashes_are_argon2id_and_never_the_password(app, make_account):
    mia = make_account("mia")
    with app.app_context():
        stored = db.session.get(User, mia).password_hash
    assert stored.startswith("$argon2id$") and password_for("mia") not in stored
