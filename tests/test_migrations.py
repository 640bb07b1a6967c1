"""The migrations build the schema the models describe, and run down and up again."""

import os

import pytest
from sqlalchemy import inspect, text

from myapp import create_app
from myapp.extensions import db

from .conftest import ON_POSTGRES
from .file_app import file_config

# Alembic cannot reflect expression indexes on SQLite and says so; on PostgreSQL it compares them.
SQLITE_EXPRESSION_INDEX_WARNINGS = [
    "ignore:autogenerate skipping metadata-specified expression-based index",
    "ignore:Skipped unsupported reflection of expression-based index",
]


@pytest.fixture
def empty_app(tmp_path, monkeypatch):
    """An app on an empty database: a new SQLite file, or the (emptied) PostgreSQL test database."""
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    config = "testing" if ON_POSTGRES else file_config(tmp_path / "migrated.db")
    app = create_app(config)
    with app.app_context():
        db.drop_all()
        yield app
        db.session.remove()
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()


APP_TABLES = {
    "users",
    "posts",
    "row_counts",
    "page_counts",
    "api_tokens",
    "sign_in_failures",
    "history",
    "data_versions",
}
# On SQLite the search index is an FTS5 table per searched table, with its shadow tables.
SEARCH_TABLES = (
    set()
    if ON_POSTGRES
    else {
        f"{fts}{suffix}"
        for fts in ("users_fts", "posts_fts")
        for suffix in ("", "_data", "_idx", "_docsize", "_config")
    }
)


def tables(app):
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


@pytest.mark.filterwarnings(*SQLITE_EXPRESSION_INDEX_WARNINGS)
def test_upgrade_check_downgrade_upgrade(empty_app):
    runner = empty_app.test_cli_runner()
    assert tables(empty_app) == set()

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert tables(empty_app) == APP_TABLES | SEARCH_TABLES

    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output  # no drift between models and migrations

    result = runner.invoke(args=["db", "downgrade", "base"])
    assert result.exit_code == 0, result.output
    assert tables(empty_app) == set()

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert db.session.execute(text("SELECT name, n FROM row_counts ORDER BY name")).all() == [
        ("posts", 0),
        ("users", 0),
    ]


def index_definitions():
    """{name: definition} of every index, as the database itself spells it (dialect-specific
    indexes, expressions and PostgreSQL's INCLUDE too, which `flask db check` does not compare)."""
    if db.engine.dialect.name == "sqlite":
        rows = db.session.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        )
        return {name: " ".join(sql.split()) for name, sql in rows}
    rows = db.session.execute(
        text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()")
    )
    return {name: definition for name, definition in rows if name != "pk_alembic_version"}


@pytest.mark.filterwarnings(*SQLITE_EXPRESSION_INDEX_WARNINGS)
def test_migrations_make_the_models_indexes(empty_app):
    """The tests build their tables from the models (create_all): they must be the migrated ones."""
    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    migrated = index_definitions()
    db.session.remove()
    assert runner.invoke(args=["db", "downgrade", "base"]).exit_code == 0
    db.create_all()
    assert index_definitions() == migrated
    assert {"ix_users_post_count_id", "ix_posts_title_lower_id", "ix_posts_user_id_created_at_id"} <= set(
        migrated
    )


def test_migrated_schema_enforces_case_insensitive_uniqueness(empty_app):
    assert empty_app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    insert = text(
        "INSERT INTO users (username, email, post_count, version, created_at, updated_at) "
        "VALUES (:u, :e, 0, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    db.session.execute(insert, {"u": "Alice", "e": "a@example.com"})
    with pytest.raises(Exception, match="uq_users_username_lower"):
        db.session.execute(insert, {"u": "aLICE", "e": "b@example.com"})
    db.session.rollback()


def test_no_create_all_outside_tests():
    """The app never builds its schema itself: migrations are the only source."""
    root = os.path.join(os.path.dirname(__file__), "..", "myapp")
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(folder, name)) as f:
                    assert "create_all(" not in f.read(), name
