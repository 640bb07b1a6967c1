"""SPEC §15 in one process: a deadlock or serialization failure is retried (the whole view) and
then answered 409, a database that stops answering is a 503, an /api error is JSON even when it
happens as the request's transaction is closed, and kept totals are the sum of their shards."""

import json

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from werkzeug.test import EnvironBuilder

from myapp import transactions
from myapp.counters import totals
from myapp.database import postgresql_engine_options
from myapp.extensions import db
from myapp.models import Post, RowCount

from .conftest import ON_POSTGRES, csrf_token
from .test_api_users import error_of


class FakeDriverError(Exception):
    """What psycopg raises, as far as the app looks at it: an SQLSTATE."""

    def __init__(self, sqlstate):
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def failing_commit(monkeypatch, module, sqlstate, times):
    """Make `module`'s commit() fail `times` times with `sqlstate`, then commit for real."""
    calls = []

    def commit():
        calls.append(sqlstate)
        if len(calls) <= times:
            raise OperationalError("COMMIT", {}, FakeDriverError(sqlstate))
        transactions.commit()

    monkeypatch.setattr(f"{module}.commit", commit)
    return calls


def post_rows(fetch):
    return fetch(select(func.count()).select_from(Post))[0][0]


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_deadlock_is_retried_and_the_write_happens_once(client, make_user, fetch, monkeypatch, sqlstate):
    user_id = make_user("alice")
    calls = failing_commit(monkeypatch, "myapp.api.posts", sqlstate, times=2)
    response = client.post("/api/posts", json={"title": "Hello", "user_id": user_id})
    assert response.status_code == 201, response.get_json()
    assert len(calls) == 3
    assert post_rows(fetch) == 1  # the aborted attempts left nothing behind
    with client.application.app_context():
        assert totals()["posts"] == 1


def test_a_write_that_keeps_deadlocking_is_409_json_and_saves_nothing(client, make_user, fetch, monkeypatch):
    user_id = make_user("alice")
    calls = failing_commit(monkeypatch, "myapp.api.posts", "40P01", times=99)
    error = error_of(client.post("/api/posts", json={"title": "Hello", "user_id": user_id}), 409, "conflict")
    assert "try again" in error["message"]
    assert len(calls) == transactions.ATTEMPTS
    assert post_rows(fetch) == 0


def test_a_form_that_keeps_deadlocking_is_a_409_page(client, make_user, monkeypatch):
    user_id = make_user("alice")
    failing_commit(monkeypatch, "myapp.posts.views", "40P01", times=99)
    token = csrf_token(client, "/posts/new")
    response = client.post(
        "/posts/new", data={"title": "Hi", "body": "", "user_id": user_id, "csrf_token": token}
    )
    assert response.status_code == 409
    assert response.mimetype == "text/html"
    assert "nothing was saved" in response.get_data(as_text=True)


def test_other_database_errors_are_not_retried(client, make_user, monkeypatch):
    user_id = make_user("alice")
    calls = failing_commit(monkeypatch, "myapp.api.posts", "57P01", times=99)  # admin_shutdown
    response = client.post("/api/posts", json={"title": "Hello", "user_id": user_id})
    error_of(response, 503, "service_unavailable")
    assert response.headers["Retry-After"] == "1"
    assert len(calls) == 1


def test_a_lost_database_is_a_503_page(client, make_user, monkeypatch):
    user_id = make_user("alice")
    failing_commit(monkeypatch, "myapp.users.views", "57P01", times=99)
    token = csrf_token(client, f"/users/{user_id}/delete")
    response = client.post(f"/users/{user_id}/delete", data={"csrf_token": token})
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "not answering" in response.get_data(as_text=True)


def test_a_dropped_connection_at_the_end_of_a_request_does_not_fail_it(app, client, monkeypatch):
    """The teardown's ROLLBACK on a connection the database closed: the answer stands."""

    def dead_connection():
        raise OperationalError("ROLLBACK", {}, FakeDriverError("57P01"))

    monkeypatch.setattr(db.session, "close", dead_connection, raising=False)
    response = client.get("/api/users")
    assert response.status_code == 200
    assert [u["username"] for u in response.get_json()["items"]] == ["root"]  # the admin asking


def call_wsgi(app, path):
    """Call the app as gunicorn does: start_response may be called again with exc_info until the
    headers are sent (PEP 3333; werkzeug's test client re-raises instead)."""
    answers = []

    def start_response(status, headers, exc_info=None):
        answers.append((status, dict(headers)))

    body = b"".join(app.wsgi_app(EnvironBuilder(path=path).get_environ(), start_response))
    return answers[-1], body


def test_an_error_after_the_api_answered_is_json(app):
    """Anything that escapes Flask's error handlers (raised while the request context is torn
    down) answers an /api path with JSON, never gunicorn's HTML page."""

    def teardown_fails(_error):
        raise RuntimeError("the connection went away during teardown")

    app.teardown_appcontext_funcs.insert(0, teardown_fails)
    try:
        (status, headers), body = call_wsgi(app, "/api/users")
        with pytest.raises(RuntimeError):
            call_wsgi(app, "/users")  # pages are not the API's business: the server's 500 page
    finally:
        app.teardown_appcontext_funcs.remove(teardown_fails)
    assert status.startswith("503 ")
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "service_unavailable"


def test_totals_are_the_sum_of_their_shards(app, client, runner, make_user):
    make_user("alice", posts=2)
    with app.app_context():
        # Shift the counts between shards, as workers of several servers would have written them.
        kept = totals()
        db.session.execute(text("DELETE FROM row_counts"))
        db.session.add_all(
            [
                RowCount(name="posts", n=kept["posts"] - 5),
                RowCount(name="posts:3", n=2),
                RowCount(name="posts:15", n=3),
                RowCount(name="users:7", n=kept["users"]),
            ]
        )
        db.session.flush()
        db.session.commit()
        assert totals() == {"users": 2, "posts": 2}  # alice and the signed-in admin
    assert "2 posts" in client.get("/posts").get_data(as_text=True)
    result = runner.invoke(args=["check-db"])
    assert result.exit_code == 0, result.output


def test_postgresql_engine_options_come_from_the_config():
    config = {
        "DB_POOL_SIZE": 3,
        "DB_MAX_OVERFLOW": 2,
        "DB_POOL_TIMEOUT": 10,
        "DB_CONNECT_TIMEOUT": 4,
        "DB_STATEMENT_TIMEOUT_MS": 15000,
        "DB_LOCK_TIMEOUT_MS": 5000,
        "DB_IDLE_IN_TRANSACTION_TIMEOUT_MS": 60000,
    }
    options = postgresql_engine_options(config)
    assert options["pool_pre_ping"] is True
    assert (options["pool_size"], options["max_overflow"]) == (3, 2)
    assert options["connect_args"] == {
        "connect_timeout": 4,
        "options": "-c statement_timeout=15000 -c lock_timeout=5000"
        " -c idle_in_transaction_session_timeout=60000 -c jit=off",
    }


@pytest.mark.skipif(not ON_POSTGRES, reason="the PostgreSQL engine options; SQLite has its own settings")
def test_each_postgresql_connection_has_the_timeouts_and_a_checked_pool(app):
    with app.app_context():
        assert db.engine.pool._pre_ping is True
        assert db.engine.pool.size() == app.config["DB_POOL_SIZE"]
        settings = {
            name: db.session.scalar(text(f"SHOW {name}"))
            for name in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "jit")
        }
    assert settings == {
        "statement_timeout": "15s",
        "lock_timeout": "5s",
        "idle_in_transaction_session_timeout": "1min",
        "jit": "off",
    }


@pytest.mark.skipif(ON_POSTGRES, reason="checks that SQLite gets none of the PostgreSQL pool options")
def test_sqlite_gets_no_postgresql_options(app):
    assert not app.config.get("SQLALCHEMY_ENGINE_OPTIONS")
