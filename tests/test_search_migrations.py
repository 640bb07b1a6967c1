"""The search index after `flask db upgrade` from every revision with data present, after
`flask restore`, and with nothing for autogenerate to drop."""

import pytest
from flask import has_app_context
from sqlalchemy import text

from myapp.extensions import db

from .conftest import ON_POSTGRES
from .file_app import add_users
from .test_migrations import SQLITE_EXPRESSION_INDEX_WARNINGS, empty_app  # noqa: F401 - a fixture

STAMP = "2026-01-01 00:00:00"


@pytest.fixture
def migrating_app(empty_app):  # noqa: F811 - the fixture imported above
    return empty_app


def names(client, q, kind="users"):
    if has_app_context():
        # migrating_app's context outlives the requests here (it would not in a deployment): end
        # its session, so that the request reads what is committed now, not an older snapshot.
        db.session.remove()
    key = "username" if kind == "users" else "title"
    response = client.get(f"/api/{kind}", query_string={"q": q})
    assert response.status_code == 200
    return sorted(item[key] for item in response.get_json()["items"])


def add_old_rows(connection):
    """A user and a post in the columns every revision since 0001 has."""
    connection.execute(
        text(
            "INSERT INTO users (username, email, post_count, version, created_at, updated_at) "
            "VALUES ('olduser', 'old.mailbox@example.com', 1, 1, :t, :t)"
        ),
        {"t": STAMP},
    )
    user_id = connection.execute(text("SELECT id FROM users WHERE username = 'olduser'")).scalar()
    connection.execute(
        text(
            "INSERT INTO posts (title, body, user_id, version, created_at, updated_at) "
            "VALUES ('An ancient title', '', :u, 1, :t, :t)"
        ),
        {"u": user_id, "t": STAMP},
    )
    connection.execute(text("UPDATE row_counts SET n = 1"))


def fts_integrity_check(connection):
    for fts in ("users_fts", "posts_fts"):
        connection.exec_driver_sql(f"INSERT INTO {fts}({fts}, rank) VALUES ('integrity-check', 1)")


@pytest.mark.filterwarnings(*SQLITE_EXPRESSION_INDEX_WARNINGS)
@pytest.mark.parametrize("start", ["base", "0001", "0002", "0003", "0004", "0005"])
def test_upgrade_from_every_revision_leaves_search_working(migrating_app, start):
    runner = migrating_app.test_cli_runner()
    if start != "base":
        result = runner.invoke(args=["db", "upgrade", start])
        assert result.exit_code == 0, result.output
        # Before 0004 there is no data version to add to: this commit leaves it alone.
        with db.engine.connect().execution_options(data_version=False) as connection, connection.begin():
            add_old_rows(connection)
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["db", "check"])  # autogenerate finds nothing to add or drop
    assert result.exit_code == 0, result.output

    migrating_app.config["READ_ACCESS"] = "public"
    client = migrating_app.test_client()
    old = [] if start == "base" else ["olduser"]
    assert names(client, "OLDUS") == old
    assert names(client, "ancient", "posts") == ([] if start == "base" else ["An ancient title"])
    # The triggers are there: rows written after the upgrade are found, renamed ones by the new name.
    with db.engine.begin() as connection:
        add_users_sql = (
            "INSERT INTO users (username, email, post_count, version, created_at, updated_at) "
            "VALUES ('newcomer', 'new@example.com', 0, 1, :t, :t)"
        )
        connection.execute(text(add_users_sql), {"t": STAMP})
        connection.execute(text("UPDATE users SET username = 'renamed' WHERE username = 'olduser'"))
    assert names(client, "newcom") == ["newcomer"]
    assert names(client, "oldus") == []
    assert names(client, "renam") == ([] if start == "base" else ["renamed"])
    if not ON_POSTGRES:
        with db.engine.begin() as connection:
            fts_integrity_check(connection)


@pytest.mark.filterwarnings(*SQLITE_EXPRESSION_INDEX_WARNINGS)
def test_downgrade_drops_the_index_and_upgrade_brings_it_back(migrating_app):
    runner = migrating_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0004"]).exit_code == 0
    with db.engine.begin() as connection:
        add_old_rows(connection)
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    result = runner.invoke(args=["db", "downgrade", "0004"])
    assert result.exit_code == 0, result.output
    with db.engine.connect() as connection:
        if ON_POSTGRES:
            found = "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%trgm'"
        else:
            found = "SELECT name FROM sqlite_master WHERE name LIKE '%fts%'"
        assert connection.execute(text(found)).all() == []
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    migrating_app.config["READ_ACCESS"] = "public"
    assert names(migrating_app.test_client(), "olduse") == ["olduser"]


@pytest.mark.skipif(ON_POSTGRES, reason="flask restore copies SQLite files")
def test_restore_then_search(file_app, tmp_path):
    add_users(file_app, "keepme", posts=1)
    runner = file_app.test_cli_runner()
    backup = tmp_path / "backup.db"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    add_users(file_app, "latecomer", posts=1)
    result = runner.invoke(args=["restore", str(backup)])
    assert result.exit_code == 0, result.output
    file_app.config["READ_ACCESS"] = "public"
    client = file_app.test_client()
    assert names(client, "keepm") == ["keepme"]
    assert names(client, "latecom") == []
    assert names(client, "keepme 0", "posts") == ["keepme 0"]
    add_users(file_app, "afterwards")  # the restored file's triggers keep the index going
    assert names(client, "afterw") == ["afterwards"]
    with file_app.app_context(), db.engine.begin() as connection:
        fts_integrity_check(connection)
