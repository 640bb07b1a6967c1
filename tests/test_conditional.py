"""Conditional requests (SPEC §14): every GET page and API read has an ETag; If-None-Match answers
304 before the page's queries run; the ETag changes with every write and with who is asking."""

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from myapp.auth import tokens
from myapp.extensions import db
from myapp.models import HistoryEntry
from myapp.types import now_utc

from .conftest import csrf_token, new_token, password_for
from .test_sign_in import sign_in

SELECT_VERSION = (
    "SELECT max(data_versions.epoch) AS max_1, sum(data_versions.generation) AS sum_1 \nFROM data_versions"
)
READS = [
    "/users",
    "/users?sort=-posts&per_page=5",
    "/users/{user}",
    "/users/{user}/history",
    "/posts",
    "/posts/{post}",
    "/posts/{post}/history",
    "/stats",
    "/activity",
    "/api/users",
    "/api/users/{user}",
    "/api/users/{user}/history",
    "/api/posts",
    "/api/posts/{post}",
    "/api/activity",
    "/users.csv",
    "/posts.csv",
]
FORM_PAGES = [
    "/users/new",
    "/users/{user}/edit",
    "/posts/new",
    "/posts/{post}/delete",
    "/account",
    "/account/tokens",
]


@pytest.fixture
def rows(make_user, make_post):
    user = make_user("ann", posts=1)
    return {"user": user, "post": make_post(user, "A post")}


class Statements:
    """The SQL statements the app sends while the block runs."""

    def __init__(self, app):
        with app.app_context():
            self.engine = db.engine
        self.sent = []

    def record(self, *args):
        self.sent.append(args[2])

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self.record)
        return self.sent

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self.record)


def settled(client):
    """The client past its session's first page, which makes the session's CSRF token (and so
    changes the session: such a response gets no ETag)."""
    client.get("/stats")
    return client


@pytest.fixture
def client(client):
    return settled(client)


def etag(response):
    assert response.status_code == 200, response.status_code
    tag = response.headers["ETag"]
    assert tag.startswith('W/"') and tag.endswith('"')
    return tag


@pytest.mark.parametrize("url", READS)
def test_every_read_has_an_etag_and_answers_304_without_the_page_queries(app, client, rows, url):
    url = url.format(**rows)
    tag = etag(client.get(url))
    assert client.get(url).headers["ETag"] == tag  # nothing changed, the same tag
    with Statements(app) as sent:
        response = client.get(url, headers={"If-None-Match": tag})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == tag
    assert response.headers["Cache-Control"] == "private, no-cache"
    # Only the data version is read: no page query, not even the account's (the API's token is
    # looked up: a token can expire with no write at all).
    token = "api_tokens" in " ".join(sent)
    assert token == url.startswith(("/api/", "/users.csv", "/posts.csv"))
    assert [s for s in sent if s != "BEGIN"][token:] == [SELECT_VERSION]


@pytest.mark.parametrize("url", FORM_PAGES)
def test_form_pages_have_no_etag_and_are_not_stored(client, rows, url):
    response = client.get(url.format(**rows))
    assert response.status_code == 200
    assert "ETag" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_the_sign_in_page_and_errors_have_no_etag(anon_client, client):
    assert "ETag" not in anon_client.get("/login").headers
    assert "ETag" not in client.get("/users/999").headers  # 404
    assert "ETag" not in anon_client.get("/users").headers  # 303 to sign in


@pytest.mark.parametrize(
    "header",
    ["{tag}", "{strong}", 'W/"nope", {tag}', '"nope",{strong}', "*"],
)
def test_if_none_match_is_parsed_as_http_says(client, rows, header):
    """Weak comparison (RFC 9110 §13.1.2): W/"x" and "x" match; lists match if any member does."""
    tag = etag(client.get("/users"))
    strong = tag.removeprefix("W/")
    response = client.get("/users", headers={"If-None-Match": header.format(tag=tag, strong=strong)})
    assert response.status_code == 304
    assert response.data == b""


@pytest.mark.parametrize("header", ['W/"nope"', '"nope"', "", "garbage"])
def test_other_tags_get_the_page(client, rows, header):
    response = client.get("/users", headers={"If-None-Match": header})
    assert response.status_code == 200
    assert "ann" in response.get_data(as_text=True)


def test_if_none_match_star_on_a_missing_page_is_its_404(client):
    assert client.get("/users/999", headers={"If-None-Match": "*"}).status_code == 404


def test_head_answers_like_get(client, rows):
    tag = etag(client.get("/users"))
    head = client.head("/users")
    assert head.status_code == 200 and head.data == b"" and head.headers["ETag"] == tag
    assert client.head("/users", headers={"If-None-Match": tag}).status_code == 304


def test_json_and_html_of_one_url_have_different_tags(client, rows):
    html = client.get("/users")
    json = client.get("/users", headers={"Accept": "application/json"})
    assert json.is_json and not html.is_json
    assert etag(html) != etag(json)
    assert "Accept" in html.headers["Vary"] and "Accept" in json.headers["Vary"]
    # A JSON tag does not make the HTML page a 304, nor the other way round.
    assert client.get("/users", headers={"If-None-Match": etag(json)}).status_code == 200


def test_the_query_string_is_part_of_the_tag(client, rows):
    assert etag(client.get("/users")) != etag(client.get("/users?sort=-created"))


# The tag changes with every committed write, whichever path made it.


def write_by_form(app, client, rows):
    token = csrf_token(client, "/users/new")
    data = {"username": "bea", "email": "bea@example.com", "role": "member", "csrf_token": token}
    assert client.post("/users/new", data=data).status_code == 303


def write_by_api(app, client, rows):
    assert client.patch(f"/api/users/{rows['user']}", json={"username": "anne"}).status_code == 200


def delete_then_undo(app, client, rows):
    token = csrf_token(client, f"/posts/{rows['post']}/delete")
    assert client.post(f"/posts/{rows['post']}/delete", data={"csrf_token": token}).status_code == 303
    with app.app_context():
        stmt = select(HistoryEntry.id).filter_by(kind="post", object_id=rows["post"], action="delete")
        entry = db.session.scalar(stmt)
    client.get("/users/new")  # shows the flashed "deleted"
    tags = etag(client.get("/posts"))
    token = csrf_token(client, "/users/new")
    assert client.post(f"/activity/{entry}/restore", data={"csrf_token": token}).status_code == 303
    client.get("/users/new")  # shows the flashed "restored"
    assert etag(client.get("/posts")) != tags  # the undo itself changed it too


def write_by_command(app, client, rows):
    assert app.test_cli_runner().invoke(args=["seed", "--users", "1"]).exit_code == 0


def write_by_create_admin(app, client, rows):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "ops", "ops@example.com", "--password-stdin"], input="a long passphrase\n"
    )
    assert result.exit_code == 0


@pytest.mark.parametrize(
    "write", [write_by_form, write_by_api, delete_then_undo, write_by_command, write_by_create_admin]
)
def test_every_write_changes_the_tag(app, client, rows, write):
    before = {url: etag(client.get(url)) for url in ("/users", "/posts", "/api/users", "/stats")}
    write(app, client, rows)
    client.get("/users/new")  # shows the write's flashed message, if it left one
    for url, tag in before.items():
        response = client.get(url, headers={"If-None-Match": tag})
        assert response.status_code == 200, url
        assert response.headers["ETag"] != tag


# Who is asking.


def test_two_accounts_get_different_tags_for_the_same_page(app, client, client_for, make_account, rows):
    member = settled(client_for(make_account("mia")))
    admin_tag, member_tag = etag(client.get("/users")), etag(member.get("/users"))
    assert admin_tag != member_tag
    # And one's tag never makes a 304 for the other.
    assert member.get("/users", headers={"If-None-Match": admin_tag}).status_code == 200


def test_a_new_session_of_the_same_account_gets_a_new_tag(app, anon_client, make_account, rows):
    make_account("mia")
    sign_in(anon_client, "mia", password_for("mia"))
    settled(anon_client)
    first = etag(anon_client.get("/users"))
    token = csrf_token(anon_client, "/account")
    assert anon_client.post("/logout", data={"csrf_token": token}).status_code == 303
    sign_in(anon_client, "mia", password_for("mia"))
    settled(anon_client)
    second = etag(anon_client.get("/users"))
    assert first != second  # a new session: a new CSRF token in the page's Sign out form
    assert anon_client.get("/users", headers={"If-None-Match": first}).status_code == 200


def test_signed_out_the_old_tag_gets_no_304_but_the_sign_in_page(app, anon_client, make_account, rows):
    make_account("mia")
    sign_in(anon_client, "mia", password_for("mia"))
    settled(anon_client)
    tag = etag(anon_client.get("/users"))
    token = csrf_token(anon_client, "/account")
    anon_client.post("/logout", data={"csrf_token": token})
    response = anon_client.get("/users", headers={"If-None-Match": tag})
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")


def test_a_tag_copied_to_another_client_does_not_pass_the_sign_in_gate(client, anon_client, rows):
    tag = etag(client.get("/users"))
    response = anon_client.get("/users", headers={"If-None-Match": tag})
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")


def test_a_changed_password_ends_the_sessions_304s_too(app, anon_client, make_account, rows):
    make_account("mia")
    sign_in(anon_client, "mia", password_for("mia"))
    settled(anon_client)
    tag = etag(anon_client.get("/users"))
    result = app.test_cli_runner().invoke(
        args=["create-admin", "mia", "mia@example.com", "--password-stdin"], input="a brand new passphrase\n"
    )
    assert result.exit_code == 0
    response = anon_client.get("/users", headers={"If-None-Match": tag})
    assert response.status_code == 303  # signed out: to the sign-in page, not a 304


def test_an_expired_token_gets_401_not_a_304(app, client, admin_id, rows, monkeypatch):
    token = new_token(app, admin_id, expires_days=1)
    headers = {"Authorization": f"Bearer {token}"}
    tag = etag(client.get("/api/users", headers=headers))
    assert client.get("/api/users", headers={**headers, "If-None-Match": tag}).status_code == 304
    # Two days later, with no write in between: the token has expired on its own.
    monkeypatch.setattr(tokens, "now_utc", lambda: now_utc() + timedelta(days=2))
    response = client.get("/api/users", headers={**headers, "If-None-Match": tag})
    assert response.status_code == 401


# Cache-Control.


def test_public_pages_are_revalidated_and_signed_in_ones_private(app, client, anon_client, rows):
    app.config["READ_ACCESS"] = "public"
    anonymous = anon_client.get("/users")
    assert anonymous.headers["Cache-Control"] == "no-cache"
    assert etag(anonymous) != etag(client.get("/users"))
    assert client.get("/users").headers["Cache-Control"] == "private, no-cache"
    assert anon_client.get("/users", headers={"If-None-Match": etag(anonymous)}).status_code == 304


def test_switching_read_access_off_again_closes_the_gate(app, anon_client, rows):
    app.config["READ_ACCESS"] = "public"
    tag = etag(anon_client.get("/users"))
    app.config["READ_ACCESS"] = "signed-in"
    assert anon_client.get("/users", headers={"If-None-Match": tag}).status_code == 303
    assert anon_client.get("/users").status_code == 303
