"""Browser fixtures: the real app on 127.0.0.1, headless Chromium, and a page that records trouble.

One server and one browser serve the whole session (starting them is the slow part); each test gets
an emptied database holding one admin account, and a fresh browser context (no cookies left over
from another test). Every page needs a signed-in account (READ_ACCESS=signed-in), so the
`visitor` and `any_visitor` people sign in as that admin through the real /login form;
`anonymous_visitor` does not sign in, and `people` opens more, as any account.
"""

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import delete, update
from werkzeug.serving import make_server

import config as app_config
from myapp import create_app
from myapp.auth.passwords import hash_password
from myapp.extensions import db
from myapp.models import ApiToken, HistoryEntry, PageCount, Post, RowCount, SignInFailure, User

from ..conftest import ON_POSTGRES
from .visitor import SCREENSHOTS, Visitor

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Playwright's own browser download cannot work here; Debian's Chromium can. The networking flags
# keep it from calling home (updates, sync, safe browsing) on a machine with no outside network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Every module here sets pytestmark = BROWSER_TEST: one server on a SQLite file serves them, so a
# PostgreSQL run skips them; they start processes, so they are slow ones.
BROWSER_TEST = [
    pytest.mark.skipif(ON_POSTGRES, reason="browser tests run on SQLite only; this run is on PostgreSQL"),
    pytest.mark.slow,
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# The admin account every test starts with: (username, password). Made for the tests, never a default.
ADMIN = ("root", "root's long test passphrase")
ADMIN_EMAIL = "root@example.com"


def live_server_config(database_url):
    """Testing settings on a SQLite file, with errors handled as in production (a 500 page)."""

    class LiveServerConfig(app_config.TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        PROPAGATE_EXCEPTIONS = False

    return LiveServerConfig


def require_chromium():
    """Skip without Chromium, except in CI, where a missing browser must fail the build."""
    if os.path.exists(CHROMIUM):
        return
    message = f"Chromium not found at {CHROMIUM}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; .ci/run installs it with apt-get", pytrace=False)
    pytest.skip(f"{message}: install it with `apt-get install chromium` to run the browser tests")


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The app on a SQLite file made by `flask db upgrade`, as an operator would make it."""
    if ON_POSTGRES:
        pytest.skip("browser tests run on SQLite only")
    require_chromium()
    root = tmp_path_factory.mktemp("live")
    database_url = f"sqlite:///{root / 'browser.db'}"
    # The operator's command in its own process: the real migrations, and Alembic's logging setup
    # stays out of this test process.
    instance = str(root / "instance")
    env = {**os.environ, "APP_CONFIG": "production", "DATABASE_URL": database_url, "INSTANCE_PATH": instance}
    upgrade = [sys.executable, "-m", "flask", "db", "upgrade"]
    done = subprocess.run(upgrade, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"flask db upgrade failed:\n{done.stdout}{done.stderr}", pytrace=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INSTANCE_PATH", instance)
        app = create_app(live_server_config(database_url))

    @app.get("/_test/boom")
    def boom():
        raise RuntimeError("a deliberate failure, to show the 500 page")

    yield app
    with app.app_context():
        db.engine.dispose()


def whole_bodies(app):
    """app with each response body read whole (and its iterable closed) before werkzeug sends it.

    When the browser drops a connection mid-answer (it gives up on a favicon it has already
    cached), werkzeug's development server can skip closing the response iterable, and a static
    file's handle is left for the garbage collector: a ResourceWarning that pytest turns into a
    failure of whichever test runs then. Gunicorn, which serves the app for real, closes it.
    """

    def serve(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return serve


@pytest.fixture(scope="session")
def base_url(live_app):
    """A threaded werkzeug server on a free port of 127.0.0.1, for the whole session."""
    server = make_server("127.0.0.1", 0, whole_bodies(live_app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture(scope="session")
def browser(base_url):
    from playwright.sync_api import sync_playwright

    shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # this run's pictures only
    SCREENSHOTS.mkdir(parents=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def empty_database(live_app):
    """Each browser test starts from a database holding only the admin ADMIN (the server lives for
    the session); returns the admin's id. No tokens and no failed sign-ins are left over either,
    so one test's wrong passwords cannot lock out the next test's sign-in."""
    with live_app.app_context():
        db.session.execute(delete(ApiToken))
        db.session.execute(delete(SignInFailure))
        db.session.execute(delete(Post))
        db.session.execute(delete(User))
        db.session.execute(update(RowCount).values(n=0))
        db.session.execute(delete(PageCount))  # the counts per sort-key prefix, also kept
        db.session.flush()
        db.session.execute(delete(HistoryEntry))  # after the deletes above, which it records
        username, password = ADMIN
        admin = User(username=username, email=ADMIN_EMAIL, role="admin")
        admin.password_hash = hash_password(password)
        db.session.add(admin)  # an ORM insert: the kept users count becomes 1
        db.session.commit()
        return admin.id


@pytest.fixture
def public_reads(live_app):
    """READ_ACCESS=public for this test: anonymous visitors may read (without email addresses)."""
    before = live_app.config["READ_ACCESS"]
    live_app.config["READ_ACCESS"] = "public"
    yield
    live_app.config["READ_ACCESS"] = before


@pytest.fixture
def add_account(live_app):
    """add_account(username, password, role="member"): a user who can sign in; returns the id."""

    def add(username, password, role="member"):
        with live_app.app_context():
            user = User(username=username, email=f"{username}@example.com", role=role)
            user.password_hash = hash_password(password)
            db.session.add(user)
            db.session.commit()
            return user.id

    return add


@pytest.fixture
def seed(live_app):
    """Add users (and n posts each) through the ORM; returns their ids."""

    def add(*users):
        with live_app.app_context():
            rows = []
            for username, email, posts in users:
                user = User(username=username, email=email)
                user.posts = [Post(title=f"Post {i + 1} by {username}", body="") for i in range(posts)]
                rows.append(user)
            db.session.add_all(rows)
            db.session.commit()
            return [user.id for user in rows]

    return add


def open_visitor(browser, base_url, size_name):
    viewport = DESKTOP if size_name == "desktop" else PHONE
    context = browser.new_context(viewport=viewport, is_mobile=size_name == "phone", has_touch=False)
    context.set_default_timeout(5000)  # a missing element fails fast instead of after 30 s
    return context, Visitor(context.new_page(), base_url, size_name, viewport)


@pytest.fixture
def people(browser, base_url):
    """people(size_name="desktop", account=ADMIN): a person in a fresh context, signed in through
    the sign-in form as account=(username, password), or anonymous with account=None. Every one of
    them fails the test on a console error."""
    opened = []

    def open_person(size_name="desktop", account=ADMIN):
        context, person = open_visitor(browser, base_url, size_name)
        opened.append((context, person))
        if account is not None:
            person.sign_in(*account)
        return person

    yield open_person
    for context, _person in opened:
        context.close()
    assert [error for _context, person in opened for error in person.unexpected_console_errors()] == []


@pytest.fixture
def visitor(people):
    """A desktop visitor (1280 px) signed in as the admin; fails the test on any console error."""
    return people("desktop")


@pytest.fixture(params=["desktop", "phone"])
def any_visitor(request, people):
    """The admin's visit at desktop width and at phone width (390 px)."""
    return people(request.param)


@pytest.fixture
def anonymous_visitor(people):
    """A desktop visitor who has not signed in."""
    return people("desktop", account=None)
