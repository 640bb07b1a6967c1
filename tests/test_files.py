"""SPEC §12 Files: a private instance folder and database files; backups never follow a link."""

import os
import sqlite3
import stat

import pytest

from myapp import create_app
from myapp.extensions import db

from .conftest import sqlite_only
from .file_app import add_users, make_file_app


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def usual_umask():
    old = os.umask(0o022)  # what a service manager or a login shell gives
    yield
    os.umask(old)


def test_the_instance_folder_is_created_0700_and_the_key_file_0600(monkeypatch, tmp_path):
    instance = tmp_path / "new" / "instance"
    monkeypatch.setenv("INSTANCE_PATH", str(instance))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    create_app("production")
    assert mode(instance) == 0o700
    assert mode(instance / "secret_key") == 0o600


@sqlite_only
def test_the_database_and_its_wal_and_shm_files_are_0600(monkeypatch, tmp_path):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    path = tmp_path / "data" / "app.db"
    path.parent.mkdir()
    app = make_file_app(path)  # flask db upgrade makes the file
    try:
        add_users(app, "alice", posts=1)
        with app.app_context(), db.engine.connect():  # an open connection keeps -wal and -shm
            names = ["app.db", "app.db-wal", "app.db-shm"]
            assert {p.name for p in path.parent.iterdir()} == set(names)
            assert {name: mode(path.parent / name) for name in names} == dict.fromkeys(names, 0o600)
    finally:
        with app.app_context():
            db.engine.dispose()


@sqlite_only
def test_the_default_database_in_the_instance_folder_is_0600(monkeypatch, tmp_path):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app("production")
    with app.app_context():
        db.session.execute(db.text("CREATE TABLE t (x)"))
        db.session.commit()
        assert mode(tmp_path / "instance" / "app.db") == 0o600
        assert mode(tmp_path / "instance" / "app.db-wal") == 0o600
        db.engine.dispose()


@sqlite_only
def test_an_existing_world_readable_database_is_made_private_at_start(monkeypatch, tmp_path):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    path = tmp_path / "app.db"
    sqlite3.connect(path).close()
    os.chmod(path, 0o644)
    app = make_file_app(path, upgrade=False)
    assert mode(path) == 0o600
    with app.app_context():
        db.engine.dispose()


@sqlite_only
@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("target", ["existing", "dangling", "live"])
def test_backup_refuses_a_symbolic_link_dangling_or_not(file_app, tmp_path, force, target):
    add_users(file_app, "alice")
    victim = {
        "existing": tmp_path / "precious.txt",
        "dangling": tmp_path / "nothing-here-yet",
        "live": file_app.config["DB_PATH"],
    }[target]
    if target == "existing":
        victim.write_bytes(b"precious")
    before = victim.read_bytes() if victim.exists() else None
    link = tmp_path / "backup.db"
    link.symlink_to(victim)
    result = file_app.test_cli_runner().invoke(args=["backup", *(["--force"] if force else []), str(link)])
    assert result.exit_code != 0
    assert "is a symbolic link" in result.output
    assert link.is_symlink() and os.readlink(link) == str(victim)
    assert (victim.read_bytes() if victim.exists() else None) == before
    assert not list(tmp_path.glob(".backup.db.*"))


@sqlite_only
def test_backup_writes_the_file_0600(file_app, tmp_path):
    add_users(file_app, "alice")
    result = file_app.test_cli_runner().invoke(args=["backup", str(tmp_path / "b.db")])
    assert result.exit_code == 0, result.output
    assert mode(tmp_path / "b.db") == 0o600
