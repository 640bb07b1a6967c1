"""Repeated reads answered before Flask (myapp/conditional/fast_path.py): the same answer, headers,
log line and metrics as Flask's own path, and everything it must not answer passed on to Flask."""

import time

import pytest

from myapp.extensions import db

from .conftest import new_token, sqlite_only
from .test_conditional import SELECT_VERSION, Statements, settled
from .test_observability_log import json_log, request_lines  # noqa: F401 - the fixture
from .test_observability_metrics import metrics_on, requests_total, scrape  # noqa: F401 - the fixture
from .test_snapshot import snapshot_app  # noqa: F401 - the fixture

PER_REQUEST = {"X-Request-ID", "Date"}


class Dispatches:
    """Counts the requests Flask itself dispatches (its before/after_request path)."""

    def __init__(self, app, monkeypatch):
        self.count = 0
        dispatch = app.full_dispatch_request

        def counted():
            self.count += 1
            return dispatch()

        monkeypatch.setattr(app, "full_dispatch_request", counted)


@pytest.fixture
def dispatches(app, monkeypatch):
    return Dispatches(app, monkeypatch)


@pytest.fixture
def client(client):
    client.environ_base.pop("HTTP_AUTHORIZATION")  # pages, as a browser reads them: the session
    return settled(client)


def kept_headers(response):
    return {name: value for name, value in response.headers.items() if name not in PER_REQUEST}


def test_a_page_asked_again_is_answered_before_flask_with_the_same_response(client, make_user, dispatches):
    make_user("ann", posts=2)
    rendered = client.get("/users")
    assert dispatches.count == 1
    again = client.get("/users")
    assert dispatches.count == 1  # not dispatched: answered by the fast path
    assert again.status_code == 200
    assert again.data == rendered.data
    assert kept_headers(again) == kept_headers(rendered)
    assert again.headers["X-Request-ID"] != rendered.headers["X-Request-ID"]
    assert again.headers["Cache-Control"] == "private, no-cache"
    assert again.headers["Vary"] == "Accept, Cookie"


def test_if_none_match_gets_the_same_304_as_flask_gives(app, client, make_user, dispatches):
    make_user("ann")
    etag = client.get("/users").headers["ETag"]
    app.extensions["conditional"].cache.clear()  # Flask's path answers the 304 (nothing kept)
    by_flask = client.get("/users", headers={"If-None-Match": etag})
    assert (by_flask.status_code, dispatches.count) == (304, 2)
    client.get("/users")  # rendered and kept again
    early = client.get("/users", headers={"If-None-Match": etag})
    assert (early.status_code, dispatches.count) == (304, 3)
    assert early.data == b""
    assert kept_headers(early) == kept_headers(by_flask)


def test_a_client_request_id_is_echoed(client, make_user, dispatches):
    make_user("ann")
    client.get("/users")
    again = client.get("/users", headers={"X-Request-ID": "edge-1234"})
    assert dispatches.count == 1
    assert again.headers["X-Request-ID"] == "edge-1234"


@pytest.mark.usefixtures("metrics_on")
def test_the_answer_is_logged_and_counted(client, make_user, admin_id, json_log, dispatches):  # noqa: F811
    make_user("ann")
    client.get("/users")
    before = requests_total(scrape(client), "users.index", status="304")
    etag = client.get("/users").headers["ETag"]
    client.get("/users", headers={"If-None-Match": etag, "X-Request-ID": "req-304"})
    assert dispatches.count == 2  # the render and the scrape
    assert requests_total(scrape(client), "users.index", status="304") == before + 1
    line = [line for line in request_lines(json_log) if line["request_id"] == "req-304"]
    assert len(line) == 1
    assert line[0]["status"] == 304
    assert line[0]["endpoint"] == "users.index"
    assert line[0]["path"] == "/users"
    assert line[0]["account_id"] == admin_id
    assert line[0]["db_statements"] == 1  # the data version, nothing else


def test_a_write_makes_flask_render_the_page_afresh(client, make_user, dispatches):
    make_user("ann")
    client.get("/users")
    make_user("bea")
    assert "bea" in client.get("/users").get_data(as_text=True)
    assert dispatches.count == 2


def test_another_session_never_gets_this_sessions_page(app, client, client_for, make_account, dispatches):
    client.get("/users")
    member = client_for(make_account("mia"))
    member.environ_base.pop("HTTP_AUTHORIZATION")
    settled(member)
    count = dispatches.count
    page = member.get("/users")
    assert dispatches.count == count + 1
    assert "Add user" not in page.get_data(as_text=True)  # the admin's page has that link


def test_a_forged_session_cookie_goes_to_flask(app, client, dispatches):
    client.get("/users")
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie.value[:-2] + "xx")
    response = client.get("/users")
    assert dispatches.count == 2
    assert response.status_code == 303  # an empty session: sign in first
    assert response.headers["Location"].startswith("/login")


def test_flashed_messages_go_to_flask(client, dispatches):
    client.get("/users")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Saved.")]
    assert "Saved." in client.get("/users").get_data(as_text=True)
    assert dispatches.count == 2


def test_an_untrusted_host_goes_to_flask(client, dispatches):
    client.get("/users")
    response = client.get("/users", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert dispatches.count == 2


@pytest.mark.parametrize("method", ["HEAD", "POST"])
def test_other_methods_go_to_flask(client, dispatches, method):
    client.get("/users")
    client.open("/users", method=method)
    assert dispatches.count == 2


def test_a_bearer_token_goes_to_flask_and_is_checked(app, client, admin_id, dispatches):
    token = new_token(app, admin_id)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    assert client.get("/api/users", headers=headers).status_code == 200
    assert client.get("/api/users", headers=headers).status_code == 200
    assert dispatches.count == 2
    with app.app_context():
        db.session.execute(db.text("UPDATE api_tokens SET revoked_at = CURRENT_TIMESTAMP"))
        db.session.commit()
    assert client.get("/api/users", headers=headers).status_code == 401


def test_a_remember_cookie_goes_to_flask(client, dispatches):
    client.get("/users")
    client.set_cookie("remember_token", "anything")
    client.get("/users")
    assert dispatches.count == 2


@sqlite_only  # snapshot mode serves a copy of a SQLite file
def test_snapshot_pages_are_answered_from_memory_before_flask(snapshot_app, monkeypatch):  # noqa: F811
    counted = Dispatches(snapshot_app, monkeypatch)
    client = snapshot_app.test_client()
    first = client.get("/users")
    again = client.get("/users")
    assert counted.count == 1
    assert again.data == first.data
    assert again.headers["Cache-Control"].startswith("public, max-age=")
    assert client.get("/users", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert counted.count == 1


def test_a_session_past_its_lifetime_is_not_answered(app, client, monkeypatch, dispatches):
    client.get("/users")
    assert client.get("/users").status_code == 200
    later = time.time() + app.permanent_session_lifetime.total_seconds() + 60
    monkeypatch.setattr(time, "time", lambda: later)  # for Flask's check of the cookie as well
    response = client.get("/users")
    assert dispatches.count == 2
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login")


def test_an_address_never_kept_costs_no_query_before_flask(app, client):
    with Statements(app) as sent:
        response = client.get("/static/style.css")
        response.close()  # a file sent as is
    assert response.status_code == 200
    assert sent == []  # neither the fast path nor Flask asked for the data version


def test_a_miss_passed_on_to_flask_reads_the_version_once(app, client, make_user, dispatches):
    client.get("/users")  # kept for this session: the fast path asks for the version next time
    make_user("bea")  # a new version: what was kept no longer matches
    with Statements(app) as sent:
        assert "bea" in client.get("/users").get_data(as_text=True)
    assert dispatches.count == 2
    assert sent.count(SELECT_VERSION) == 1  # Flask's path used the version the fast path read


def test_another_readers_page_costs_no_query_before_flask(app, client, client_for, make_account):
    client.get("/users")  # kept for the admin's session only
    member = client_for(make_account("mia"))
    member.environ_base.pop("HTTP_AUTHORIZATION")
    settled(member)
    with Statements(app) as sent:
        assert member.get("/users").status_code == 200
    assert sent.count(SELECT_VERSION) == 1
