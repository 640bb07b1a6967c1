"""Racing creates of one username against a real threaded server: one 201, every other a 409."""

import http.client
import json
import threading

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from config import TestingConfig
from myapp import create_app
from myapp.extensions import db
from myapp.models import User

from .conftest import ADMIN, NOT_ADMIN, ON_POSTGRES, add_account, new_token

RACERS = 8


@pytest.fixture
def server(tmp_path, monkeypatch):
    """The app on a werkzeug server with a thread per request, on 127.0.0.1 and a free port.

    SQLite: a temporary database file, so that each thread has its own connection, as in
    production. PostgreSQL: the test database (TestingConfig reads TEST_DATABASE_URL).
    """
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))

    class FileConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'race.db'}"

    app = create_app(TestingConfig if ON_POSTGRES else FileConfig)
    with app.app_context():
        db.create_all()
    token = new_token(app, add_account(app, ADMIN, role="admin"))
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield app, httpd.server_port, token
    httpd.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def post_json(port, token, path, body):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    try:
        connection.request("POST", path, json.dumps(body), headers)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), json.loads(response.read())
    finally:
        connection.close()


def race(port, token, path, bodies):
    """Send every body at once, one thread each, and collect the answers."""
    barrier = threading.Barrier(len(bodies))
    answers = []

    def run(body):
        barrier.wait(timeout=30)
        answers.append(post_json(port, token, path, body))

    threads = [threading.Thread(target=run, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == len(bodies)
    return answers


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/api/users", "/users"])
@pytest.mark.parametrize("field", ["username", "email"])
def test_racing_creates_one_wins_the_rest_get_409(server, path, field):
    app, port, token = server
    if field == "username":  # one name in two spellings: unique ignoring case
        bodies = [
            {"username": "racer" if i % 2 else "RACER", "email": f"r{i}@example.com"} for i in range(RACERS)
        ]
    else:
        bodies = [{"username": f"racer{i}", "email": "racer@example.com"} for i in range(RACERS)]
    answers = race(port, token, path, bodies)
    statuses = sorted(status for status, _type, _body in answers)
    assert statuses == [201] + [409] * (RACERS - 1)
    for status, content_type, body in answers:
        assert content_type == "application/json"
        if status == 409:
            assert body["error"]["code"] == "taken" and list(body["error"]["fields"]) == [field]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(NOT_ADMIN)) == 1
