"""Alembic environment for Flask-Migrate: the app's own engine and metadata, batch mode for SQLite."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy import inspect

from myapp.data_version import new_epoch
from myapp.search import index as search_index

config = context.config
# `-x quiet=1` (the schema check's scratch database, myapp/commands/schema_check.py) leaves the
# caller's logging alone, so `flask restore` does not print migrations it did not run on your data.
if not context.get_x_argument(as_dictionary=True).get("quiet"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

migrate_ext = current_app.extensions["migrate"]
target_metadata = migrate_ext.db.metadata


# The search index (myapp/search/index.py) is not in the models' metadata on SQLite: its FTS5 tables
# and their shadow tables (users_fts_data, _idx, _docsize, _config) are left out of autogenerate's
# comparison, or `flask db migrate` / `flask db check` would want them dropped. The PostgreSQL-only
# trigram indexes (Index.ddl_if, which Alembic ignores) are compared only on PostgreSQL.
#
# SQLite batch migrations of users or posts (recreate='always', or any change SQLite cannot ALTER)
# rebuild the table, and the rebuild drops its triggers without a word, FTS ones included: such a
# migration must end with search_index.create_triggers(op.get_bind(), "users") / "posts" (and
# search_index.rebuild() if it changed searched text meanwhile), as migration 0005 made them.
SEARCH_TABLES = search_index.fts_table_names()


def include_name(name, type_, parent_names):
    return not (type_ == "table" and name in SEARCH_TABLES)


def include_object(obj, name, type_, reflected, compare_to):
    dialect_only = getattr(obj, "_ddl_if", None)
    if dialect_only is not None and dialect_only.dialect:
        return context.get_context().dialect.name == dialect_only.dialect
    return True


def engine():
    return migrate_ext.db.engine  # Flask-SQLAlchemy 3: the app's engine, with its SQLite settings


def run_migrations_offline():
    """Emit SQL to stdout instead of running it (`flask db upgrade --sql`)."""
    url = engine().url.render_as_string(hide_password=False)
    context.configure(
        url=url, target_metadata=target_metadata, literal_binds=True, **migrate_ext.configure_args
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def process_revision_directives(context, revision, directives):
        # `flask db migrate` with no changes writes no empty revision file.
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(migrate_ext.configure_args)
    conf_args.setdefault("include_name", include_name)
    conf_args.setdefault("include_object", include_object)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    with engine().connect() as connection:
        # The data version's commit hook (myapp/data_version.py) stays off here: before 0004 its
        # table does not exist. A migration may change what pages show, so the run ends by giving
        # the data a new epoch instead (new_data_epoch below).
        connection.execution_options(data_version=False)
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # One transaction for the whole run (SQLite's DDL is transactional), with foreign keys
            # off: rebuilding a table drops the old one, which with foreign_keys=ON would delete
            # every row that references it (ON DELETE CASCADE).
            conf_args["transactional_ddl"] = True
            set_foreign_keys(connection, False)
        try:
            context.configure(connection=connection, target_metadata=target_metadata, **conf_args)
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    check_foreign_keys(connection)  # raising here rolls the whole run back
                new_data_epoch(connection)
        finally:
            if sqlite:
                set_foreign_keys(connection, True)


def set_foreign_keys(connection, on):
    # PRAGMA foreign_keys changes nothing inside a transaction, and SQLAlchemy would begin one
    # (the app's BEGIN) before any statement it runs: send it on the driver's connection, which
    # is in autocommit mode (myapp/database.py), while no transaction is open.
    assert not connection.in_transaction()
    connection.connection.dbapi_connection.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")


def new_data_epoch(connection):
    """No ETag or cached page made before the migrations survives them (when the table exists)."""
    if inspect(connection).has_table("data_versions"):
        new_epoch(connection)


def check_foreign_keys(connection):
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"the migration left rows whose foreign keys point nowhere: {broken[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
