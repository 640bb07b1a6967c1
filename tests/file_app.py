"""Apps on a real SQLite file with the schema made by the migrations (commands and settings work on
files, not on in-memory databases), for tests and for the worker processes they start."""

import flask_migrate
import pytest

from config import TestingConfig
from myapp import create_app
from myapp.database import write_intent
from myapp.extensions import db
from myapp.models import Post, User

from .procs import migrated_database


def file_config(path, **settings):
    """A testing config whose database is the SQLite file at path."""
    return type(
        "FileTestingConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", **settings}
    )


def make_file_app(path, upgrade=True, **settings):
    app = create_app(file_config(path, **settings))
    if upgrade:
        with app.app_context():
            flask_migrate.upgrade()
    return app


@pytest.fixture
def file_app(tmp_path, monkeypatch):
    path = migrated_database(tmp_path)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("TEST_DATABASE_URL", f"sqlite:///{path}")
    app = create_app("testing")
    app.config["DB_PATH"] = path
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def snapshot_app_over(file_app, monkeypatch, **env):
    """A snapshot-mode app (APP_CONFIG=snapshot) serving a copy of file_app's database, with these
    environment settings; a generator for a fixture to yield from (it disposes of the app after)."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{file_app.config['DB_PATH']}")
    monkeypatch.setenv("SECRET_KEY", "snapshot-test-key-" + "k" * 32)  # production wants 32 or more
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = create_app("snapshot")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def add_users(app, *names, posts=0):
    """Add users (and posts each) in one committed transaction, as a view would."""
    with app.app_context(), write_intent():
        for name in names:
            user = User(username=name, email=f"{name}@example.com")
            db.session.add(user)
            db.session.add_all(Post(title=f"{name} {i}", author=user) for i in range(posts))
        db.session.commit()
