"""Migration 0003 on a SQLite file that holds data: AUTOINCREMENT without losing a post or an
index; and flask restore's summary entry."""

import sqlite3

import flask_migrate
import pytest
from sqlalchemy import select

from myapp.extensions import db
from myapp.models import HistoryEntry

from .conftest import sqlite_only
from .file_app import add_users, make_file_app
from .test_migrations import SQLITE_EXPRESSION_INDEX_WARNINGS

pytestmark = sqlite_only

# Every index of the head revision (0006 replaced the one-column sort indexes with ones ending in the id).
INDEXES = {
    "users": {
        "uq_users_username_lower",
        "uq_users_email_lower",
        "ix_users_created_at_id",
        "ix_users_post_count_id",
        "ix_users_role",
    },
    "posts": {
        "ix_posts_title_lower_id",
        "ix_posts_created_at_id",
        "ix_posts_user_id",
        "ix_posts_user_id_created_at_id",
    },
}


def connect(path):
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = ON")  # as the app's connections run
    return conn


def indexes(conn, table):
    return {
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,)
        )
        if not name.startswith("sqlite_")
    }


@pytest.mark.filterwarnings(*SQLITE_EXPRESSION_INDEX_WARNINGS)
def test_upgrade_from_0002_keeps_every_row_and_index_and_ids_are_not_reused(tmp_path):
    path = tmp_path / "old.db"
    app = make_file_app(path, upgrade=False)
    with app.app_context():
        flask_migrate.upgrade(revision="0002")
    conn = connect(path)
    stamp = "2026-01-01 00:00:00"
    for n in range(1, 4):
        conn.execute(
            "INSERT INTO users (username, email, post_count, version, created_at, updated_at) "
            "VALUES (?, ?, 2, 1, ?, ?)",
            (f"user{n}", f"user{n}@example.com", stamp, stamp),
        )
        for k in range(2):
            conn.execute(
                "INSERT INTO posts (title, body, user_id, version, created_at, updated_at) "
                "VALUES (?, '', ?, 1, ?, ?)",
                (f"post {n}.{k}", n, stamp, stamp),
            )
    conn.execute("UPDATE row_counts SET n = CASE name WHEN 'users' THEN 3 ELSE 6 END")
    conn.commit()
    before = conn.execute("SELECT * FROM posts ORDER BY id").fetchall()
    users_before = conn.execute("SELECT id, username, email, role FROM users ORDER BY id").fetchall()
    conn.close()

    with app.app_context():
        flask_migrate.upgrade()
    conn = connect(path)
    assert conn.execute("SELECT * FROM posts ORDER BY id").fetchall() == before  # no post cascaded away
    assert conn.execute("SELECT id, username, email, role FROM users ORDER BY id").fetchall() == users_before
    for table, names in INDEXES.items():
        assert indexes(conn, table) == names
        assert (
            "AUTOINCREMENT"
            in conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        )
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        conn.execute(
            "INSERT INTO users (username, email, created_at, updated_at) VALUES ('USER1', 'x@y.z', ?, ?)",
            (stamp, stamp),
        )

    # Delete the highest ids; the next rows get new ones.
    conn.execute("DELETE FROM users WHERE id = 3")  # and its posts 5, 6 by cascade
    conn.execute(
        "INSERT INTO users (username, email, created_at, updated_at) VALUES ('new', 'n@x.y', ?, ?)",
        (stamp, stamp),
    )
    conn.execute(
        "INSERT INTO posts (title, user_id, created_at, updated_at) VALUES ('new', 1, ?, ?)", (stamp, stamp)
    )
    assert conn.execute("SELECT max(id) FROM users").fetchone()[0] == 4
    assert conn.execute("SELECT max(id) FROM posts").fetchone()[0] == 7
    conn.close()

    result = app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.engine.dispose()


def test_flask_restore_writes_one_summary_entry(file_app, tmp_path):
    add_users(file_app, "alice", posts=2)
    runner = file_app.test_cli_runner()
    backup = tmp_path / "backup.db"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    add_users(file_app, "bob")
    result = runner.invoke(args=["restore", str(backup)])
    assert result.exit_code == 0, result.output
    with file_app.app_context():
        entries = db.session.scalars(select(HistoryEntry).order_by(HistoryEntry.id)).all()
        # The backup's history (alice and her posts), then the restore; bob's entry went with bob.
        assert [(e.action, e.kind) for e in entries] == [
            ("create", "user"),
            ("create", "post"),
            ("create", "post"),
            ("restore", "database"),
        ]
        assert entries[-1].note == "database restored from the backup backup.db (1 user, 2 posts)"
        assert entries[-1].actor_name == "command line"
