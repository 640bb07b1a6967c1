"""Fixtures: a fresh app and database per test, a client, a CLI runner, and data makers.

No app context is held open for the whole test: each block that touches the database pushes
its own, as a request would.
"""

import os
import re

import pytest
from sqlalchemy import select

from myapp import create_app
from myapp.auth import tokens
from myapp.auth.passwords import hash_password
from myapp.database import write_intent
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


ADMIN = "root"
# The `client` fixture's admin is a user like any other; assertions about the rows a test made
# leave it out with this.
NOT_ADMIN = User.username != ADMIN
PASSWORD_SUFFIX = " long passphrase"


def password_for(username):
    """The test password of an account made by make_account (never a real default)."""
    return username + PASSWORD_SUFFIX


def add_account(app, username, role="member", email=None):
    """Add a user who can sign in and return its id; its password is password_for(username)."""
    with app.app_context(), write_intent():
        user = User(
            username=username,
            email=email or f"{username}@example.com",
            role=role,
            password_hash=hash_password(password_for(username)),
        )
        db.session.add(user)
        db.session.commit()
        return user.id


@pytest.fixture
def make_account(app):
    """add_account on the test's app: make_account("bea") is a member, role="admin" an admin."""
    return lambda username, role="member", email=None: add_account(app, username, role, email)


def signed_in_client(app, user_id, token=True):
    """A test client signed in as user_id, and sending a bearer token of theirs on every request."""
    client = app.test_client()
    sign_in(app, client, user_id)
    if token:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {new_token(app, user_id)}"
    return client


def admin_client(app):
    """For apps a test makes itself (files, servers): an admin's client, as the `client` fixture."""
    return signed_in_client(app, add_account(app, ADMIN, role="admin"))


def sign_in(app, client, user_id):
    """Put user_id's session in the client's cookie, as /login would (tests/test_auth_* use the form)."""
    with app.app_context():
        session_id = db.session.get(User, user_id).get_id()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True


def new_token(app, user_id, name="tests", expires_days=None):
    with app.app_context(), write_intent():
        _row, token = tokens.issue(db.session.get(User, user_id), name, expires_days)
        db.session.commit()
    return token


@pytest.fixture
def client_for(app):
    """signed_in_client on the test's app."""
    return lambda user_id, token=True: signed_in_client(app, user_id, token)


@pytest.fixture
def admin_id(make_account):
    return make_account(ADMIN, role="admin")


@pytest.fixture
def client(client_for, admin_id):
    """An admin, signed in and with a token: may do everything, through pages and the API."""
    return client_for(admin_id)


@pytest.fixture
def anon_client(app):
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
