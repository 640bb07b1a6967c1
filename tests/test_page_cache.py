"""The rendered-page cache (SPEC §14): a page asked again at the same data version, by the same
session, comes from memory; nothing that belongs to one request or one session leaks into another."""

import re

import pytest

from myapp.conditional import MAX_PAGE_BYTES
from myapp.conditional.page_cache import PageCache
from myapp.extensions import db

from .conftest import CSRF_INPUT, csrf_token, sqlite_only
from .file_app import add_users, snapshot_app_over
from .test_conditional import SELECT_VERSION, Statements, etag, settled

SIGN_OUT_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def client(client):
    client.environ_base.pop("HTTP_AUTHORIZATION")  # pages, as a browser reads them: the session
    return settled(client)


def page_statements(app, client, url, **kwargs):
    with Statements(app) as sent:
        response = client.open(url, **kwargs)
    return response, [s for s in sent if s != "BEGIN"]


def test_a_page_asked_again_comes_from_memory(app, client, make_user):
    make_user("ann", posts=2)
    first, sent = page_statements(app, client, "/users")
    assert len(sent) > 2  # the version, the account, the page's own
    again, sent = page_statements(app, client, "/users")
    assert sent == [SELECT_VERSION]  # not even the account is loaded
    assert again.data == first.data
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["X-Request-ID"] != first.headers["X-Request-ID"]  # per request, never kept
    assert again.headers["Cache-Control"] == "private, no-cache"
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]


def test_a_write_makes_the_page_afresh(client, make_user):
    make_user("ann")
    assert "bea" not in client.get("/users").get_data(as_text=True)
    make_user("bea")
    assert "bea" in client.get("/users").get_data(as_text=True)


def test_a_pending_flash_is_shown_once_and_never_kept(client, make_user):
    make_user("ann")
    kept = client.get("/users").data
    with client.session_transaction() as session:  # e.g. from a write whose redirect went elsewhere
        session["_flashes"] = [("success", "Something happened.")]
    shown = client.get("/users")
    assert "Something happened." in shown.get_data(as_text=True)
    assert "ETag" not in shown.headers  # it changed the session (the flash is gone from it)
    assert "Something happened." not in client.get("/users").get_data(as_text=True)
    assert client.get("/users").data == kept  # the kept page, as before


def test_the_kept_pages_csrf_token_is_the_sessions(client, make_user):
    """A page from memory carries a CSRF token that this session's forms accept."""
    make_user("ann")
    client.get("/users")
    html = client.get("/users").get_data(as_text=True)  # from memory
    token = SIGN_OUT_TOKEN.search(html).group(1)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert client.get("/users").status_code == 303  # signed out


def test_another_session_of_the_same_account_never_gets_this_ones_page(app, client, client_for, admin_id):
    page = client.get("/users").get_data(as_text=True)
    other = settled(client_for(admin_id, token=False))
    other_page = other.get("/users").get_data(as_text=True)
    assert SIGN_OUT_TOKEN.search(page).group(1) != SIGN_OUT_TOKEN.search(other_page).group(1)


def test_a_response_that_sets_a_cookie_is_not_kept(app, anon_client, make_account):
    """A session's first form makes its CSRF token: that response sets the cookie, and is not kept."""
    make_account("mia")
    app.config["READ_ACCESS"] = "public"
    first = anon_client.get("/login")  # no-store anyway; and /users after it:
    assert "Set-Cookie" in first.headers
    response, sent = page_statements(app, anon_client, "/users")
    assert "Set-Cookie" not in response.headers
    _again, sent = page_statements(app, anon_client, "/users")
    assert sent == [SELECT_VERSION]


def test_error_pages_are_not_kept(app, client):
    for _ in range(2):
        response, sent = page_statements(app, client, "/users/999")
        assert response.status_code == 404
        assert len(sent) > 1


def test_head_is_answered_from_a_gets_entry(app, client, make_user):
    make_user("ann")
    get = client.get("/users")
    head, sent = page_statements(app, client, "/users", method="HEAD")
    assert sent == [SELECT_VERSION]
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]


def test_json_and_html_are_kept_apart(client, make_user):
    make_user("ann")
    html, json = client.get("/users"), client.get("/users", headers={"Accept": "application/json"})
    assert client.get("/users").data == html.data
    assert client.get("/users", headers={"Accept": "application/json"}).get_json() == json.get_json()


def test_api_reads_with_a_token_are_kept_too(app, client_for, admin_id, make_user):
    make_user("ann")
    api = client_for(admin_id)
    first = api.get("/api/users")
    _again, sent = page_statements(app, api, "/api/users")
    assert len(sent) == 2 and "api_tokens" in sent[0] and sent[1] == SELECT_VERSION  # the token, checked
    assert _again.get_json() == first.get_json()


def test_the_csv_export_gets_an_etag_but_is_not_kept(app, client, make_user):
    make_user("ann")
    first = client.get("/users.csv")
    assert "ann" in first.get_data(as_text=True)
    response, sent = page_statements(app, client, "/users.csv")
    assert response.headers["ETag"] == first.headers["ETag"]
    assert len(sent) > 1  # streamed: made afresh


def test_the_cache_is_bounded(app, client, make_user, monkeypatch):
    make_user("ann")
    room = 3 * len(client.get("/users").data)  # PAGE_CACHE_BYTES: room for about three pages
    monkeypatch.setattr(app.extensions["conditional"], "cache", PageCache(room, MAX_PAGE_BYTES))
    client.get("/users")
    for n in range(1, 6):
        client.get(f"/users?per_page={n}")
    entries = app.extensions["conditional"].cache.entries
    assert 0 < len(entries) <= 3 and entries.currsize <= room
    _response, sent = page_statements(app, client, "/users")  # the first one, pushed out since
    assert len(sent) > 1


def test_no_cache_at_all_still_answers_304(app, client, make_user, monkeypatch):
    make_user("ann")
    monkeypatch.setattr(app.extensions["conditional"], "cache", PageCache(0, MAX_PAGE_BYTES))
    tag = etag(client.get("/users"))
    _response, sent = page_statements(app, client, "/users")
    assert len(sent) > 1
    assert client.get("/users", headers={"If-None-Match": tag}).status_code == 304


def test_a_stale_session_gets_no_kept_page(app, client, make_user):
    """Signed out elsewhere (a new password) after the page was kept: the next read signs in."""
    make_user("ann")
    client.get("/users")
    result = app.test_cli_runner().invoke(
        args=["create-admin", "root", "root@example.com", "--password-stdin"], input="another long phrase\n"
    )
    assert result.exit_code == 0
    response = client.get("/users")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")


def test_a_refusal_is_never_kept_for_the_next_reader(app, client, client_for, make_account, make_user):
    """Pages whose view refuses one reader (activity: admins only) are kept per reader."""
    member = settled(client_for(make_account("mia"), token=False))
    assert client.get("/activity").status_code == 200
    assert client.get("/activity").status_code == 200  # kept for the admin
    assert member.get("/activity").status_code == 403
    assert member.get("/activity").status_code == 403


# Snapshot mode: the data cannot change, so no query at all.


@pytest.fixture
def snapshot(file_app, monkeypatch):
    add_users(file_app, "alice", posts=1)
    yield from snapshot_app_over(file_app, monkeypatch, SNAPSHOT_MAX_AGE="120")


@sqlite_only
def test_snapshot_pages_come_from_memory_with_no_query(snapshot):
    client = snapshot.test_client()
    first = client.get("/users")
    assert "alice" in first.get_data(as_text=True)
    assert first.headers["Cache-Control"] == "public, max-age=120"
    again, sent = page_statements(snapshot, client, "/users")
    assert sent == []
    assert again.data == first.data and again.headers["Cache-Control"] == "public, max-age=120"
    not_modified, sent = page_statements(snapshot, client, "/users", headers={"If-None-Match": etag(first)})
    assert not_modified.status_code == 304 and sent == []
    assert not_modified.headers["Cache-Control"] == "public, max-age=120"
    # A page not kept yet: its own queries, but the version is not read again.
    _posts, sent = page_statements(snapshot, client, "/posts")
    assert SELECT_VERSION not in sent


@sqlite_only
def test_snapshot_tags_are_the_same_in_every_worker(snapshot, file_app, monkeypatch):
    """Two processes serving copies of one file give the same ETags (a client may reach either)."""
    from myapp import create_app

    other = create_app("snapshot")
    try:
        assert etag(snapshot.test_client().get("/users")) == etag(other.test_client().get("/users"))
    finally:
        with other.app_context():
            db.engine.dispose()


@sqlite_only
def test_snapshot_write_pages_still_answer_403(snapshot):
    client = snapshot.test_client()
    for _ in range(2):
        assert client.get("/users/new").status_code == 403


def test_csrf_input_regex_matches_the_forms(client):
    """(The helper this file shares with conftest finds the form token on a kept page too.)"""
    client.get("/users/new")
    assert CSRF_INPUT.search(client.get("/users/new").get_data(as_text=True))
    assert csrf_token(client, "/users/new")


# On a SQLite file the version is read on a connection of the thread's own (data_version.Reader).


@pytest.fixture
def file_client(file_app):
    from .conftest import admin_client

    client = admin_client(file_app)
    client.environ_base.pop("HTTP_AUTHORIZATION")
    return settled(client)


@sqlite_only
def test_a_write_by_another_worker_shows_at_once(file_app, file_client, tmp_path, monkeypatch):
    from myapp import create_app

    assert "alice" not in file_client.get("/users").get_data(as_text=True)
    file_client.get("/users")  # kept
    monkeypatch.setenv("TEST_DATABASE_URL", f"sqlite:///{file_app.config['DB_PATH']}")
    other_worker = create_app("testing")
    try:
        add_users(other_worker, "alice")
    finally:
        with other_worker.app_context():
            db.engine.dispose()
    assert "alice" in file_client.get("/users").get_data(as_text=True)


@sqlite_only
def test_a_restore_never_serves_a_page_kept_before_it(file_app, file_client, tmp_path):

    runner = file_app.test_cli_runner()
    add_users(file_app, "alice")
    assert runner.invoke(args=["backup", str(tmp_path / "backup.db")]).exit_code == 0
    add_users(file_app, "carol")
    tag = etag(file_client.get("/users"))
    assert "carol" in file_client.get("/users").get_data(as_text=True)  # kept
    result = runner.invoke(args=["restore", str(tmp_path / "backup.db")])
    assert result.exit_code == 0, result.output
    response = file_client.get("/users", headers={"If-None-Match": tag})
    assert response.status_code == 200
    assert "carol" not in response.get_data(as_text=True) and "alice" in response.get_data(as_text=True)


def test_a_kept_page_and_a_304_are_logged_for_the_sessions_account(app, client, admin_id, make_user):
    """The request log names the account though it was never loaded (one line each, as always)."""
    import io
    import json
    import logging

    from myapp.observability.requestlog import install_json_logging

    make_user("ann")
    tag = etag(client.get("/users"))
    stream, root = io.StringIO(), logging.getLogger()
    level, handler = root.level, install_json_logging(app, stream)
    try:
        assert client.get("/users").status_code == 200  # from memory
        assert client.get("/users", headers={"If-None-Match": tag}).status_code == 304
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    lines = [line for line in lines if line["logger"] == "myapp.request"]
    assert [(line["status"], line["account_id"], line["endpoint"]) for line in lines] == [
        (200, admin_id, "users.index"),
        (304, admin_id, "users.index"),
    ]
