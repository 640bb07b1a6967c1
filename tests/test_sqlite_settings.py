"""SQLite done right: pragmas per connection, BEGIN IMMEDIATE for writers, several processes at once."""

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError

from myapp import create_app
from myapp.database import ConnectionSettings, TransactionBegin, write_intent
from myapp.extensions import db
from myapp.models import RowCount, User

from .conftest import admin_client, csrf_token, sqlite_only
from .file_app import file_config, make_file_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def file_app(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = make_file_app(tmp_path / "app.db", SQLITE_CACHE_SIZE=-32000)
    yield app
    with app.app_context():
        db.engine.dispose()


def has_connection_settings(engine):
    return any(isinstance(listener, ConnectionSettings) for listener in engine.pool.dispatch.connect)


def statements_during(app, action):
    """Every SQL statement the app's engine sends while action() runs."""
    sent = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, *args):
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return sent


@sqlite_only
def test_pragmas_are_in_force_on_every_connection(file_app):
    with file_app.app_context():
        for _ in range(2):  # two separate pooled connections
            with db.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
                assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -32000
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
                assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == 2  # MEMORY


@sqlite_only
def test_synchronous_full_is_configurable(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = make_file_app(tmp_path / "full.db", SQLITE_SYNCHRONOUS="FULL")
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    with app.app_context():
        assert has_connection_settings(db.engine)  # what the PostgreSQL test expects absent
        db.engine.dispose()


@sqlite_only
def test_form_post_begins_immediate_and_pages_begin_deferred(file_app):
    client = admin_client(file_app)
    token = csrf_token(client, "/users/new")
    sent = statements_during(
        file_app,
        lambda: client.post("/users/new", data={"username": "ann", "email": "a@x.org", "csrf_token": token}),
    )
    assert sent[0] == "BEGIN IMMEDIATE"
    assert any(s.startswith("INSERT INTO users") for s in sent)
    read = statements_during(file_app, lambda: client.get("/users"))
    assert read[0] == "BEGIN" and "BEGIN IMMEDIATE" not in read


@sqlite_only
def test_foreign_keys_cascade_in_the_database(file_app):
    with file_app.app_context():
        db.session.execute(
            text(
                "INSERT INTO users (id, username, email, post_count, version, created_at, "
                "updated_at) VALUES (7, 'x', 'x@x.org', 0, 1, '2026-01-01', '2026-01-01')"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO posts (title, body, user_id, version, created_at, updated_at) "
                "VALUES ('t', '', 7, 1, '2026-01-01', '2026-01-01')"
            )
        )
        db.session.execute(text("DELETE FROM users WHERE id = 7"))
        assert db.session.scalar(text("SELECT count(*) FROM posts")) == 0
        db.session.rollback()


@sqlite_only
@pytest.mark.slow
def test_processes_doing_read_then_write_never_see_database_is_locked(file_app, tmp_path):
    workers, iterations = 6, 60
    with file_app.app_context():
        db.session.add(RowCount(name="race", n=0))
        db.session.commit()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.rw_worker", str(tmp_path / "app.db"), str(w), str(iterations)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={"PATH": "/usr/bin:/bin", "INSTANCE_PATH": str(tmp_path / "instance")},
        )
        for w in range(workers)
    ]
    outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    assert all("database is locked" not in out for out in outputs), outputs
    assert [out.strip().splitlines()[-1] for out in outputs] == [f"ok {iterations}"] * workers, outputs
    with file_app.app_context():
        assert db.session.scalar(select(RowCount.n).where(RowCount.name == "race")) == workers * iterations
        assert db.session.scalar(select(func.count()).select_from(User)) == workers * iterations


def test_no_sqlite_listener_on_a_postgresql_engine(tmp_path, monkeypatch):
    """Creating the engine does not connect, so this runs without a PostgreSQL server."""
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    config = type(
        "PgConfig",
        (file_config(tmp_path / "unused.db"),),
        {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"},
    )
    app = create_app(config)
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"
        assert not any(isinstance(listener, TransactionBegin) for listener in db.engine.dispatch.begin)
        assert not has_connection_settings(db.engine)  # no PRAGMA-sending connect listener


WRITES = [
    # (method, url, form data or JSON, expected status). User 1 is the signed-in admin; user 2
    # and post 1 exist after the first two.
    ("form", "/users/new", {"username": "ann", "email": "ann@x.org"}, 303),
    ("form", "/posts/new", {"title": "Hi", "body": "", "user_id": "2"}, 303),
    (
        "form",
        "/users/2/edit",
        {"username": "ann2", "email": "ann@x.org", "role": "member", "version": "1"},
        303,
    ),
    ("form", "/posts/1/edit", {"title": "Hi2", "body": "", "user_id": "2", "version": "1"}, 303),
    ("json", "/api/users", {"username": "bob", "email": "bob@x.org"}, 201),
    ("json", "/users", {"username": "cat", "email": "cat@x.org"}, 201),  # the article's call
    ("json", "/api/posts", {"title": "Yo", "user_id": 2}, 201),
    ("patch", "/api/users/2", {"email": "ann@y.org"}, 200),
    ("patch", "/api/posts/1", {"title": "Hi3"}, 200),
    ("delete", "/api/posts/2", None, 204),
    ("form", "/posts/1/delete", {}, 303),
    ("form", "/users/2/delete", {}, 303),
    ("delete", "/api/users/3", None, 204),
]


def send(client, kind, url, data):
    if kind == "form":
        return client.post(url, data={**data, "csrf_token": csrf_token(client, url)})
    if kind == "json":
        return client.post(url, json=data)
    if kind == "patch":
        return client.patch(url, json=data)
    return client.delete(url)


@sqlite_only
def test_each_write_request_takes_the_write_lock_once(file_app):
    """Reading a row back after its commit must not open a second BEGIN IMMEDIATE."""
    client = admin_client(file_app)
    client.get("/api/users")  # the token's first use is recorded by a read, not by the writes below
    for kind, url, data, status in WRITES:
        responses = []
        sent = statements_during(file_app, lambda: responses.append(send(client, kind, url, data)))  # noqa: B023
        assert responses[0].status_code == status, (url, responses[0].get_data(as_text=True)[:300])
        assert sent.count("BEGIN IMMEDIATE") == 1, (url, sent)


def hold_write_lock(path, seconds, released):
    """Another connection takes the write lock now and lets go after seconds (released gets the
    time): a thread, so that this one can wait for the lock meanwhile."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")

    def let_go():
        time.sleep(seconds)
        other.execute("COMMIT")
        released.append(time.monotonic())
        other.close()

    thread = threading.Thread(target=let_go)
    thread.start()
    return thread


@sqlite_only
def test_a_writer_gets_the_lock_soon_after_another_lets_go(tmp_path, monkeypatch):
    # SQLite's own wait (busy_timeout) naps longer and longer, 100 ms at a time in the end: after
    # 450 ms of waiting it would try again only at 528 ms. Ours tries every few milliseconds.
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    path = tmp_path / "app.db"
    app = make_file_app(path)
    released = []
    thread = hold_write_lock(str(path), 0.45, released)
    try:
        with app.app_context(), write_intent():
            started = time.monotonic()
            db.session.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: waits for the lock
            got_it = time.monotonic()
            db.session.rollback()
    finally:
        thread.join()
        with app.app_context():
            db.engine.dispose()
    assert got_it - started >= 0.44  # it did wait for the other writer
    assert got_it - released[0] < 0.04


@sqlite_only
def test_the_wait_for_the_write_lock_ends_at_busy_timeout(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    path = tmp_path / "app.db"
    app = make_file_app(path, SQLITE_BUSY_TIMEOUT_MS=200)
    released = []
    thread = hold_write_lock(str(path), 1.0, released)
    try:
        with app.app_context():
            with write_intent():
                started = time.monotonic()
                with pytest.raises(OperationalError, match="database is locked"):
                    db.session.execute(text("SELECT 1"))
                waited = time.monotonic() - started
                db.session.rollback()
            # The connection waits as configured again for anything else it runs (a read).
            assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 200
            db.session.rollback()
    finally:
        thread.join()
        with app.app_context():
            db.engine.dispose()
    assert 0.19 <= waited < 0.6
    assert not released or released[0] - started >= 0.9  # the error came long before the other let go
