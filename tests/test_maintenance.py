"""flask vacuum and flask check-db, and what the SQLite tools say on PostgreSQL."""

import sqlite3

import pytest
from sqlalchemy import text

from myapp import create_app
from myapp.extensions import db

from .conftest import sqlite_only
from .file_app import add_users


def test_check_db_passes_on_a_sound_database(app, runner, make_user):
    make_user("alice", posts=2)
    result = runner.invoke(args=["check-db"])
    assert result.exit_code == 0, result.output
    assert "kept counts match the rows: ok" in result.output
    assert "The database is sound." in result.output


def test_check_db_reports_counts_that_disagree_with_the_rows(app, runner, make_user):
    user_id = make_user("alice", posts=2)
    with app.app_context():
        db.session.execute(text("UPDATE users SET post_count = 5 WHERE id = :id"), {"id": user_id})
        # The total is the sum of its shards (myapp/counters.py): 7 in the first, none in the others.
        db.session.execute(
            text(
                "UPDATE row_counts SET n = CASE name WHEN 'posts' THEN 7 ELSE 0 END WHERE name LIKE 'posts%'"
            )
        )
        db.session.commit()
    result = runner.invoke(args=["check-db"])
    assert result.exit_code != 0
    assert f"user {user_id} has post_count 5, but 2 posts" in result.output
    assert "row_counts says 7 posts, the table has 2" in result.output
    assert "failed a check" in result.output


@sqlite_only
def test_check_db_finds_a_broken_foreign_key(file_app):
    add_users(file_app, "alice")
    conn = sqlite3.connect(file_app.config["DB_PATH"])  # foreign_keys is off in a plain connection
    conn.execute(
        "INSERT INTO posts (title, body, user_id, version, created_at, updated_at) "
        "VALUES ('orphan', '', 999, 1, '2024-01-01', '2024-01-01')"
    )
    conn.commit()
    conn.close()
    result = file_app.test_cli_runner().invoke(args=["check-db"])
    assert result.exit_code != 0
    assert "integrity_check and foreign_key_check: FAILED" in result.output
    assert "posts row 1 points to a missing row in users" in result.output


@sqlite_only
def test_vacuum_gives_back_the_space_of_deleted_rows(file_app):
    add_users(file_app, *(f"user{i}" for i in range(300)), posts=3)
    with file_app.app_context():
        db.session.execute(text("DELETE FROM posts"))
        db.session.commit()
    runner = file_app.test_cli_runner()
    path = file_app.config["DB_PATH"]
    assert runner.invoke(args=["check-db"]).exit_code != 0  # the raw DELETE left the counts behind
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = path.stat().st_size
    result = runner.invoke(args=["vacuum"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Vacuumed {path}:")
    assert path.stat().st_size < before


@pytest.mark.parametrize(
    ("command", "hint"), [("backup", "pg_dump"), ("restore", "pg_restore"), ("vacuum", "autovacuum")]
)
def test_sqlite_tools_say_so_on_postgresql(tmp_path, monkeypatch, command, hint):
    # The engine is made but never connected: the command must stop before touching the database.
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("TEST_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    app = create_app("testing")
    src = tmp_path / "some.db"
    src.write_bytes(b"x")
    args = {"backup": [str(tmp_path / "out.db")], "restore": [str(src)], "vacuum": []}[command]
    result = app.test_cli_runner().invoke(args=[command, *args])
    assert result.exit_code != 0
    assert f"flask {command} is a SQLite tool and this app runs on postgresql" in result.output
    assert hint in result.output
    assert not (tmp_path / "out.db").exists()
    with app.app_context():
        db.engine.dispose()
