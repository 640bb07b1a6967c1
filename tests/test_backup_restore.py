"""flask backup and flask restore on a real SQLite file, also while the app writes."""

import sqlite3
import threading
import time

from myapp.extensions import db
from myapp.models import User

from .conftest import sqlite_only
from .file_app import add_users

pytestmark = sqlite_only


def usernames(path):
    conn = sqlite3.connect(path)
    try:
        return {name for (name,) in conn.execute("SELECT username FROM users")}
    finally:
        conn.close()


def served_usernames(app):
    """What the app itself sees now, through its own pooled connections."""
    with app.app_context():
        return set(db.session.scalars(db.select(User.username)))


def test_backup_copies_the_database_and_checks_it(file_app, tmp_path):
    add_users(file_app, "alice", "bob", posts=2)
    dest = tmp_path / "backup.db"
    result = file_app.test_cli_runner().invoke(args=["backup", str(dest)])
    assert result.exit_code == 0, result.output
    assert "integrity_check: ok" in result.output and "2 users, 4 posts" in result.output
    assert usernames(dest) == {"alice", "bob"}
    conn = sqlite3.connect(dest)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    conn.close()


def test_backup_refuses_to_overwrite_without_force(file_app, tmp_path):
    add_users(file_app, "alice")
    dest = tmp_path / "backup.db"
    dest.write_bytes(b"precious")
    runner = file_app.test_cli_runner()
    result = runner.invoke(args=["backup", str(dest)])
    assert result.exit_code != 0
    assert "exists; add --force" in result.output
    assert dest.read_bytes() == b"precious"
    result = runner.invoke(args=["backup", "--force", str(dest)])
    assert result.exit_code == 0, result.output
    assert usernames(dest) == {"alice"}


def test_backup_during_writes_holds_every_row_acknowledged_before_it(file_app, tmp_path):
    acknowledged, stop = [], threading.Event()

    def writer(k):
        i = 0
        while not stop.is_set():
            name = f"w{k}_{i}"
            add_users(file_app, name, posts=1)
            acknowledged.append(name)  # the commit returned: this write was acknowledged
            i += 1

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 10
        while len(acknowledged) < 60 and time.monotonic() < deadline:
            time.sleep(0.01)
        before = set(acknowledged)
        result = file_app.test_cli_runner().invoke(args=["backup", str(tmp_path / "hot.db")])
        written_during = len(acknowledged) - len(before)
        time.sleep(0.2)  # writes go on after the backup too
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert result.exit_code == 0, result.output
    assert len(before) >= 60
    copy = usernames(tmp_path / "hot.db")
    assert before <= copy
    assert len(acknowledged) > len(before), "the writers were not running during the backup"
    # One consistent moment: the kept counts agree with the rows (a torn copy would disagree).
    conn = sqlite3.connect(tmp_path / "hot.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    kept = dict(conn.execute("SELECT name, n FROM row_counts"))
    assert kept["users"] == len(copy) == conn.execute("SELECT count(*) FROM posts").fetchone()[0]
    conn.close()
    print(f"backup during writes: {len(before)} rows before, {written_during} written during it")


def test_restore_refuses_garbage_and_leaves_the_live_database_alone(file_app, tmp_path):
    add_users(file_app, "alice")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    result = file_app.test_cli_runner().invoke(args=["restore", str(garbage)])
    assert result.exit_code != 0
    assert "the live database is untouched" in result.output
    assert served_usernames(file_app) == {"alice"}
    assert not list(tmp_path.glob("*.before-restore-*"))


def test_restore_refuses_a_database_of_another_schema(file_app, tmp_path):
    add_users(file_app, "alice")
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    conn.commit()
    conn.close()
    result = file_app.test_cli_runner().invoke(args=["restore", str(other)])
    assert result.exit_code != 0
    # The first five problems are listed, tables in name order.
    assert "table api_tokens is missing" in result.output
    assert served_usernames(file_app) == {"alice"}


def test_restore_brings_back_the_backup_and_keeps_the_replaced_database(file_app, tmp_path):
    add_users(file_app, "alice", "bob")
    runner = file_app.test_cli_runner()
    assert runner.invoke(args=["backup", str(tmp_path / "backup.db")]).exit_code == 0
    add_users(file_app, "carol")
    assert served_usernames(file_app) == {"alice", "bob", "carol"}  # the pool now holds connections

    result = runner.invoke(args=["restore", str(tmp_path / "backup.db")])
    assert result.exit_code == 0, result.output
    assert "No restart needed" in result.output
    # The running app sees the backup's data through the connections it already had.
    assert served_usernames(file_app) == {"alice", "bob"}
    (kept,) = tmp_path.glob("app.db.before-restore-*")
    assert f"Kept the replaced database as {kept}" in result.output
    assert usernames(kept) == {"alice", "bob", "carol"}
    # And it is writable as before: the restored file is still the app's database.
    add_users(file_app, "dave")
    assert usernames(file_app.config["DB_PATH"]) == {"alice", "bob", "dave"}
