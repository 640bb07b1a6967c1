"""APP_CONFIG=snapshot: reads come from an in-memory copy, every write answers 403."""

import json
import sqlite3
import threading

import pytest

from myapp import create_app
from myapp.extensions import db
from myapp.models import User

from .conftest import sqlite_only
from .file_app import add_users, snapshot_app_over
from .http_client import FormClient
from .procs import Gunicorn, app_env, migrated_database

pytestmark = sqlite_only


@pytest.fixture
def snapshot_app(file_app, tmp_path, monkeypatch):
    """A snapshot-mode app over file_app's database, which holds alice (with a post) and bob."""
    add_users(file_app, "alice", posts=1)
    add_users(file_app, "bob")
    yield from snapshot_app_over(file_app, monkeypatch)


def test_reads_come_from_memory_not_the_file(snapshot_app, file_app):
    client = snapshot_app.test_client()
    assert "alice" in client.get("/users").get_data(as_text=True)
    add_users(file_app, "carol")  # written to the file after the snapshot was taken
    html = client.get("/users").get_data(as_text=True)
    assert "alice" in html and "bob" in html and "carol" not in html


def test_reads_work_from_many_threads(snapshot_app):
    # flask run serves each request on its own thread; a per-thread memory database would be empty.
    client, statuses = snapshot_app.test_client(), []

    def read():
        response = client.get("/users")
        statuses.append((response.status_code, "alice" in response.get_data(as_text=True)))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [(200, True)] * 8


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users/new"),
        ("GET", "/add"),
        ("POST", "/users/new"),
        ("GET", "/users/1/edit"),
        ("POST", "/users/1/edit"),
        ("GET", "/users/1/delete"),
        ("POST", "/users/1/delete"),
        ("GET", "/posts/new"),
        ("POST", "/posts/new"),
        ("GET", "/posts/1/edit"),
        ("POST", "/posts/1/delete"),
    ],
)
def test_every_write_path_answers_403_with_a_page(snapshot_app, method, path):
    response = snapshot_app.test_client().open(path, method=method, data={"username": "x"})
    assert response.status_code == 403
    assert "read-only snapshot" in response.get_data(as_text=True)


def test_api_writes_answer_403_in_json(snapshot_app):
    response = snapshot_app.test_client().post("/api/users", json={"username": "x", "email": "x@example.com"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert "read-only snapshot" in response.get_json()["error"]["message"]


def test_nothing_is_written_to_the_file(snapshot_app, file_app):
    snapshot_app.test_client().post("/users/1/delete")
    snapshot_app.test_client().post("/users/new", data={"username": "eve", "email": "eve@example.com"})
    conn = sqlite3.connect(file_app.config["DB_PATH"])
    assert {name for (name,) in conn.execute("SELECT username FROM users")} == {"alice", "bob"}
    conn.close()


def test_pages_hide_the_controls_that_write(snapshot_app):
    client = snapshot_app.test_client()
    for path in ("/users", "/users/1", "/posts", "/posts/1", "/stats"):
        html = client.get(path).get_data(as_text=True)
        assert "read-only snapshot" in html
        for control in ("/users/new", "/posts/new", "/edit", "/delete"):
            assert control not in html, f"{path} shows a link to {control}"


def test_healthz_reports_the_mode_and_when_the_snapshot_was_taken(snapshot_app):
    body = snapshot_app.test_client().get("/healthz").get_json()
    assert body["status"] == "ok" and body["mode"] == "snapshot"
    assert body["snapshot_taken_at"].endswith("+00:00")


def test_healthz_says_read_write_outside_snapshot_mode(client):
    body = client.get("/healthz").get_json()
    assert body["mode"] == "read-write" and "snapshot_taken_at" not in body


def test_no_file_is_made_for_the_memory_database(snapshot_app, tmp_path):
    snapshot_app.test_client().get("/users")
    names = {p.name for p in tmp_path.rglob("*")}
    assert not [name for name in names if "snapshot" in name or "memory" in name], names


def test_a_database_url_that_is_not_a_sqlite_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "k")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(ValueError, match="set DATABASE_URL to one"):
        create_app("snapshot")


@pytest.mark.slow
def test_gunicorn_workers_serve_their_copy_after_the_file_is_gone(tmp_path):
    db_path = migrated_database(tmp_path)
    conn = sqlite3.connect(db_path)
    conn.execute(
        "INSERT INTO users (username, email, post_count, version, created_at, updated_at) "
        "VALUES ('alice', 'alice@example.com', 0, 1, '2024-01-01', '2024-01-01')"
    )
    conn.commit()
    conn.close()
    env = app_env(db_path, tmp_path / "instance", APP_CONFIG="snapshot")
    server = Gunicorn(env, tmp_path / "gunicorn.log", workers=2)
    try:
        assert server.text().count("snapshot of") == 2  # each worker made its copy at boot
        away = tmp_path / "moved"
        away.mkdir()
        for path in tmp_path.glob("app.db*"):
            path.rename(away / path.name)
        browser = FormClient(server.address)
        for _ in range(10):  # enough to reach both workers
            status, _h, html = browser.get("/users")
            assert status == 200 and "alice" in html
        status, _h, body = browser.get("/healthz")
        assert status == 200 and json.loads(body)["mode"] == "snapshot"
        assert browser.request("POST", "/users/new", {"username": "bob", "email": "b@example.com"})[0] == 403
        assert browser.get("/users/new")[0] == 403
    finally:
        server.stop()
    assert "Traceback" not in server.text()
    assert not list(tmp_path.glob("app.db*"))  # nothing recreated the file


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/users", {"username": "eve", "email": "eve@example.com"}),
        ("patch", "/api/users/1", {"username": "eve"}),
        ("delete", "/api/users/1", None),
        ("post", "/api/posts", {"title": "t", "user_id": 1}),
        ("patch", "/api/posts/1", {"title": "t"}),
        ("delete", "/api/posts/1", None),
        ("post", "/users", {"username": "eve", "email": "eve@example.com"}),  # the article's call
    ],
)
def test_api_writes_are_refused_with_json(snapshot_app, fetch_users_from, method, path, body):
    response = getattr(snapshot_app.test_client(), method)(path, json=body)
    assert response.status_code == 403
    assert response.is_json and response.get_json()["error"]["code"] == "forbidden"
    assert "read-only snapshot" in response.get_json()["error"]["message"]
    assert fetch_users_from(snapshot_app) == ["alice", "bob"]


def test_api_reads_work_in_snapshot_mode(snapshot_app):
    response = snapshot_app.test_client().get("/api/users")
    assert response.status_code == 200
    assert [item["username"] for item in response.get_json()["items"]] == ["alice", "bob"]


@pytest.fixture
def fetch_users_from():
    def fetch(app):
        with app.app_context():
            return list(db.session.scalars(db.select(User.username).order_by(User.username)))

    return fetch


def test_snapshot_mode_has_no_sign_in_and_shows_no_emails(snapshot_app):
    """Everyone reads a snapshot as an anonymous visitor of a public site (SPEC §11)."""
    client = snapshot_app.test_client()
    for path in ("/login", "/account", "/account/tokens"):
        assert client.get(path).status_code == 404, path
    for path in ("/users", "/users/1", "/users.csv", "/api/users", "/api/users/1"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "@example.com" not in response.get_data(as_text=True), path
    assert "Sign in" not in client.get("/users").get_data(as_text=True)
