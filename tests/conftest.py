"""Fixtures: a fresh app and database per test, a client, a CLI runner, and data makers.

No app context is held open for the whole test: each block that touches the database pushes
its own, as a request would.
"""

import os
import re

import pytest
from sqlalchemy import select

from myapp import create_app
from myapp.extensions import db
from myapp.models import Post, User

ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")
sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="exercises SQLite itself; this run is on PostgreSQL")


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app("testing")
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """Add a user through the ORM and return its id."""
    counter = iter(range(1, 10**6))

    def make(username=None, email=None, posts=0):
        n = next(counter)
        username = username or f"user{n}"
        with app.app_context():
            user = User(username=username, email=email or f"{username}@example.com")
            db.session.add(user)
            db.session.flush()
            db.session.add_all(Post(title=f"Post {i} by {username}", user_id=user.id) for i in range(posts))
            db.session.commit()
            return user.id

    return make


@pytest.fixture
def make_post(app):
    def make(user_id, title="A post", body=""):
        with app.app_context():
            post = Post(title=title, body=body, user_id=user_id)
            db.session.add(post)
            db.session.commit()
            return post.id

    return make


@pytest.fixture
def fetch(app):
    """Run a SELECT in a fresh app context: what is in the database now."""

    def run(stmt):
        with app.app_context():
            return db.session.execute(stmt).all()

    return run


@pytest.fixture
def get_user(app):
    def get(user_id):
        with app.app_context():
            return db.session.get(User, user_id)

    return get


@pytest.fixture
def find_user(app):
    def find(username):
        with app.app_context():
            return db.session.scalar(select(User).where(User.username == username))

    return find


CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client, url):
    """The token from the form at url, as a browser would have it."""
    html = client.get(url).get_data(as_text=True)
    match = CSRF_INPUT.search(html)
    assert match, f"no CSRF token in the form at {url}"
    return match.group(1)


@pytest.fixture
def submit(client):
    """Fill in and submit a form the way a browser does: GET the page, POST with its token."""

    def post(url, data, form_url=None):
        token = csrf_token(client, form_url or url)
        return client.post(url, data={**data, "csrf_token": token})

    return post


def flashed(response_or_client):
    """The flashed messages waiting in the client's session."""
    with response_or_client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


# A migrated SQLite file for the operations commands (tests/file_app.py).
from .file_app import file_app  # noqa: E402, F401
