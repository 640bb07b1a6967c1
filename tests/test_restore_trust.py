"""SPEC §12: `flask restore` takes only a file whose schema is exactly what the migrations make, with
values of the right types and right kept counts (finding 4); `flask check-db` checks the same."""

import hashlib
import sqlite3

import pytest

from .conftest import sqlite_only
from .file_app import add_users

pytestmark = sqlite_only

TAMPERINGS = {
    "a trigger that rewrites emails and copies them away": (
        [
            "CREATE TABLE loot (username TEXT, email TEXT)",
            "CREATE TRIGGER steal AFTER INSERT ON users BEGIN "
            "INSERT INTO loot VALUES (new.username, new.email); "
            "UPDATE users SET email = 'x@attacker.example' WHERE id = new.id; END",
        ],
        "table loot on loot is not made by this app's migrations",
    ),
    "a lone trigger that rewrites emails": (
        [
            "CREATE TRIGGER rewrite AFTER INSERT ON users BEGIN "
            "UPDATE users SET email = 'x@attacker.example' WHERE id = new.id; END"
        ],
        "trigger rewrite on users is not made by this app's migrations",
    ),
    "a trigger that makes every post delete fail": (
        ["CREATE TRIGGER keep BEFORE DELETE ON posts BEGIN SELECT RAISE(ABORT, 'no'); END"],
        "trigger keep on posts is not made",
    ),
    "no unique indexes, and duplicate usernames": (
        [
            "DROP INDEX uq_users_username_lower",
            "DROP INDEX uq_users_email_lower",
            "INSERT INTO users (username, email, post_count, version, created_at, updated_at) "
            "SELECT upper(username), email, 0, 1, created_at, updated_at FROM users",
            "UPDATE row_counts SET n = (SELECT count(*) FROM users) WHERE name = 'users'",
        ],
        "index uq_users_email_lower is missing",
    ),
    "a view": (["CREATE VIEW emails AS SELECT email FROM users"], "view emails on emails is not made"),
    "an extra column": (["ALTER TABLE users ADD COLUMN is_admin INTEGER"], "users differs"),
    "an index of its own": (["CREATE INDEX ix_mine ON posts (body)"], "index ix_mine on posts is not made"),
    "created_at that is not a date": (
        ["UPDATE users SET created_at = 'not a date' WHERE username = 'alice'"],
        "users.created_at has 1 value of wrong type or form",
    ),
    "a date that does not exist": (
        ["UPDATE posts SET updated_at = '2026-02-31 10:00:00.000000'"],
        "posts.updated_at has 2 values of wrong type or form",
    ),
    "a timestamp as a number": (
        ["UPDATE posts SET created_at = 1700000000"],
        "posts.created_at has 2 values of wrong type or form",
    ),
    "a count as text": (
        ["UPDATE users SET post_count = 'many' WHERE username = 'bob'"],
        "users.post_count has 1 value of wrong type or form",
    ),
    "a username as a blob": (
        ["UPDATE users SET username = x'00ff' WHERE username = 'bob'"],
        "users.username has 1 value of wrong type or form",
    ),
    "negative kept counts": (
        ["UPDATE row_counts SET n = -3 WHERE name = 'posts'", "UPDATE users SET post_count = -1"],
        "users.post_count has 2 values of below 0",
    ),
    "kept counts that disagree with the rows": (
        ["UPDATE row_counts SET n = 9 WHERE name = 'users'"],
        "row_counts says 9 users, the table has 2",
    ),
    "post counts that disagree with the rows": (
        ["UPDATE users SET post_count = 5 WHERE username = 'alice'"],
        "1 user with a post_count that is not their number of posts",
    ),
    "another migration stamp": (
        ["UPDATE alembic_version SET version_num = '0000'"],
        "stamped at migration 0000",
    ),
}


def live_bytes(path):
    digests = {}
    for suffix in ("", "-wal"):
        file = path.with_name(path.name + suffix)
        if file.exists():
            digests[suffix] = hashlib.sha256(file.read_bytes()).hexdigest()
    return digests


@pytest.fixture
def backup(file_app, tmp_path):
    add_users(file_app, "alice", "bob", posts=1)
    dest = tmp_path / "backup.db"
    result = file_app.test_cli_runner().invoke(args=["backup", str(dest)])
    assert result.exit_code == 0, result.output
    return dest


def tamper(path, statements):
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.close()


@pytest.mark.parametrize("tampering", TAMPERINGS)
def test_restore_refuses_a_tampered_backup_and_leaves_the_live_file_byte_identical(
    file_app, backup, tmp_path, tampering
):
    statements, reason = TAMPERINGS[tampering]
    tamper(backup, statements)
    add_users(file_app, "carol")
    live = file_app.config["DB_PATH"]
    before = live_bytes(live)
    result = file_app.test_cli_runner().invoke(args=["restore", str(backup)])
    assert result.exit_code != 0
    assert "the live database is untouched" in result.output
    assert reason in result.output, result.output
    assert live_bytes(live) == before
    assert not list(tmp_path.glob("*.before-restore-*"))


def test_an_untampered_backup_still_restores(file_app, backup):
    result = file_app.test_cli_runner().invoke(args=["restore", str(backup)])
    assert result.exit_code == 0, result.output


def test_a_backup_after_analyze_and_vacuum_still_restores(file_app, backup):
    """SQLite's own tables (sqlite_stat1) are not part of the app's schema."""
    tamper(backup, ["ANALYZE", "VACUUM"])
    result = file_app.test_cli_runner().invoke(args=["restore", str(backup)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "tampering", ["a lone trigger that rewrites emails", "an extra column", "created_at that is not a date"]
)
def test_check_db_finds_the_same_on_the_live_database(file_app, tampering):
    add_users(file_app, "alice", "bob", posts=1)
    statements, reason = TAMPERINGS[tampering]
    tamper(file_app.config["DB_PATH"], statements)
    result = file_app.test_cli_runner().invoke(args=["check-db"])
    assert result.exit_code != 0
    assert reason in result.output, result.output


def test_check_db_calls_a_migrated_database_sound(file_app):
    add_users(file_app, "alice", posts=2)
    result = file_app.test_cli_runner().invoke(args=["check-db"])
    assert result.exit_code == 0, result.output
    assert "schema is what the migrations make: ok" in result.output
    assert "values have the right types: ok" in result.output


def test_timestamps_at_the_edges_of_a_second_and_a_month_are_fine(file_app, backup):
    """SQLite's datetime() rounds .9999995 s up: the check must not take that for a bad value."""
    tamper(backup, ["UPDATE users SET created_at = '2026-01-31 23:59:59.999999'"])
    tamper(backup, ["UPDATE posts SET updated_at = '2024-02-29 00:00:00.000000'"])
    result = file_app.test_cli_runner().invoke(args=["restore", str(backup)])
    assert result.exit_code == 0, result.output
