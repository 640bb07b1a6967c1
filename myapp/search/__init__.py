"""Substring search through an index (SPEC §14): the index itself (index.py) and how ?q= uses it
(match.py). SQLite: FTS5 tables with the trigram tokenizer; PostgreSQL: pg_trgm GIN indexes."""

from . import index  # noqa: F401 - registers the DDL events that the tests' create_all runs
